"""What a student receives from a batch with hidden checks shows no timing of them.

A learner's code can encode a hidden input in how long it takes (sleep alpha seconds) and read
it back from any per-check or per-exercise time in its feedback. The four feedback files carry
no time of a hidden check, and their exercise times are those of the visible checks only;
the gradebook, which the instructor's class report reads, keeps every check's time.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from test_batch import EX01, copy_solution, grade_batch, recorded

from conftest import write_variant

pytestmark = pytest.mark.slow  # runs a batch

#: The public checks call elu with alpha 1.0 and 0.5; the hidden ones with a random alpha,
#: which this code turns into a delay.
LEAKY_ELU = """
def elu(x, alpha=1.0):
    import time
    if alpha not in (1.0, 0.5):
        time.sleep(alpha / 4)
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))
"""


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("hidden-timings")
    submissions = root / "submissions"
    write_variant(submissions / "mallory", EX01, {"elu": LEAKY_ELU})
    copy_solution(submissions / "alice", EX01)
    out = root / "out"
    done = grade_batch(submissions, out, "--exercises", "ex01", "--jobs", "1", "--hidden",
                       "--seed", "s3cret", "--timeout", "5", "--isolation", "none")
    assert done.returncode == 0, done.stderr
    return out, done, recorded(out)[("mallory", "ex01")]


def _times(text: str) -> set[str]:
    """Every decimal number in ``text``, as written."""
    return set(re.findall(r"\d+\.\d+", text))


def test_the_instructor_keeps_every_checks_time(batch):
    _, _, full = batch
    hidden = [t for t in full["tests"] if t.get("visibility")]
    assert hidden and all(t["seconds"] >= 0 for t in hidden)
    elu = next(t for t in hidden if t["name"].startswith("hidden: elu "))
    assert elu["seconds"] >= 0.05  # the delay is there, for the class report's data
    assert full["seconds"] >= sum(t["seconds"] for t in full["tests"])


def test_no_feedback_file_shows_a_hidden_checks_time(batch):
    out, _, full = batch
    folder = out / "feedback" / "mallory"
    hidden = {t["name"]: t["seconds"] for t in full["tests"] if t.get("visibility")}
    visible = [t["seconds"] for t in full["tests"] if not t.get("visibility")]
    shown_total = round(sum(visible), 3)

    results = json.loads((folder / "results.json").read_text())
    for test in results["tests"]:
        if test.get("visibility"):
            assert "seconds" not in test.get("extra_data", {}), test
    assert results["execution_time"] == pytest.approx(shown_total, abs=2e-3)
    assert results["execution_time"] < full["seconds"] - sum(hidden.values()) + 1e-3

    root = ET.fromstring((folder / "junit.xml").read_text())
    suite = root.find("testsuite")
    for case in suite.findall("testcase"):
        if case.get("name").startswith("hidden: "):
            assert case.get("time") is None, case.attrib
    assert float(suite.get("time")) == pytest.approx(shown_total, abs=2e-3)
    assert float(root.get("time")) == pytest.approx(shown_total, abs=2e-3)

    # The times that would tell (the delayed hidden checks', the whole exercise's), however
    # written; tiny ones also match visible checks' times by chance.
    telling = [s for s in [*hidden.values(), full["seconds"]] if s >= 0.05]
    leaked = {f"{s:.3f}" for s in telling} | {repr(round(s, 3)) for s in telling}
    for name in ("feedback.md", "feedback.html", "results.json", "junit.xml"):
        text = (folder / name).read_text()
        assert not _times(text) & leaked, name


def test_the_summary_states_the_worst_case(batch):
    _, done, _ = batch
    line = next(line for line in done.stdout.splitlines() if line.startswith("worst case: "))
    # 2 students x 1 exercise, 1 job: 2 x (5 x 3 budget + 20 import + 5 overhead) = 80 s
    assert line == ("worst case: 80 s for 2 student(s) x 1 exercise(s) on 1 job(s), if every "
                    "run used its whole budget")
