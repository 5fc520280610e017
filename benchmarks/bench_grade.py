"""End-to-end wall time of `grade <exercise>` on the reference solutions.

    python benchmarks/bench_grade.py [ex01 ...] [--runs N]

Runs the installed ``grade`` command (as a student would) N times per exercise and prints the
median, min and max wall time and the peak resident memory of the grader and its child.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def grade_command() -> list[str]:
    """The `grade` script of this environment, or `python -m grader` when it is not installed."""
    script = shutil.which("grade", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "grader"]


def measure(exercise: str, runs: int) -> tuple[list[float], float]:
    """Wall seconds of each run, and the peak RSS in MiB of any process a run started."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            [*grade_command(), exercise, "--path", str(REPO / "solutions"), "--format", "json"],
            capture_output=True, text=True, cwd=REPO,
        )
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"grade {exercise} failed on the solutions:\n{done.stdout}{done.stderr}")
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return times, peak_mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exercises", nargs="*", default=["ex01"])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    print(f"grade on the solutions, {args.runs} runs each ({' '.join(grade_command())})")
    for exercise in args.exercises:
        times, peak = measure(exercise, args.runs)
        print(f"{exercise:>6}: median {statistics.median(times):.3f} s, "
              f"min {min(times):.3f} s, max {max(times):.3f} s, "
              f"peak RSS of a process so far {peak:.0f} MiB")


if __name__ == "__main__":
    main()
