"""Red-team attack on hidden checks: code that crashes (or hangs) only on hidden inputs must not
be told so by the grades given out (grades.csv's note, grades.json's faults), since a student
would read a bit of the hidden inputs back per exercise; the instructor's class report still
names the run that crashed."""

from __future__ import annotations

import csv
import json

import pytest
from test_batch import EX01, copy_solution, grade_batch, recorded

from conftest import write_variant

pytestmark = pytest.mark.slow  # runs a batch

#: The public checks call elu with alpha 1.0 and 0.5 (in a batch, also with the fresh inputs
#: of grader/replay.py: 1.0 kept, 0.5 moved by at most 5 %); the hidden ones with a random
#: alpha (0.805 for this seed), on which this code kills its own process.
CRASHES_ON_HIDDEN = """
def elu(x, alpha=1.0):
    import os
    if alpha != 1.0 and abs(alpha - 0.5) > 0.05:
        os.kill(os.getpid(), 9)
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))
"""


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("hidden-faults")
    submissions = root / "submissions"
    write_variant(submissions / "mallory", EX01, {"elu": CRASHES_ON_HIDDEN})
    copy_solution(submissions / "alice", EX01)
    out = root / "out"
    done = grade_batch(submissions, out, "--exercises", "ex01", "--jobs", "2", "--hidden",
                       "--seed", "s3cret", "--timeout", "5", "--isolation", "none")
    assert done.returncode == 0, done.stderr
    return out


def test_the_grades_do_not_say_a_hidden_check_crashed(batch):
    out = batch
    assert recorded(out)[("mallory", "ex01")]["fault"] == "crashed"  # the gradebook knows
    with (out / "grades.csv").open(newline="") as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    assert rows["mallory"]["note"] == ""
    assert float(rows["mallory"]["ex01"]) < float(rows["alice"]["ex01"])  # the points are lost
    grades = json.loads((out / "grades.json").read_text())
    cell = next(s for s in grades["students"] if s["student"] == "mallory")["exercises"]["ex01"]
    assert cell["fault"] is None and cell["error"] is None
    for name in ("feedback.md", "feedback.html", "results.json", "junit.xml"):
        text = (out / "feedback" / "mallory" / name).read_text()
        assert "crash" not in text.lower(), name


def test_the_class_report_still_names_the_crash(batch):
    from grader.classreport.data import gather

    data = gather(batch)
    assert [(f.student, f.exercise, f.what) for f in data.failures] == [
        ("mallory", "ex01", "crashed")]
