"""Wall time of `grade report OUT` on a made-up class (no grading involved).

    python benchmarks/bench_class_report.py [--students N] [--runs R]

Fills a gradebook with N students x every exercise (the real checks' names and points, about a
fifth failed at random, some with a diagnosed mistake, a few timeouts and crashes), writes
grades.json with the batch's own writer, then runs `grade report` R times and prints the
median, min and max wall time and CPU time of the whole command, and of write_report() in
this process (CPU time says more than wall time on a busy machine).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.batch.entries import Entry
from grader.batch.gradebook import Gradebook
from grader.batch.outputs import write_outputs
from grader.classreport import write_report
from grader.registry import EXERCISE_MODULES, load
from grader.result import CheckResult, ExerciseResult

MISTAKES = ["forgot to subtract the maximum", "sum instead of mean", "transposed weights"]


def made_up_result(exercise_id: str, rng: random.Random) -> ExerciseResult:
    exercise = load(exercise_id)
    fault = rng.choices([None, "timeout", "crashed"], [0.96, 0.02, 0.02])[0]
    result = ExerciseResult(exercise.id, exercise.title, f"{exercise.module}.py", fault=fault)
    for check in exercise.checks:
        if rng.random() < 0.2:
            diagnosis = rng.choice(MISTAKES) if rng.random() < 0.3 else None
            result.checks.append(CheckResult(check.name, 0.0, check.points, "failed",
                                             "largest error 0.42", diagnosis))
        else:
            result.checks.append(CheckResult(check.name, check.points, check.points, "passed",
                                             "ok"))
    return result


def make_class(out: Path, students: int) -> None:
    rng = random.Random(0)
    names = [f"student{i:03d}" for i in range(students)]
    exercises = list(EXERCISE_MODULES)
    with Gradebook(out / "gradebook.sqlite") as book:
        for name in names:
            for exercise in exercises:
                book.record(name, "content", "grader", made_up_result(exercise, rng), 1.0)
        write_outputs(out, book, [Entry(n, out / n, None) for n in names], exercises)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        make_class(out, args.students)
        command, command_cpu, in_process, in_process_cpu = [], [], [], []
        for _ in range(args.runs):
            started, cpu = time.perf_counter(), _children_cpu()
            subprocess.run([sys.executable, "-m", "grader", "report", str(out)], check=True,
                           capture_output=True)
            command.append(time.perf_counter() - started)
            command_cpu.append(_children_cpu() - cpu)
            started, cpu = time.perf_counter(), time.process_time()
            write_report(out)
            in_process.append(time.perf_counter() - started)
            in_process_cpu.append(time.process_time() - cpu)
        size = (out / "report.html").stat().st_size
    print(f"{args.students} students x {len(EXERCISE_MODULES)} exercises, report {size / 1024:.0f} "
          f"KiB; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for label, times in (("grade report", command), ("  its CPU", command_cpu),
                         ("write_report", in_process), ("  its CPU", in_process_cpu)):
        print(f"{label:<13} median {statistics.median(times):.2f} s, "
              f"min {min(times):.2f} s, max {max(times):.2f} s")


def _children_cpu() -> float:
    """User and system CPU seconds of this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
