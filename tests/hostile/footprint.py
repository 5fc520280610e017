"""Learner code that tries to take more than a run's share of the machine: memory summed over
many processes, processes, and bytes written. Read as the source of a submission by
tests/runner/test_containment.py and benchmarks/bench_containment.py; never imported.

Files fill() writes are named ``footprint-fill-<pid>-<n>`` so that what it leaves in a
machine-wide folder (/dev/shm without a sandbox) can be found and removed.
"""

import os
import signal
import time


def hog(children, mib, seconds=10.0):
    """Fork ``children`` processes that each touch ``mib`` MiB and hold it; how many held it
    at once (each reports on a pipe once its memory is touched)."""
    r, w = os.pipe()
    pids = []
    for _ in range(children):
        pid = os.fork()
        if pid == 0:
            block = bytearray(mib * 1024**2)
            for i in range(0, len(block), 4096):
                block[i] = 1
            os.write(w, b"1")
            time.sleep(60)
            os._exit(0)
        pids.append(pid)
    os.close(w)
    held, ended, deadline = 0, set(), time.monotonic() + seconds
    os.set_blocking(r, False)
    while len(ended) + held < children and time.monotonic() < deadline:
        try:
            held += len(os.read(r, 64))
        except BlockingIOError:
            pass
        for pid in pids:
            if pid not in ended and os.waitpid(pid, os.WNOHANG)[0]:
                ended.add(pid)
        time.sleep(0.01)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return held


def bomb(most):
    """Fork sleeping children until fork fails or ``most`` are running; how many ran."""
    started = 0
    for _ in range(most):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        started += 1
    return started


def fill(folder, files, mib):
    """Write up to ``files`` files of ``mib`` MiB into ``folder`` (None: the working folder),
    up to the first error; bytes written."""
    written, block = 0, b"x" * 1024**2
    for n in range(files):
        try:
            with open(os.path.join(folder or ".", f"footprint-fill-{os.getpid()}-{n}"), "wb") as f:
                for _ in range(mib):
                    f.write(block)
                    f.flush()
                    written += len(block)
        except OSError:
            break
    return written
