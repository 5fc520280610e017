"""`grade batch`: a class graded in parallel into a gradebook that survives crashes and resumes."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from conftest import EXERCISES, SOLUTIONS, write_variant
from grader.engine import NOT_RUN
from grader.registry import load

pytestmark = pytest.mark.slow  # every test starts worker processes and grades real code

EX01, EX02 = "ex01_activations", "ex02_losses"
NO_MAX = """
def softmax(x):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x)
    return e / np.sum(e, axis=-1, keepdims=True)
"""
LOOP = "def sigmoid(x):\n    while True:\n        pass\n"
HAS_BWRAP = shutil.which("bwrap") is not None


def grade_batch(submissions: Path, out: Path, *args: str, timeout: float = 600,
                env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out), *args],
        capture_output=True, text=True, timeout=timeout, cwd=out.parent,
        env={**os.environ, **(env or {})},
    )


def start_batch(submissions: Path, out: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=out.parent,
    )


def copy_solution(folder: Path, *modules: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for module in modules:
        shutil.copy(SOLUTIONS / f"{module}.py", folder / f"{module}.py")


def start_ex01_class(tmp_path: Path, size: int) -> tuple[subprocess.Popen, list[str], Path]:
    """Start `grade batch` (ex01, one job) on ``size`` students who all hand in the solution;
    returns the process, the students and OUT."""
    root = tmp_path / "submissions"
    students = [f"s{i:02d}" for i in range(size)]
    for student in students:
        copy_solution(root / student, EX01)
    out = tmp_path / "out"
    return start_batch(root, out, "--exercises", "ex01", "--jobs", "1"), students, out


def grades(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "grades.csv", newline="") as file:
        return {row["student"]: row for row in csv.DictReader(file)}


def recorded(out: Path) -> dict[tuple[str, str], dict]:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        rows = db.execute("SELECT student, exercise, result_json FROM results").fetchall()
    return {(s, e): json.loads(text) for s, e, text in rows}


def max_of(*exercises: str) -> float:
    return sum(load(e).max_score for e in exercises)


@pytest.fixture
def klass(tmp_path):
    """Seven entries: honest, unfinished, buggy, zipped, looping, zip-slipped and empty."""
    root = tmp_path / "submissions"
    copy_solution(root / "alice", EX01, EX02)
    (root / "bob").mkdir(parents=True)
    for module in (EX01, EX02):
        shutil.copy(EXERCISES / f"{module}.py", root / "bob")
    write_variant(root / "carol", EX01, {"softmax": NO_MAX})
    copy_solution(root / "carol", EX02)
    with zipfile.ZipFile(root / "dave.zip", "w") as archive:
        for module in (EX01, EX02):
            archive.write(SOLUTIONS / f"{module}.py", f"dave/{module}.py")
    write_variant(root / "eve", EX01, {"sigmoid": LOOP})
    with zipfile.ZipFile(root / "frank.zip", "w") as archive:
        archive.write(SOLUTIONS / f"{EX01}.py", f"{EX01}.py")
        archive.writestr("../../escaped.py", "print('out')")
    (root / "grace").mkdir()
    return root


def test_a_class_is_graded_into_grades_and_feedback(klass, tmp_path):
    out = tmp_path / "out"
    done = grade_batch(klass, out, "--exercises", "ex01,ex02", "--jobs", "2", "--timeout", "2")
    assert done.returncode == 0, done.stderr
    assert "isolation:" in done.stdout and "7 student(s)" in done.stdout
    table = grades(out)
    full = max_of("ex01", "ex02")
    assert list(next(iter(table.values()))) == [
        "student", "ex01", "ex02", "total", "max_total", "note"]
    assert sorted(table) == ["alice", "bob", "carol", "dave", "eve", "frank", "grace"]
    assert float(table["alice"]["total"]) == full == float(table["alice"]["max_total"])
    assert float(table["dave"]["total"]) == full
    assert float(table["bob"]["total"]) == 0
    assert 0 < float(table["carol"]["ex01"]) < load("ex01").max_score
    assert float(table["carol"]["ex02"]) == load("ex02").max_score
    assert "ex01 timed out" in table["eve"]["note"] and "ex02 missing" in table["eve"]["note"]
    assert 0 < float(table["eve"]["ex01"]) < load("ex01").max_score
    assert "zip slip" in table["frank"]["note"] and float(table["frank"]["total"]) == 0
    assert "no exercise file" in table["grace"]["note"]
    assert not (tmp_path / "escaped.py").exists()

    carol = (out / "feedback" / "carol" / "feedback.md").read_text()
    assert "max" in carol.lower() and "softmax" in carol
    for student in table:
        folder = out / "feedback" / student
        assert {p.name for p in folder.iterdir()} == {
            "feedback.md", "feedback.html", "results.json", "junit.xml"}
        gradescope = json.loads((folder / "results.json").read_text())
        assert gradescope["score"] == pytest.approx(float(table[student]["total"]))
        suites = ET.parse(folder / "junit.xml").getroot()
        assert suites.tag == "testsuites"
    summary = json.loads((out / "grades.json").read_text())
    assert [s["student"] for s in summary["students"]] == sorted(table)
    assert summary["students"][5]["problem"] and "zip slip" in summary["students"][5]["problem"]

    # The same command again grades nothing and writes the same grades.
    before = (out / "grades.csv").read_text()
    again = grade_batch(klass, out, "--exercises", "ex01,ex02", "--jobs", "2", "--timeout", "2")
    assert again.returncode == 0, again.stderr
    assert "graded 0 run(s), reused 10" in again.stdout
    assert (out / "grades.csv").read_text() == before

    # A changed submission, and only that one, is graded again.
    copy_solution(klass / "carol", EX01)
    third = grade_batch(klass, out, "--exercises", "ex01,ex02", "--jobs", "2", "--timeout", "2")
    assert "graded 2 run(s), reused 8" in third.stdout, third.stdout
    assert float(grades(out)["carol"]["total"]) == full


def test_a_run_killed_with_sigkill_resumes_without_losing_results(tmp_path):
    process, students, out = start_ex01_class(tmp_path, 10)
    book = out / "gradebook.sqlite"
    deadline = time.monotonic() + 120
    count = 0
    while time.monotonic() < deadline and count < 3:
        time.sleep(0.2)
        if book.exists():
            try:
                with sqlite3.connect(book) as db:
                    count = db.execute("SELECT count(*) FROM results").fetchone()[0]
            except sqlite3.OperationalError:
                count = 0
    workers = _children(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 3 <= count < len(students), "the run finished before it could be killed"
    kept = recorded(out)
    assert len(kept) >= count and all(r["score"] == r["max_score"] for r in kept.values())
    _wait_gone(workers)

    resumed = grade_batch(tmp_path / "submissions", out, "--exercises", "ex01", "--jobs", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert f"reused {len(kept)}" in resumed.stdout
    assert f"graded {len(students) - len(kept)} run(s)" in resumed.stdout
    table = grades(out)
    assert sorted(table) == students
    assert all(float(row["total"]) == max_of("ex01") for row in table.values())


def test_ctrl_c_stops_writes_what_was_graded_and_says_how_to_resume(tmp_path):
    root = tmp_path / "submissions"
    for i in range(8):
        copy_solution(root / f"s{i}", EX01, EX02)
    out = tmp_path / "out"
    process = start_batch(root, out, "--exercises", "ex01,ex02", "--jobs", "1")
    book = out / "gradebook.sqlite"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if book.exists() and len(_rows(book)) >= 2:
            break
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "run the same command again" in stderr
    assert "Traceback" not in stderr
    notes = [row["note"] for row in grades(out).values()]
    assert any("not graded yet" in note for note in notes)
    finished = grade_batch(root, out, "--exercises", "ex01,ex02", "--jobs", "2")
    assert finished.returncode == 0
    assert all(row["note"] == "" for row in grades(out).values())


def test_a_worker_killed_from_outside_costs_no_grade_and_the_batch_goes_on(tmp_path):
    """The runs the killed worker was grading are graded again, alone; nobody is blamed."""
    process, students, out = start_ex01_class(tmp_path, 8)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(_rows(out / "gradebook.sqlite")) < 2:
        time.sleep(0.2)
    workers = [pid for pid in _children(process.pid) if b"spawn_main" in _cmdline(pid)]
    assert workers, "no worker process found"
    os.kill(workers[0], signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=180)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert len(_rows(out / "gradebook.sqlite")) == len(students)
    assert all(float(row["total"]) == max_of("ex01") for row in grades(out).values())
    resumed = grade_batch(tmp_path / "submissions", out, "--exercises", "ex01", "--jobs", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert f"reused {len(students)}" in resumed.stdout


KILLS_ITS_WORKER = "\nimport os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"


@pytest.mark.slow
def test_a_learner_that_kills_its_grader_worker_costs_only_its_own_run(tmp_path):
    """Under --isolation none (root here, or the grader's own user) learner code can reach the
    worker that runs it: it breaks the pool, but only its own run is charged, once, and a
    re-run neither grades it again nor stops."""
    root = tmp_path / "submissions"
    for student in ("alice", "bob"):
        copy_solution(root / student, EX01, EX02)
    copy_solution(root / "mallory", EX01, EX02)
    with open(root / "mallory" / f"{EX01}.py", "a") as file:
        file.write(KILLS_ITS_WORKER)
    out = tmp_path / "out"
    done = grade_batch(root, out, "--exercises", "ex01,ex02", "--jobs", "2",
                       "--isolation", "none")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    table = grades(out)
    for student in ("alice", "bob"):
        assert float(table[student]["total"]) == max_of("ex01", "ex02"), table[student]
    assert float(table["mallory"]["ex01"]) == 0 and "crashed" in table["mallory"]["note"]
    assert float(table["mallory"]["ex02"]) == max_of("ex02")  # only the guilty run is charged
    book = recorded(out)
    assert "killed it" in book[("mallory", "ex01")]["error"]  # said once; the checks refer to it
    assert book[("mallory", "ex01")]["tests"][0]["output"] == NOT_RUN
    assert "1 run(s) killed the grader process grading them" in done.stderr
    again = grade_batch(root, out, "--exercises", "ex01,ex02", "--jobs", "2",
                        "--isolation", "none")
    assert again.returncode == 0, again.stderr
    assert "reused 6" in again.stdout


def test_hidden_checks_count_but_show_only_name_and_points(tmp_path):
    root = tmp_path / "submissions"
    copy_solution(root / "alice", EX01)
    write_variant(root / "carol", EX01, {"softmax": NO_MAX})
    out = tmp_path / "out"
    done = grade_batch(root, out, "--exercises", "ex01", "--hidden", "--seed", "s3cret")
    assert done.returncode == 0, done.stderr
    table = grades(out)
    assert float(table["alice"]["max_total"]) > max_of("ex01")
    assert float(table["alice"]["total"]) == float(table["alice"]["max_total"])
    book = recorded(out)
    hidden = [t for t in book[("carol", "ex01")]["tests"] if t.get("visibility")]
    assert hidden and all(t["name"].startswith("hidden: ") for t in hidden)
    failed_hidden = [t for t in hidden if t["status"] == "failed"]
    assert failed_hidden, "softmax without max-subtraction should fail a hidden check"
    for name in ("feedback.md", "feedback.html", "junit.xml", "results.json"):
        text = (out / "feedback" / "carol" / name).read_text()
        assert failed_hidden[0]["name"].split(": ", 1)[1][:20] in text.replace("&amp;", "&")
        assert failed_hidden[0]["output"] not in text
    # The seed is part of what a result depends on: another seed grades again.
    other = grade_batch(root, out, "--exercises", "ex01", "--hidden", "--seed", "other")
    assert "graded 2 run(s)" in other.stdout


@pytest.mark.parametrize(("args", "needle"), [
    (["--exercises", "ex99"], "unknown exercise"),
    (["--hidden"], "--hidden needs --seed"),
    (["--seed", "x"], "add --hidden"),
    (["--isolation", "magic"], "magic"),
])
def test_usage_errors_are_one_line(klass, tmp_path, args, needle):
    done = grade_batch(klass, tmp_path / "out", *args)
    assert done.returncode == 2
    assert needle in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_out_inside_the_submissions_is_refused(klass):
    done = grade_batch(klass, klass / "out")
    assert done.returncode == 2 and "inside SUBMISSIONS" in done.stderr


def test_without_a_sandbox_the_summary_says_so(tmp_path):
    root = tmp_path / "submissions"
    copy_solution(root / "alice", EX01)
    done = grade_batch(root, tmp_path / "out", "--exercises", "ex01", "--isolation", "none")
    assert done.returncode == 0, done.stderr
    assert "isolation: none" in done.stdout


HOSTILE = '''
import glob, os, socket, subprocess
OUT = {out!r}
def _try(label, action):
    try:
        action()
        print("LEAKED", label)
    except Exception as error:
        print("blocked", label, type(error).__name__)
def _read(path):
    with open(path, "rb") as f:
        f.read(1)
def _overwrite_others():
    targets = [p for p in glob.glob(OUT + "/.staging/*/ex01_activations.py")
               if os.path.dirname(p) != os.getcwd()]
    if not targets:
        raise FileNotFoundError("no other student's files visible")
    for p in targets:
        with open(p, "w") as f:
            f.write("raise SystemExit('sabotaged')\\n")
def _write(path):
    with open(path, "a") as f:
        f.write("sabotaged\\n")
def _connect():
    s = socket.create_connection(("127.0.0.1", {port}), timeout=2)
    s.sendall(b"leak")
_try("solutions", lambda: _read({solution!r}))
_try("hidden", lambda: _read({hidden!r}))
_try("others", _overwrite_others)
_try("gradebook", lambda: _write(OUT + "/gradebook.sqlite"))
_try("csv", lambda: _write(OUT + "/grades.csv"))
_try("network", _connect)
subprocess.Popen(["sleep", "300", "{marker}"], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
'''


@pytest.mark.skipif(not HAS_BWRAP, reason="bubblewrap (bwrap) is not installed; CI installs it")
def test_a_hostile_submission_cannot_touch_the_others_the_solutions_or_the_outputs(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    connections = []

    def accept() -> None:
        end = time.monotonic() + 120
        while time.monotonic() < end:
            try:
                connections.append(server.accept())
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    root, out = tmp_path / "submissions", tmp_path / "out"
    marker = f"backprop-lab-test-{os.getpid()}-{time.monotonic_ns()}"
    prelude = HOSTILE.format(out=str(out), port=server.getsockname()[1], marker=marker,
                             solution=str(SOLUTIONS / f"{EX01}.py"),
                             hidden=str(SOLUTIONS / "hidden" / f"{EX01}.py"))
    write_variant(root / "aaron", EX01, {}, prelude=prelude)
    for student in ("zoe", "zack"):
        copy_solution(root / student, EX01)
    first = grade_batch(root, out, "--exercises", "ex01", "--jobs", "2",
                        "--isolation", "bubblewrap")
    assert first.returncode == 0, first.stderr
    assert "isolation: bubblewrap" in first.stdout
    output = recorded(out)[("aaron", "ex01")].get("learner_output", "")
    assert "LEAKED" not in output, output
    for label in ("solutions", "hidden", "others", "gradebook", "csv", "network"):
        assert f"blocked {label}" in output, output
    assert connections == []
    table = grades(out)
    assert all(float(table[s]["total"]) == max_of("ex01") for s in ("aaron", "zoe", "zack"))
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert not _processes_with(marker)


def _rows(book: Path) -> list:
    try:
        with sqlite3.connect(book) as db:
            return db.execute("SELECT student FROM results").fetchall()
    except sqlite3.OperationalError:
        return []


def _children(pid: int) -> list[int]:
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    children: list[int] = []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as file:
                children += [int(c) for c in file.read().split()]
        except OSError:
            continue
    return children


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read()
    except OSError:
        return b""


def _wait_gone(pids: list[int], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [p for p in alive if _alive(p)]
    assert not alive, f"worker processes {alive} outlived the killed batch"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def _processes_with(marker: str) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as file:
                if marker.encode() in file.read():
                    found.append(int(name))
        except OSError:
            continue
    return [pid for pid in found if _alive(pid)]
