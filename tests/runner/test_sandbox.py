"""Containment of the learner's process (grader/runner/sandbox.py), graded end to end.

Every test runs for each kind: bubblewrap (skipped only when bwrap is not installed; CI
installs it) and none. Hostile
submissions attack for real: without a sandbox each attack succeeds, which shows it would be
noticed if a sandbox let it through.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from conftest import FOOTPRINT, processes_with
from grader.engine import grade_submission
from grader.registry import load
from grader.result import ExerciseResult
from grader.runner import cgroups
from grader.runner import sandbox as sandbox_module
from grader.runner.limits import Limits
from grader.runner.sandbox import NO_SANDBOX, Sandbox, SandboxUnavailable, detect
from grader.runner.session import Session
from grader.runner.submission import locate

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO / "solutions"
HOSTILE_LIMITS = Limits(call_timeout=5.0, import_timeout=10.0, memory_bytes=1024**3)
NO_BWRAP = pytest.mark.skipif(
    shutil.which("bwrap") is None, reason="bubblewrap (bwrap) is not installed; CI installs it"
)
KINDS = [pytest.param("bubblewrap", marks=NO_BWRAP), "none"]


def sandbox_of(kind: str) -> Sandbox:
    """The sandbox ``kind`` (bubblewrap must work where it is installed)."""
    return detect(kind)


@pytest.fixture(params=KINDS)
def sandbox(request: pytest.FixtureRequest) -> Sandbox:
    return sandbox_of(request.param)


def grade(exercise: str, path: Path, sandbox: Sandbox, limits: Limits | None = None,
          prerequisites: bool = False) -> ExerciseResult:
    ex = load(exercise)
    return grade_submission(ex, locate(path, ex.module), limits=limits, sandbox=sandbox,
                            prerequisites=prerequisites)


def gone_within(marker: str, seconds: float) -> bool:
    """Whether no process carries ``marker`` within ``seconds`` (killed processes take a moment
    to disappear)."""
    deadline = time.monotonic() + seconds
    while processes_with(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def kill_all(marker: str) -> None:
    for pid in processes_with(marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


# -- honest code keeps full marks ------------------------------------------------------------


def test_reference_solution_gets_full_marks_for_ex01(sandbox):
    result = grade("ex01", SOLUTIONS, sandbox)
    assert result.full_marks, [c.output for c in result.checks if c.status != "passed"]


@pytest.mark.slow
def test_reference_solution_gets_full_marks_for_ex08_with_mnist(sandbox):
    result = grade("ex08", SOLUTIONS, sandbox, prerequisites=True)
    assert result.full_marks, [c.output for c in result.checks if c.status != "passed"]
    assert result.notes == []  # the prerequisites too, graded in the same sandbox


@pytest.mark.slow
@NO_BWRAP
def test_reference_solution_gets_full_marks_for_ex10_with_tensorflow_in_bubblewrap():
    result = grade("ex10", SOLUTIONS, sandbox_of("bubblewrap"))
    assert result.full_marks, [c.output for c in result.checks if c.status != "passed"]


# -- hostile code ----------------------------------------------------------------------------

#: Appended to the reference ex01: attacks at import, each reporting "blocked" or "LEAKED".
ATTACKS = '''

import os as _os
import socket as _socket
import subprocess as _subprocess
import sys as _sys


def _attempt(what, action):
    try:
        action()
    except OSError as error:
        print(f"{{what}}: blocked ({{type(error).__name__}})")
    else:
        print(f"{{what}}: LEAKED")


def _read(path):
    with open(path) as f:
        print(f.read())


def _overwrite(path):
    with open(path, "w") as f:
        f.write("hacked = True\\nraise SystemExit(3)\\n")


def _connect():
    _socket.create_connection(("127.0.0.1", {port}), timeout=2).close()


def _detach():
    """Double fork and a new session, with an empty environment: out of reach of the runner."""
    if _os.fork() == 0:
        _subprocess.Popen(
            [_sys.executable, "-c", "import time; time.sleep(300)", {marker!r}],
            env={{}}, start_new_session=True, stdin=_subprocess.DEVNULL,
            stdout=_subprocess.DEVNULL, stderr=_subprocess.DEVNULL,
        )
        _os._exit(0)
    _os.wait()


_attempt("secret", lambda: _read({secret!r}))
_attempt("solutions", lambda: _read({solution!r}))
_attempt("grades", lambda: _overwrite({grades!r}))
_attempt("honest", lambda: _overwrite({honest!r}))
_attempt("network", _connect)
_detach()
'''


@dataclass
class Attack:
    """What happened when a hostile submission was graded, then an honest one."""

    kind: str
    hostile: ExerciseResult
    honest: ExerciseResult
    secret_text: str
    grades_before: str
    grades_after: str
    honest_changed: bool
    connections: int
    detached_survived: bool


@pytest.fixture(scope="module", params=KINDS)
def attack(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Attack]:
    sandbox = sandbox_of(request.param)
    root = tmp_path_factory.mktemp(f"attack-{sandbox.kind}")
    secret_text = f"the answer key {os.urandom(8).hex()}"
    secret = root / "other-student" / "secret.txt"
    grades = root / "out" / "grades.csv"
    honest = root / "honest" / "ex01_activations.py"
    for path, text in [(secret, secret_text), (grades, "student,score\nalice,25\n"),
                       (honest, (SOLUTIONS / "ex01_activations.py").read_text())]:
        path.parent.mkdir(parents=True)
        path.write_text(text)
    marker = f"backprop-lab-detached-{os.urandom(8).hex()}"
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    hostile = root / "hostile" / "ex01_activations.py"
    hostile.parent.mkdir()
    hostile.write_text(honest.read_text() + ATTACKS.format(
        port=server.getsockname()[1], marker=marker, secret=str(secret), grades=str(grades),
        honest=str(honest), solution=str(SOLUTIONS / "ex01_activations.py"),
    ))
    honest_before = honest.read_text()
    try:
        hostile_result = grade("ex01", hostile.parent, sandbox, HOSTILE_LIMITS)
        survived = not gone_within(marker, 3.0)
        connections = 0
        while True:
            try:
                server.accept()[0].close()
            except BlockingIOError:
                break
            connections += 1
        yield Attack(
            kind=sandbox.kind,
            hostile=hostile_result,
            honest=grade("ex01", honest.parent, sandbox, HOSTILE_LIMITS),
            secret_text=secret_text,
            grades_before="student,score\nalice,25\n",
            grades_after=grades.read_text(),
            honest_changed=honest.read_text() != honest_before,
            connections=connections,
            detached_survived=survived,
        )
    finally:
        kill_all(marker)
        server.close()


def test_hostile_code_still_runs_and_is_graded(attack):
    assert attack.hostile.full_marks, attack.hostile.learner_output


def test_files_outside_scratch_cannot_be_read_in_bubblewrap(attack):
    output = attack.hostile.learner_output
    if attack.kind == "bubblewrap":
        assert "secret: blocked (FileNotFoundError)" in output
        assert "solutions: blocked (FileNotFoundError)" in output
        assert attack.secret_text not in output
    else:  # files are protected by permissions only: the attack is real
        assert "secret: LEAKED" in output and attack.secret_text in output
        assert "solutions: LEAKED" in output


def test_files_outside_scratch_cannot_be_written_in_bubblewrap(attack):
    output = attack.hostile.learner_output
    if attack.kind == "bubblewrap":
        assert "grades: blocked" in output and "honest: blocked" in output
        assert attack.grades_after == attack.grades_before
        assert not attack.honest_changed
    else:
        assert "grades: LEAKED" in output
        assert attack.grades_after != attack.grades_before
        assert attack.honest_changed


def test_another_students_grade_is_unaffected_in_bubblewrap(attack):
    if attack.kind == "bubblewrap":
        assert attack.honest.full_marks, attack.honest.learner_output
    else:  # the hostile submission overwrote the honest one
        assert attack.honest.score == 0
        assert "sys.exit(3)" in (attack.honest.error or "")


def test_the_network_is_out_of_reach_in_a_sandbox(attack):
    if attack.kind == "none":
        assert "network: LEAKED" in attack.hostile.learner_output
        assert attack.connections == 1
    else:
        assert "network: blocked" in attack.hostile.learner_output
        assert attack.connections == 0


def test_detached_processes_end_with_the_run_in_a_sandbox(attack):
    # Without a sandbox the runner finds leftovers by session and environment only (this one
    # changed both), unless the run had a cgroup (or its own user id) to find them by.
    contained = bool(cgroups.support().parents) or os.geteuid() == 0
    assert attack.detached_survived is (attack.kind == "none" and not contained)


# -- the runner's own fault handling, through the wrappers -----------------------------------

FAULTS = """
import os, signal, subprocess, sys


def double(x):
    return 2 * x


def leave(code):
    os._exit(code)


def die(signum):
    os.kill(os.getpid(), signum)


def spin(marker=None):
    if marker:  # a detached helper that keeps the run's environment
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", marker],
                         start_new_session=True, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    while True:
        pass
"""


@pytest.fixture
def faulty(tmp_path: Path, sandbox: Sandbox) -> Iterator[Callable[..., Session]]:
    """faulty(**limits) -> a started Session on FAULTS inside the sandbox under test."""
    path = tmp_path / "ex01_activations.py"
    path.write_text(FAULTS)
    opened: list[Session] = []

    def start(**limits: float) -> Session:
        session = Session(locate(path, "ex01_activations"), replace(HOSTILE_LIMITS, **limits),
                          sandbox)
        opened.append(session)
        session.start()
        assert session.import_error is None, session.import_error
        return session

    yield start
    for session in opened:
        session.close()


def test_exit_codes_are_reported_as_without_a_sandbox(faulty):
    session = faulty()
    assert session.call("double", 21).value == 42
    error = session.call("leave", 7).error
    assert error and "the process exited with code 7 while running leave" in error.message
    error = session.call("die", int(signal.SIGKILL)).error
    assert error and "killed (SIGKILL; out of memory?)" in error.message
    error = session.call("die", int(signal.SIGTERM)).error
    assert error and "killed by SIGTERM" in error.message
    assert session.call("double", 4).value == 8  # restarted after each crash


def test_cpu_limit_is_reported_as_without_a_sandbox(faulty):
    error = faulty(cpu_seconds=1).call("spin").error
    assert error and "used up its CPU time (1 s)" in error.message


def test_a_timeout_ends_the_run_and_its_detached_helpers_quickly(faulty):
    marker = f"backprop-lab-helper-{os.urandom(8).hex()}"
    session = faulty(call_timeout=1)
    start = time.monotonic()
    try:
        error = session.call("spin", marker).error
        assert error and error.kind == "timeout"
        assert time.monotonic() - start < 3
        assert gone_within(marker, 2.0)
        assert session.call("double", 1).value == 2
    finally:
        kill_all(marker)


@NO_BWRAP
def test_the_sandboxs_own_tmp_is_capped_in_bubblewrap(tmp_path):
    """/tmp inside bubblewrap is memory: a run cannot fill it past TMP_BYTES."""
    path = tmp_path / "ex01_activations.py"
    path.write_text(FOOTPRINT)
    with Session(locate(path, "ex01_activations"), HOSTILE_LIMITS,
                 sandbox_of("bubblewrap")) as session:
        session.start()
        written = session.call("fill", "/tmp", 32, 8).value  # 256 MiB in 8 MiB files
    assert 0 < written <= sandbox_module.TMP_BYTES


# -- choosing a sandbox ----------------------------------------------------------------------


def test_descriptions_say_what_each_kind_protects():
    totals = f"run totals: {cgroups.support().description}"
    strong = Sandbox("bubblewrap").description
    assert strong.startswith(
        "bubblewrap: own mount, network, process and IPC namespaces; "
        "reads only the Python runtime, the grader and the data sets; ")
    assert totals in strong and "size-capped tmpfs" in strong and "NOT" not in strong
    weak = NO_SANDBOX.description
    assert weak.startswith("none: resource limits and a scratch folder only")
    assert totals in weak and "NOT protected" in weak and "solutions/" in weak
    for description in (strong, weak):
        assert "\n" not in description
    for gone in ("docker", "unshare"):
        with pytest.raises(ValueError, match=f"unknown sandbox kind '{gone}'"):
            Sandbox(gone)


def test_exit_statuses_of_the_wrappers_become_popen_return_codes():
    wrapped = Sandbox("bubblewrap")
    assert [wrapped.returncode(c) for c in (0, 7, 128 + 9, 128 + 24, 255, -9)] == [
        0, 7, -9, -24, 255, -9]
    assert [NO_SANDBOX.returncode(c) for c in (0, 137, -9)] == [0, 137, -9]


def test_none_runs_the_command_unchanged():
    assert detect("none") == NO_SANDBOX
    assert NO_SANDBOX.wrap(["python", "-c", "pass"], "/tmp/x") == ["python", "-c", "pass"]


def test_bubblewrap_binds_neither_the_repository_nor_the_solutions(tmp_path):
    argv = Sandbox("bubblewrap").wrap(["python"], str(tmp_path))
    sources = [argv[i + 1] for i, a in enumerate(argv) if a in ("--ro-bind-try", "--bind")]
    assert str(REPO / "grader") in sources and str(REPO / "datasets") in sources
    for source in sources:
        assert not (SOLUTIONS / "x").is_relative_to(source), source
    writable = [argv[i + 1] for i, a in enumerate(argv) if a == "--bind"]
    assert writable == [str(tmp_path)]
    assert argv[argv.index("--chdir") + 1] == str(tmp_path)
    assert argv[-2:] == ["--", "python"]


def test_bubblewrap_hides_the_solutions_inside_a_bound_folder(monkeypatch, tmp_path):
    """E.g. a virtual environment made at the repository's root."""
    sandbox_module._runtime.cache_clear()
    monkeypatch.setattr(sys, "prefix", str(REPO))
    try:
        argv = Sandbox("bubblewrap").wrap(["python"], str(tmp_path))
    finally:
        sandbox_module._runtime.cache_clear()
    assert argv[argv.index(str(REPO)) - 1] == "--ro-bind-try"
    at = argv.index(str(SOLUTIONS))
    assert argv[at - 1: at + 3] == ["--tmpfs", str(SOLUTIONS), "--remount-ro", str(SOLUTIONS)]


@NO_BWRAP
def test_a_grader_inside_a_private_folder_is_within_the_learners_reach(monkeypatch, tmp_path):
    """A checkout in a folder only its owner may enter (CI clones into mktemp -d, 0700; pytest's
    tmp_path is below one too): the folders bwrap makes on the way to what it binds must let the
    learner's own user id through, or its Python cannot import the grader."""
    private = tmp_path / "private"
    package = private / "clone" / "pkg"
    package.mkdir(parents=True)
    (package / "data.txt").write_text("reached")
    private.chmod(0o700)
    work = tmp_path / "run" / "work"
    work.mkdir(parents=True)
    uid = sandbox_module.learner_id(7)
    if uid is not None:
        os.chown(work, uid, uid)
    readable = sandbox_module._readable()
    monkeypatch.setattr(sandbox_module, "_readable", lambda: [*readable, str(package)])
    argv = detect("bubblewrap").wrap(["/bin/cat", str(package / "data.txt")], str(work),
                                     uid=uid)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout) == (0, "reached"), done.stderr


def test_bubblewrap_hides_solutions_inside_a_system_folder(monkeypatch, tmp_path):
    """E.g. a checkout at /usr/src/app, as container images often have it."""
    monkeypatch.setattr(sandbox_module, "_secrets", lambda: ["/usr/src/app/solutions"])
    argv = Sandbox("bubblewrap").wrap(["python"], str(tmp_path))
    at = argv.index("/usr/src/app/solutions")
    assert argv[at - 1] == "--tmpfs" and argv[at + 1: at + 3] == ["--remount-ro", argv[at]]


@pytest.mark.parametrize("asked", ["auto", "bubblewrap"])
def test_without_bubblewrap_a_class_is_refused_in_one_line_naming_the_package(
        monkeypatch, tmp_path, asked):
    """Never a silent fallback to a kind whose code can rewrite the gradebook: not to unshare
    (here on PATH when installed), not to none."""
    unshare = shutil.which("unshare")
    if unshare is not None:
        (tmp_path / "unshare").symlink_to(unshare)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxUnavailable) as caught:
        detect(asked, for_class=True)
    assert str(caught.value) == (
        "bubblewrap is not installed: install Debian's bubblewrap package (apt-get install "
        "bubblewrap), or pass --isolation none to grade your own code unprotected")


def test_a_wrapper_that_fails_is_reported_in_one_line(monkeypatch, tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\n"
                    "exit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    for asked in ("auto", "bubblewrap"):
        with pytest.raises(SandboxUnavailable,
                           match=r"^bubblewrap cannot run here \(bwrap: No permissions to create "
                                 r"new namespace\): fix that, or pass --isolation none"):
            detect(asked)
