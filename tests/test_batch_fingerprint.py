"""What the grader hash covers: everything that grading runs, nothing that only presents."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import REPO, SOLUTIONS
from grader.batch import fingerprint
from grader.batch.fingerprint import PRESENTATION, grader_hash

GRADER = REPO / "grader"


@pytest.fixture
def grader_copy(tmp_path, monkeypatch) -> Path:
    """A copy of the grader's files that grader_hash reads instead of the real ones."""
    copy = tmp_path / "grader"
    shutil.copytree(GRADER, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(fingerprint, "_GRADER_DIR", copy)
    return copy


@pytest.mark.parametrize("edited", ["formats/junit.py", "classreport/page.py", "cli.py",
                                    "batch/outputs.py", "release.py"])
def test_editing_what_only_presents_results_keeps_the_hash(grader_copy, edited):
    before = grader_hash(2.0)
    with open(grader_copy / edited, "a") as f:
        f.write("\n# reworded\n")
    assert grader_hash(2.0) == before


@pytest.mark.parametrize("edited", ["engine.py", "exercises/ex01_activations.py",
                                    "checks/compare.py", "runner/child.py", "batch/worker.py",
                                    "data/expected/ex01_activations.npz"])
def test_editing_what_grading_runs_changes_the_hash(grader_copy, edited):
    before = grader_hash(2.0)
    with open(grader_copy / edited, "ab") as f:
        f.write(b"\n# changed\n")
    assert grader_hash(2.0) != before


def test_grading_imports_nothing_that_is_left_out_of_the_hash(tmp_path):
    """A batch worker grades a task with every exercise registered and the learner's child
    module imported too; no module loaded lies in a PRESENTATION part."""
    folder = tmp_path / "alice"
    folder.mkdir()
    shutil.copy(SOLUTIONS / "ex01_activations.py", folder)
    script = textwrap.dedent(f"""
        import json, sys
        from pathlib import Path
        from grader.batch.worker import Task, grade_task
        from grader.registry import all_exercises
        from grader.runner.sandbox import NO_SANDBOX
        all_exercises()
        import grader.runner.child
        reply = json.loads(grade_task(Task("alice", "ex01", Path({str(folder)!r}), "c", 10.0,
                                           NO_SANDBOX)))
        print(json.dumps({{"score": reply["result"]["score"],
                           "modules": [getattr(m, "__file__", None) or "" for m in
                                       list(sys.modules.values())]}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=REPO, timeout=120, check=True)
    reply = json.loads(done.stdout.strip().splitlines()[-1])
    assert reply["score"] > 0  # it really graded
    used = [Path(f).resolve().relative_to(GRADER).as_posix() for f in reply["modules"]
            if f and Path(f).resolve().is_relative_to(GRADER)]
    assert "engine.py" in used and "runner/session.py" in used
    left_out = [u for u in used
                if any(u == part or u.startswith(part + "/") for part in PRESENTATION)]
    assert left_out == []
