"""A batch worker ended by SIGTERM at any moment: it exits at once, says nothing on stderr, and
leaves no learner process and no run folder behind (the handler kills the runs itself; an
exception raised into the interrupted code could be swallowed in a fork hook or a finaliser)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: A worker that starts, calls and closes Sessions on an endless learner loop, forever: a
#: SIGTERM lands during a fork, an import, a call or a release.
_WORKER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from grader.batch.worker import init_worker
    from grader.runner.limits import Limits
    from grader.runner.session import Session
    from grader.runner.submission import locate

    init_worker()
    submission = locate(Path(sys.argv[1]), "ex01_activations")
    limits = Limits(call_timeout=0.2, import_timeout=3)
    print("ready", flush=True)
    while True:
        with Session(submission, limits) as session:
            session.call("spin")
""")

_LEARNER = """
import os

def spin():
    if os.fork() == 0:   # a grandchild in the run's own process group
        while True:
            pass
    while True:
        pass
"""


def _processes_under(folder: Path) -> list[int]:
    """Live (not zombie) processes whose TMPDIR, a run's scratch, lies under ``folder``."""
    marker = f"TMPDIR={folder}".encode()
    found = []
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                mine = any(v.startswith(marker) for v in f.read().split(b"\0"))
            with open(f"/proc/{name}/stat", "rb") as f:
                zombie = f.read().rpartition(b")")[2].split()[0] == b"Z"
        except OSError:
            continue
        if mine and not zombie:
            found.append(int(name))
    return found


@pytest.mark.slow
def test_sigterm_at_any_moment_leaves_nothing_and_prints_nothing(tmp_path: Path) -> None:
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "ex01_activations.py").write_text(_LEARNER)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONPATH": str(ROOT)}
    chance = random.Random(0)
    for attempt in range(12):
        worker = subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(submission)], env=env, cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        assert worker.stdout is not None
        assert worker.stdout.readline() == b"ready\n"
        time.sleep(chance.uniform(0.0, 0.8))
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=30)
        assert worker.returncode == -signal.SIGTERM or worker.returncode == 143, attempt
        assert stderr.decode() == "", (attempt, stderr.decode())
        deadline = time.monotonic() + 5
        while _processes_under(scratch) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _processes_under(scratch) == [], attempt
        assert [p.name for p in scratch.iterdir() if p.name.startswith("backprop-lab")] == [], \
            attempt
