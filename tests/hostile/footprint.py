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
    """Fork ``children`` (at most 256) processes that each touch ``mib`` MiB and hold it; how
    many held it at the same time: those that touched all of it (each reports its number on a
    pipe) and are still alive once every child has done so or been killed."""
    r, w = os.pipe()
    pids = []
    for n in range(children):
        pid = os.fork()
        if pid == 0:
            block = bytearray(mib * 1024**2)
            for i in range(0, len(block), 4096):
                block[i] = 1
            os.write(w, bytes([n]))
            time.sleep(60)
            os._exit(0)
        pids.append(pid)
    os.close(w)
    reported, ended, deadline = set(), set(), time.monotonic() + seconds
    os.set_blocking(r, False)

    def reap():
        for n, pid in enumerate(pids):
            if n not in ended and os.waitpid(pid, os.WNOHANG)[0]:
                ended.add(n)

    while len(reported | ended) < children and time.monotonic() < deadline:
        try:
            reported.update(os.read(r, 256))
        except BlockingIOError:
            pass
        reap()
        time.sleep(0.01)
    time.sleep(0.3)  # an OOM kill the last allocation set off lands
    reap()
    held = len(reported - ended)
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
