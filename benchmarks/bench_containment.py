"""Measure what the sandbox costs per run and what a hostile run can reach, for the README.

    python benchmarks/bench_containment.py [--runs 20] [--kinds bubblewrap,none]

Prints, for each isolation mode a class can use (bubblewrap; none as a batch makes it):

- the wall time of one run (start the child, import the reference ex01, one call, close),
  median of ``--runs``, with the run's cgroup and without one, and the sandbox's overhead over
  none;
- the caps in force (the default Limits, the tmpfs sizes, which cgroup bounds the totals);
- what each footprint attack reached under the default limits: 8 children of 400 MiB each
  (memory summed), a fork bomb (processes), many 16 MiB files in the scratch folder, in /tmp
  and in /dev/shm (bytes written), with the cgroup's own peak figures where the kernel keeps
  them. Files the attacks leave in the machine's /dev/shm under "none" are removed afterwards.
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.runner import cgroups  # noqa: E402
from grader.runner import sandbox as sandbox_module  # noqa: E402
from grader.runner.limits import Limits  # noqa: E402
from grader.runner.sandbox import SandboxUnavailable, detect  # noqa: E402
from grader.runner.session import Session  # noqa: E402
from grader.runner.submission import locate  # noqa: E402

MiB = 1024**2
ATTACKS = (REPO / "tests" / "hostile" / "footprint.py").read_text()


def size(n: float) -> str:
    return f"{n / MiB:,.0f} MiB" if n >= MiB else f"{n:,.0f} B"


def one_run(sandbox, source: Path) -> float:
    start = time.perf_counter()
    with Session(locate(source, "ex01_activations"), Limits(), sandbox) as session:
        assert session.call("sigmoid", 0.0).ok
    return time.perf_counter() - start


def timings(sandbox, runs: int) -> tuple[float, float]:
    """Median seconds per run with the cgroup and without (cgroups.support() emptied)."""
    source = REPO / "solutions"
    one_run(sandbox, source)  # warm: caches, probes
    with_group = statistics.median(one_run(sandbox, source) for _ in range(runs))
    real = cgroups.support
    cgroups.support = lambda: cgroups.Support()  # type: ignore[assignment]
    try:
        without = statistics.median(one_run(sandbox, source) for _ in range(runs))
    finally:
        cgroups.support = real
    return with_group, without


def attack(sandbox, folder: Path, function: str, *args) -> str:
    with Session(locate(folder, "ex01_activations"), Limits(call_timeout=60.0),
                 sandbox) as session:
        start = time.perf_counter()
        reply = session.call(function, *args)
        seconds = time.perf_counter() - start
        group = session._child.res.group if session._child else None  # noqa: SLF001
        peak = group.peak() if group else {}
    value = reply.value if reply.ok else f"run ended: {reply.error.message}"
    extra = []
    if "memory" in peak:
        extra.append(f"cgroup peak memory {size(peak['memory'])}")
    if "processes" in peak:
        extra.append(f"cgroup peak {peak['processes']} tasks")
    return f"{value} in {seconds:.1f} s" + (f" ({', '.join(extra)})" if extra else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--kinds", default="bubblewrap,none")
    args = parser.parse_args()
    limits = Limits()
    print(f"machine: {os.cpu_count()} cores, running as uid {os.geteuid()}; "
          f"{cgroups.support().description}")
    print(f"caps per run: RLIMIT_AS {size(limits.memory_bytes)} per process, "
          f"{size(limits.total_memory_bytes)} summed (cgroup), {limits.processes} processes/"
          f"threads, scratch {size(limits.scratch_bytes)}, /tmp {size(sandbox_module.TMP_BYTES)}"
          f", /dev/shm {size(sandbox_module.SHM_BYTES)} (tmpfs, bubblewrap), "
          f"RLIMIT_FSIZE {size(limits.file_bytes)}, CPU {limits.cpu_seconds} s")
    sandboxes = []
    for kind in args.kinds.split(","):
        try:
            sandboxes.append(detect(kind, for_class=True))
        except SandboxUnavailable as error:
            print(f"{kind}: unavailable ({error})")
    baseline = None
    for sandbox in sandboxes:
        with_group, without = timings(sandbox, args.runs)
        if sandbox.kind == "none":
            baseline = without
        print(f"{sandbox.kind}: one run {with_group * 1000:.0f} ms with its cgroup, "
              f"{without * 1000:.0f} ms without (median of {args.runs})")
        print(f"  isolation: {sandbox.description}")
    if baseline is not None:
        for sandbox in sandboxes:
            if sandbox.kind != "none":
                with_group, _ = timings(sandbox, args.runs)
                print(f"{sandbox.kind} overhead over none (no cgroup): "
                      f"{(with_group - baseline) * 1000:.0f} ms per run")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "ex01_activations.py").write_text(ATTACKS)
        for sandbox in sandboxes:
            print(f"{sandbox.kind}: attacks under the default limits")
            print("  8 children x 400 MiB held at once:",
                  attack(sandbox, folder, "hog", 8, 400, 20.0))
            print("  fork bomb, processes started (of 4000 tried):",
                  attack(sandbox, folder, "bomb", 4000))
            for where, name in ((None, "scratch"), ("/tmp", "/tmp"), ("/dev/shm", "/dev/shm")):
                print(f"  bytes written to {name} in 16 MiB files (of 1 GiB tried):",
                      attack(sandbox, folder, "fill", where, 64, 16))
            for leftover in glob.glob("/dev/shm/footprint-fill-*") + glob.glob(
                    "/tmp/footprint-fill-*"):
                os.unlink(leftover)


if __name__ == "__main__":
    main()
