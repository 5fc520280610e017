"""`grade batch` against learner code that attacks the batch itself, under each class mode.

"auto" never grades a class in a weaker mode than bubblewrap; a learner that kills its parent,
its process group or any grader process it can see costs only its own run; a batch killed with
SIGKILL leaves no learner process running, and the next run removes the scratch folders (with
students' files in them) that the killed one left behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SOLUTIONS, processes_with
from grader.runner.sandbox import SandboxUnavailable, detect

pytestmark = pytest.mark.slow  # every test starts a batch and grades real code

EX01 = "ex01_activations"
NO_BWRAP = pytest.mark.skipif(shutil.which("bwrap") is None,
                              reason="bubblewrap (bwrap) is not installed; CI installs it")
KINDS = [pytest.param("bubblewrap", marks=NO_BWRAP), "none"]

#: Appended to the solution: at import, kill the parent, the parent's process group, every
#: process whose command line names the grader, as far as the sandbox lets it see them, and
#: every process it may signal (kill -9 -1), itself included.
KILLER = '''

import os as _os, signal as _signal

def _kill(pid, group=False):
    try:
        (_os.killpg if group else _os.kill)(pid, _signal.SIGKILL)
        print(f"killed {'group ' if group else ''}{pid}")
    except OSError as error:
        print(f"could not kill {pid}: {error}")

_parent = _os.getppid()
if _parent > 1:
    _kill(_os.getpgid(_parent), group=True)
_kill(_parent)
for _name in _os.listdir("/proc"):
    if _name.isdigit() and int(_name) != _os.getpid():
        try:
            with open(f"/proc/{_name}/cmdline", "rb") as _f:
                _line = _f.read()
        except OSError:
            continue
        if b"grader" in _line or b"multiprocessing" in _line:
            _kill(int(_name))
_kill(-1)  # every process it may signal
'''

#: Appended to the solution: at import, leave a detached process (double fork, new session,
#: empty environment), then take long enough for the batch to be killed meanwhile.
LINGER = '''

import os as _os, subprocess as _subprocess, sys as _sys, time as _time

if _os.fork() == 0:
    _subprocess.Popen([_sys.executable, "-c", "import time; time.sleep(120)", {marker!r}],
                      env={{}}, start_new_session=True, stdin=_subprocess.DEVNULL,
                      stdout=_subprocess.DEVNULL, stderr=_subprocess.DEVNULL)
    _os._exit(0)
_os.wait()
_time.sleep(15)
'''


def class_mode(kind: str, kills: bool = False) -> str:
    """Skip a mode that cannot run here; with ``kills``, skip "none" where it would run learner
    code as root: an attack that kills every grader process in sight would hit the machine's
    other work (the limit its description states)."""
    try:
        sandbox = detect(kind, for_class=True)
    except SandboxUnavailable as error:
        pytest.skip(str(error))
    if kills and kind == "none" and not sandbox.drops_root():
        pytest.skip("'none' runs learner code as root or as this user here, so it can kill "
                    f"the grader (as its description says); {sandbox.why}")
    return kind


def batch(submissions: Path, out: Path, *args: str, env: dict | None = None,
          timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out),
         "--exercises", "ex01", *args],
        capture_output=True, text=True, timeout=timeout, cwd=out.parent,
        env={**os.environ, **(env or {})})


def class_of(root: Path, hostile: str) -> Path:
    """a and c hand in the solution, b (graded in between) the solution plus ``hostile``."""
    solution = (SOLUTIONS / f"{EX01}.py").read_text()
    for student, text in (("a", solution), ("b", solution + hostile), ("c", solution)):
        (root / student).mkdir(parents=True)
        (root / student / f"{EX01}.py").write_text(text)
    return root


def grades_json(out: Path) -> dict:
    return json.loads((out / "grades.json").read_text())


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_auto_refuses_a_class_without_bubblewrap_in_one_line(tmp_path):
    root = class_of(tmp_path / "subs", "")
    bin_dir = tmp_path / "bin"  # PATH without bwrap (unshare and setpriv stay)
    bin_dir.mkdir()
    for tool in ("unshare", "setpriv"):
        if shutil.which(tool):
            (bin_dir / tool).symlink_to(shutil.which(tool))
    done = batch(root, tmp_path / "out", env={"PATH": str(bin_dir)})
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == [
        "grade: bubblewrap is not installed: install Debian's bubblewrap package (apt-get "
        "install bubblewrap), or pass --isolation none to grade your own code unprotected"]
    assert not (tmp_path / "out" / "gradebook.sqlite").exists()  # nothing was graded


@pytest.mark.parametrize("kind", KINDS)
def test_the_isolation_is_stated_in_grades_json_and_the_report(tmp_path, kind):
    class_mode(kind)
    root = class_of(tmp_path / "subs", "")
    out = tmp_path / "out"
    done = batch(root, out, "--isolation", kind, "--jobs", "1")
    assert done.returncode == 0, done.stderr
    isolation = grades_json(out)["isolation"]
    assert f"isolation: {isolation['used']}" in done.stdout
    assert isolation["used"].startswith(f"{kind}: ")
    if kind == "bubblewrap":
        assert isolation["not_protected"] == ""
    else:
        assert "the gradebook" in isolation["not_protected"]
    report = subprocess.run([sys.executable, "-m", "grader", "report", str(out)],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    page = (out / "report.html").read_text()
    assert "Isolation: " in page
    assert ("weaker isolation" in page) is (kind != "bubblewrap")


@pytest.mark.parametrize("kind", KINDS)
def test_a_learner_killing_its_parent_costs_only_its_own_run(tmp_path, kind):
    class_mode(kind, kills=True)
    root = class_of(tmp_path / "subs", KILLER)
    out = tmp_path / "out"
    done = batch(root, out, "--isolation", kind, "--jobs", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "grader error" not in done.stderr and "worker died" not in done.stderr
    students = {s["student"]: s for s in grades_json(out)["students"]}
    assert set(students) == {"a", "b", "c"}
    for honest in ("a", "c"):
        assert students[honest]["total"] == students[honest]["max_total"] > 0


@pytest.mark.parametrize("kind", KINDS)
def test_a_batch_killed_with_sigkill_leaves_no_learner_process_and_no_scratch(tmp_path, kind):
    class_mode(kind)
    marker = f"backprop-lab-linger-{os.urandom(8).hex()}"
    root = class_of(tmp_path / "subs", LINGER.format(marker=marker))
    tmp = tmp_path / "tmp"  # the runs' scratch folders, apart from other tests'
    tmp.mkdir()
    out = tmp_path / "out"
    env = {**os.environ, "TMPDIR": str(tmp)}
    killed = subprocess.Popen(
        [sys.executable, "-m", "grader", "batch", str(root), "--out", str(out), "--exercises",
         "ex01", "--isolation", kind, "--jobs", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path, env=env,
        start_new_session=True)
    try:
        assert wait_for(lambda: processes_with(marker), 60), "the learner never started"
        scratch = [p for p in tmp.iterdir() if p.name.startswith("backprop-lab-")]
        assert scratch and any((p / "submission" / f"{EX01}.py").exists() for p in scratch)
        os.killpg(killed.pid, signal.SIGKILL)  # the batch and its workers, at once
        killed.wait()
        if kind == "bubblewrap":  # the wrapper dies with its worker, and its namespace with it
            assert wait_for(lambda: not processes_with(marker), 5)
        (tmp_path / "empty").mkdir()
        again = batch(tmp_path / "empty", tmp_path / "out2", "--isolation", kind,
                      env={"TMPDIR": str(tmp)})
        assert again.returncode == 0, again.stdout + again.stderr
        assert wait_for(lambda: not processes_with(marker), 5)  # the next run ended them
        assert not [p for p in tmp.iterdir() if p.name.startswith("backprop-lab-")]
    finally:
        for pid in processes_with(marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if killed.poll() is None:
            os.killpg(killed.pid, signal.SIGKILL)
