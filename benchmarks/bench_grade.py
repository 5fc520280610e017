"""End-to-end wall time and peak memory of `grade <exercise>` on the reference solutions.

    python benchmarks/bench_grade.py [ex01 ... | all] [--runs N]

Runs the installed ``grade`` command (as a student would) N times per exercise and prints the
median, min and max wall time, and the peak resident memory (sampled every 20 ms from /proc)
of the grader process, of its learner child processes, and of both together.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def grade_command() -> list[str]:
    """The `grade` script of this environment, or `python -m grader` when it is not installed."""
    script = shutil.which("grade", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "grader"]


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                found.append(child)
                todo.append(child)
    return found


class PeakMemory:
    """Samples the RSS of a process and of its descendants until stopped."""

    def __init__(self, pid: int) -> None:
        self.pid, self.grader, self.children, self.total = pid, 0, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            own = _rss_kib(self.pid)
            kids = sum(_rss_kib(p) for p in _descendants(self.pid))
            self.grader, self.children = max(self.grader, own), max(self.children, kids)
            self.total = max(self.total, own + kids)
            time.sleep(0.02)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def measure(exercise: str, runs: int) -> tuple[list[float], PeakMemory]:
    """Wall seconds of each run and the memory peaks over all runs."""
    times, peaks = [], None
    for _ in range(runs):
        start = time.perf_counter()
        process = subprocess.Popen(
            [*grade_command(), exercise, "--path", str(REPO / "solutions"), "--format", "json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        )
        sampler = PeakMemory(process.pid)
        out, err = process.communicate()
        times.append(time.perf_counter() - start)
        sampler.stop()
        if process.returncode != 0:
            sys.exit(f"grade {exercise} failed on the solutions:\n{out[-2000:]}{err[-2000:]}")
        if peaks is None or sampler.total > peaks.total:
            peaks = sampler
    return times, peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exercises", nargs="*", default=["ex01"])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    print(f"grade on the solutions, {args.runs} run(s) each ({' '.join(grade_command())})")
    for exercise in args.exercises:
        times, peak = measure(exercise, args.runs)
        print(f"{exercise:>6}: median {statistics.median(times):.3f} s, "
              f"min {min(times):.3f} s, max {max(times):.3f} s; peak RSS grader "
              f"{peak.grader / 1024:.0f} MiB, learner child(ren) {peak.children / 1024:.0f} MiB, "
              f"together {peak.total / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
