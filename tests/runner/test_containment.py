"""A run's privileges and total footprint, attacked from inside, under each isolation mode.

Learner code must never run as root or with capabilities in a mode used for a class; a run's
memory summed over its processes, its number of processes, its scratch folder and /dev/shm are
bounded; the grader's environment and command line are out of its reach under bubblewrap; and
what a killed run leaves behind is removed by the next one. Each attack is real: on the runner
before these fixes every assertion below failed (uid 0 inside bubblewrap, 8 x 256 MB held at
once, hundreds of processes, 320 MB in scratch and 256 MB in /dev/shm, no cleanup function).
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import FOOTPRINT, processes_with
from grader.runner import cgroups
from grader.runner import sandbox as sandbox_module
from grader.runner.limits import Limits
from grader.runner.sandbox import Sandbox, SandboxUnavailable, detect
from grader.runner.session import Session, remove_stale_runs
from grader.runner.submission import locate

from .test_sandbox import NO_BWRAP, gone_within, kill_all

MiB = 1024**2
LIMITS = Limits(call_timeout=15.0, import_timeout=10.0, memory_bytes=1024**3)
#: The modes a class can be graded in: bubblewrap, and "none" as a batch makes it.
CLASS_KINDS = [pytest.param("bubblewrap", marks=NO_BWRAP), "none"]
HAS_CGROUP = bool(cgroups.support().parents)

HOSTILE = FOOTPRINT + '''
import sys


def oom_score_adj():
    with open("/proc/self/oom_score_adj") as f:
        return int(f.read())


def whoami():
    """The first lines of /proc/self/status that say who this process is."""
    keep = ("Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:",
            "NoNewPrivs:")
    with open("/proc/self/status") as f:
        return {line.split(":")[0]: line.split(":", 1)[1].strip()
                for line in f if line.startswith(keep)}


def snoop(secret):
    """Where ``secret`` shows in any visible process's environment or command line."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            for part in ("environ", "cmdline"):
                try:
                    with open(f"/proc/{name}/{part}", "rb") as f:
                        if secret.encode() in f.read():
                            found.append(f"{name}/{part}")
                except OSError:
                    pass
    return found


def own_session():
    """Start a busy child in a session of its own (which the kernel's autogroup would
    otherwise weigh as one more contender for the CPU, as much as a classmate's whole run)."""
    if os.fork() == 0:
        os.setsid()
        while True:
            pass
    return True
'''


def class_sandbox(kind: str) -> Sandbox:
    try:
        return detect(kind, for_class=True)
    except SandboxUnavailable as error:
        pytest.skip(str(error))


@pytest.fixture(params=CLASS_KINDS)
def sandbox(request: pytest.FixtureRequest) -> Sandbox:
    return class_sandbox(request.param)


@pytest.fixture
def hostile(tmp_path: Path, sandbox: Sandbox) -> Iterator[Callable[..., Session]]:
    """hostile(**limits) -> a started Session on HOSTILE inside the sandbox under test."""
    path = tmp_path / "ex01_activations.py"
    path.write_text(HOSTILE)
    opened: list[Session] = []

    def start(**limits: int) -> Session:
        fields = {"call_timeout": 15.0, "import_timeout": 10.0, "memory_bytes": 1024**3,
                  **limits}
        session = Session(locate(path, "ex01_activations"), Limits(**fields), sandbox)
        opened.append(session)
        session.start()
        assert session.import_error is None, session.import_error
        return session

    yield start
    for session in opened:
        session.close()


# -- who learner code runs as ---------------------------------------------------------------


def test_learner_code_runs_without_root_or_capabilities(hostile, sandbox):
    if os.geteuid() == 0 and sandbox.kind == "none" and not sandbox.unprivileged:
        pytest.skip(f"cannot drop root here, and the batch says so: {sandbox.why}")
    status = hostile().call("whoami").value
    uids = status["Uid"].split()
    assert "0" not in uids, status
    assert status["Gid"].split()[0] != "0" and status["Groups"] == "", status
    assert int(status["CapEff"], 16) == 0 and int(status["CapPrm"], 16) == 0, status
    if os.geteuid() == 0:  # an id of its own, and no set-user-id way back to root
        assert int(uids[0]) >= 1 << 30 and status["NoNewPrivs"] == "1", status
        if sandbox.kind == "bubblewrap":
            assert int(status["CapBnd"], 16) == 0, status


def test_learner_code_is_the_first_the_oom_killer_takes(hostile):
    """Where the runs' memory caps summed over the jobs exceed the machine's memory, the kernel
    must kill learner code, never a classmate's grader worker."""
    assert hostile().call("oom_score_adj").value == 1000


def test_the_graders_environment_and_command_line_are_out_of_reach(hostile, sandbox,
                                                                   monkeypatch):
    secret = f"seed-{os.urandom(8).hex()}"
    monkeypatch.setenv("BACKPROP_LAB_SEED", secret)  # the parent's environment
    grader = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)",
                               "--seed", secret])  # a grader process's command line
    try:
        found = hostile().call("snoop", secret).value
    finally:
        grader.kill()
        grader.wait()
    if sandbox.kind == "bubblewrap":
        assert found == []
    else:  # what "none" does not protect, as its description says
        assert found and "--seed" in sandbox.description


# -- the footprint of a run, summed ---------------------------------------------------------


@pytest.mark.skipif(not HAS_CGROUP, reason="no cgroup to use here: per-process limits only")
def test_memory_summed_over_a_runs_processes_is_capped(hostile):
    """8 children of 256 MiB each, each under its own 1 GiB RLIMIT_AS; 640 MiB in all."""
    session = hostile(total_memory_bytes=640 * MiB)
    reply = session.call("hog", 8, 256)
    held = reply.value if reply.ok else 0  # the OOM killer may take the run's own process
    assert held <= 2, f"{held} x 256 MiB held at once"


@pytest.mark.skipif(not HAS_CGROUP and os.geteuid() != 0,
                    reason="no pids cgroup and no user id of the run's own here")
def test_a_fork_bomb_is_bounded_and_the_next_run_is_fine(hostile, sandbox):
    if os.geteuid() == 0 and sandbox.kind == "none" and not sandbox.unprivileged \
            and not cgroups.support().pids:
        pytest.skip("neither a pids cgroup nor an unprivileged user id here")
    start = time.monotonic()
    session = hostile(processes=48)
    started = session.call("bomb", 400).value
    assert started < 48
    assert time.monotonic() - start < 10
    session.close()
    assert hostile().call("whoami").ok  # the next run starts as usual


def _cpu_controller_writable() -> bool:
    """Whether this machine lets the grader make cpu cgroups (v1 or delegated v2)."""
    own = cgroups._own_cgroups()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, tail = left.split(), right.split()
            if tail and tail[0] == "cgroup" and "cpu" in tail[2].split(",") and "cpu" in own:
                return os.access(fields[4] + own["cpu"], os.W_OK)
            if tail and tail[0] == "cgroup2" and "" in own:
                folder = fields[4] + own[""]
                try:
                    with open(os.path.join(folder, "cgroup.controllers")) as c:
                        return "cpu" in c.read().split() and os.access(folder, os.W_OK)
                except OSError:
                    return False
    return False


@pytest.mark.skipif(not _cpu_controller_writable(), reason="no cpu cgroup to use here")
def test_a_run_weighs_as_one_on_the_cpu_however_many_processes_it_starts(hostile):
    """A run of 900 busy processes, each in a session of its own, made a classmate's ex08 run
    on the other job take 21 s instead of 1.4 s: every process (every autogroup) weighed as
    much as the classmate's whole run. Each run has a cpu group of its own, which its children
    cannot leave."""
    session = hostile()
    assert session.call("own_session").value is True
    group = session._child.res.group
    where = cgroups.support()
    cpu = [f for f in (group.folders if group else []) if where.cpu and f.startswith(where.cpu)]
    assert cpu, "the run has no cpu group"
    with open(os.path.join(cpu[0], "cgroup.procs")) as f:
        assert len(f.read().split()) >= 2  # the learner's process and its detached child


@NO_BWRAP
@pytest.mark.parametrize("sandbox", ["bubblewrap"], indirect=True)  # its tmpfs caps the total
def test_the_scratch_folder_is_capped_in_total_in_bubblewrap(hostile, sandbox):
    written = hostile(scratch_bytes=64 * MiB, file_bytes=16 * MiB).call("fill", None, 20, 16)
    assert 0 < written.value <= 64 * MiB


@NO_BWRAP
@pytest.mark.parametrize("sandbox", ["bubblewrap"], indirect=True)  # none: the machine's /dev/shm
def test_dev_shm_is_capped_in_bubblewrap(hostile, sandbox):
    written = hostile(file_bytes=16 * MiB).call("fill", "/dev/shm", 16, 16).value
    assert 0 < written <= sandbox_module.SHM_BYTES


# -- what killed runs leave behind ----------------------------------------------------------


def test_stale_run_folders_are_removed_and_live_ones_kept(tmp_path):
    dead = tmp_path / "backprop-lab-dead_1"
    live = tmp_path / "backprop-lab-live_1"
    other = tmp_path / "not-ours"
    for folder in (dead, live, other):
        (folder / "submission").mkdir(parents=True)
        (folder / "submission" / "ex01_activations.py").write_text("answer = 42\n")
        (folder / "owner.lock").touch()
    # A live owner holds an flock: here another process, as a concurrent batch would.
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); "
         "print('locked', flush=True); time.sleep(30)", str(live / "owner.lock")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert remove_stale_runs(str(tmp_path)) == 1
        assert not dead.exists() and live.exists() and other.exists()
    finally:
        holder.kill()
        holder.wait()
    assert remove_stale_runs(str(tmp_path)) == 1  # its owner died: now it goes too
    assert not live.exists()


def test_a_runs_own_folder_is_live_while_it_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "environ", {**os.environ, "TMPDIR": str(tmp_path)})
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    path = tmp_path / "sub" / "ex01_activations.py"
    path.parent.mkdir()
    path.write_text(HOSTILE)
    with Session(locate(path, "ex01_activations"), LIMITS) as session:
        assert session.call("whoami").ok
        folders = [p for p in tmp_path.iterdir() if p.name.startswith("backprop-lab-")]
        assert len(folders) == 1
        lock = os.open(folders[0] / "owner.lock", os.O_RDWR)
        with pytest.raises(BlockingIOError):
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(lock)
        assert remove_stale_runs(str(tmp_path)) == 0
        assert session.call("whoami").ok
    assert not any(p.name.startswith("backprop-lab-") for p in tmp_path.iterdir())


def test_a_run_starting_while_another_batch_cleans_up_keeps_its_folder(tmp_path, monkeypatch):
    """A concurrent batch's remove_stale_runs() between the run making its folder and locking
    it must not take the folder for a dead run's (the lock file appears already locked)."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    path = tmp_path / "sub" / "ex01_activations.py"
    path.parent.mkdir()
    path.write_text(HOSTILE)
    real_flock, cleanups = fcntl.flock, []

    def flock_after_a_cleanup(fd: int, operation: int) -> None:
        if operation == fcntl.LOCK_EX:  # the run taking its own lock: another batch cleans first
            cleanups.append(remove_stale_runs(str(tmp_path)))
        real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock_after_a_cleanup)
    with Session(locate(path, "ex01_activations"), LIMITS) as session:
        assert session.call("whoami").ok, session.output
    assert cleanups and cleanups[0] == 0


def test_processes_of_a_dead_runs_cgroup_are_ended_by_the_next_run(tmp_path):
    if not HAS_CGROUP:
        pytest.skip("no cgroup here")
    marker = f"backprop-lab-orphan-{os.urandom(8).hex()}"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    name = f"backprop-lab-g{dead}_1_{os.urandom(4).hex()}"  # made by a process now gone
    group = cgroups.RunGroup.create(name, 256 * MiB, 16)
    assert group is not None
    files = group.procs_files()

    def join() -> None:
        for file in files:
            with open(file, "w") as f:
                f.write("0")

    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker],
                              preexec_fn=join, start_new_session=True)
    try:
        assert processes_with(marker)
        assert remove_stale_runs(str(tmp_path)) == 0  # no folder; its owner is gone
        assert gone_within(marker, 3.0)
        assert all(not os.path.exists(folder) for folder in group.folders)
    finally:
        orphan.kill()
        orphan.wait()
        kill_all(marker)
        group.remove()


def test_the_child_dies_with_the_process_that_started_it(tmp_path, sandbox):
    """SIGKILL the grader's process mid-run: no learner process is left, in every mode (the
    wrapper and, without one, the child itself have PR_SET_PDEATHSIG)."""
    marker = f"backprop-lab-spin-{os.urandom(8).hex()}"
    path = tmp_path / "ex01_activations.py"
    path.write_text(f"import os, time\nMARK = {marker!r}\n\ndef spin():\n    while True:\n"
                    "        pass\n")
    script = (
        "import sys\n"
        "from grader.runner.limits import Limits\n"
        "from grader.runner.sandbox import Sandbox\n"
        "from grader.runner.session import Session\n"
        "from grader.runner.submission import locate\n"
        f"box = Sandbox({sandbox.kind!r}, {sandbox.program!r}, "
        f"unprivileged={sandbox.unprivileged!r})\n"
        f"s = Session(locate({str(path)!r}, 'ex01_activations'), Limits(), box)\n"
        "s.start()\n"
        "print('started', flush=True)\n"
        "s.call('spin')\n"
    )
    grader = subprocess.Popen([sys.executable, "-c", script, marker], stdout=subprocess.PIPE,
                              text=True, cwd=str(Path(__file__).resolve().parents[2]))
    try:
        assert grader.stdout.readline().strip() == "started"
        time.sleep(0.3)
        spinning = [pid for pid in _pids_in_session_of(grader.pid)]
        assert spinning, "the learner's child was not found"
        grader.send_signal(signal.SIGKILL)
        grader.wait()
        deadline = time.monotonic() + 3
        while any(_alive(pid) for pid in spinning) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in spinning)
    finally:
        grader.kill()
        grader.wait()


def _pids_in_session_of(parent: int) -> list[int]:
    """The descendants of ``parent`` (by /proc's parent links)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_bytes().rpartition(b")")[2].split()
            except OSError:
                continue
            children.setdefault(int(stat[1]), []).append(int(name))
    found, todo = [], [parent]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()[0]
    except OSError:
        return False
    return state != b"Z"
