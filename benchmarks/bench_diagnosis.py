"""How well the grader names mistakes, measured on the corpus in tests/judgement/.

    python benchmarks/bench_diagnosis.py [ex01 ex02 ...]

Prints, per exercise and in total: buggy submissions, the share named by their own diagnosis,
wrong diagnoses shown, unfair charges (a correct function's check failed), missed charges, and
correct idioms that lost points. Then one line per submission that falls short.
"""

from __future__ import annotations

import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO)]

from judgement import Correct, everything, graded, judge  # noqa: E402


def main(only: list[str]) -> int:
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    short: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for number, case in enumerate(everything()):
            exercise = case.module[:4]
            if only and exercise not in only:
                continue
            result = graded(case, Path(tmp) / str(number))
            row = rows[exercise]
            if isinstance(case, Correct):
                row["correct"] += 1
                lost = [c.name for c in result.checks if not c.passed and not c.hidden]
                if lost:
                    row["correct lost points"] += 1
                    short.append(f"{exercise} correct '{case.label}': lost {lost}")
                continue
            verdict = judge(case, result)
            row["buggy"] += 1
            row["named"] += verdict.named
            row["wrong"] += bool(verdict.wrong)
            row["unfair"] += bool(verdict.unfair)
            row["missed"] += bool(verdict.missed)
            if not verdict.named or verdict.wrong or verdict.unfair or verdict.missed:
                short.append(f"{exercise} '{case.label}': named={verdict.named} "
                             f"wrong={verdict.wrong} unfair={verdict.unfair} "
                             f"missed={verdict.missed}")
    total: dict[str, int] = defaultdict(int)
    print(f"{'exercise':9} {'buggy':>6} {'named':>6} {'share':>6} {'wrong':>6} {'unfair':>7} "
          f"{'missed':>7} {'correct':>8} {'lost':>5}")
    for exercise, row in sorted(rows.items()) + [("total", total)]:
        if exercise != "total":
            for key, value in row.items():
                total[key] += value
        share = row["named"] / row["buggy"] if row["buggy"] else 0.0
        print(f"{exercise:9} {row['buggy']:6} {row['named']:6} {share:6.0%} {row['wrong']:6} "
              f"{row['unfair']:7} {row['missed']:7} {row['correct']:8} "
              f"{row['correct lost points']:5}")
    for line in short:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
