"""Red-team attack: learner code makes a user namespace, in which it is root with every
capability, and mounts a tmpfs of any size over its capped /tmp. Before the fix, in every
mode a class uses (bubblewrap, as the grader runs on CI: as root), ``unshare(CLONE_NEWUSER)``
succeeded with CapEff 000001ffffffffff and ``mount -t tmpfs -o size=2g`` with it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from grader.runner.sandbox import detect
from grader.runner.session import Session
from grader.runner.submission import locate

from .conftest import FAST, write_source
from .test_containment import CLASS_KINDS

ATTACK = '''
import ctypes, os, subprocess, threading


def attack():
    libc = ctypes.CDLL(None, use_errno=True)
    found = {}
    pid = os.fork()
    if pid == 0:  # a child, so that a success does not change the serving process
        ok = libc.unshare(0x10000000 | 0x00020000) == 0  # CLONE_NEWUSER | CLONE_NEWNS
        os._exit(0 if ok else 1)
    found["unshare"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    x86 = os.uname().machine == "x86_64"
    found["clone"] = libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0) if x86 else -1
    if found["clone"] == 0:
        os._exit(0)
    try:
        done = subprocess.run(["unshare", "-r", "id", "-u"], capture_output=True, text=True)
        found["unshare -r"] = done.stdout.strip()
    except OSError:
        found["unshare -r"] = ""
    # what honest code needs still works: threads, processes, subprocesses
    box = []
    thread = threading.Thread(target=box.append, args=(1,))
    thread.start()
    thread.join()
    found["thread"] = box == [1]
    found["echo"] = subprocess.run(["echo", "hi"], capture_output=True, text=True).stdout
    return found
'''


@pytest.fixture(params=CLASS_KINDS)
def session(request: pytest.FixtureRequest, tmp_path) -> Iterator[Session]:
    path = write_source(tmp_path, "ex01_activations.py", ATTACK)
    s = Session(locate(path, "ex01_activations"), FAST,
                detect(request.param, for_class=True))
    yield s
    s.close()


def test_learner_code_cannot_make_a_user_namespace(session: Session) -> None:
    reply = session.call("attack")
    assert reply.ok, reply.error
    found = reply.value
    assert found["unshare"] is False
    assert found["clone"] != 0
    assert found["unshare -r"] != "0"
    assert found["thread"] is True and found["echo"] == "hi\n"
