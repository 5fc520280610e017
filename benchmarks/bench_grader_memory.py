"""Peak memory and wall time of the grader's own process when a learner returns or hands in
something huge, next to the grading of the correct solution measured in the same run.

    python benchmarks/bench_grader_memory.py [CASE ...] [--repo PATH]

Each case is a real grading of ex01 (``grader.engine.grade_path``) in a fresh Python process,
which reports its own peak resident memory (``VmHWM`` of /proc/self/status: the grader only, not
the learner's child process; ``ru_maxrss`` would also count the memory of the benchmark process
it was forked from) and its wall time. Most cases are the solution with
``softmax`` and ``sigmoid`` replaced by a hostile function; "forged" ones bypass the child's
encoder and write straight into the grader's reply pipe, as code that tampers with the child
can. ``--repo`` grades with another checkout of the grader (to compare with an older one).
The target is a grader well under 512 MiB in every case.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOLUTION = REPO / "solutions" / "ex01_activations.py"

#: Finds the child's channel and the id of the request being served (learner code can).
FORGE = '''
import gc as _gc, os as _os, struct as _struct

def _forge(payload_of_id):
    server = next(o for o in _gc.get_objects() if type(o).__name__ == "_Server")
    fd = server.channel._wfd
    data = payload_of_id(server.current_id)
    _os.write(fd, data) if len(data) < 65536 else [
        _os.write(fd, data[i:i + 65536]) for i in range(0, len(data), 65536)]
    import time; time.sleep(30)

def _frame(raw):
    return _struct.pack(">Q", len(raw)) + raw
'''

HOSTILE = {
    "reply 80 MB array": "return np.ones(80 * 10**6, np.uint8)",
    "reply 400 MB array": "return np.ones(400 * 10**6, np.uint8)",
    "reply 15 Mi bools (within caps)": "return np.ones(15 * 2**20, bool)",
    "forged 400 MB array frame": (
        "_forge(lambda i: _frame(('{\"id\":%d,\"ok\":true,\"value\":{\"t\":\"a\",\"i\":0},"
        "\"frames\":1}' % i).encode()) + _struct.pack('>Q', 400 * 10**6))"
    ),
    "reply 8 MB nested JSON": "return [[[0.5] * 100] * 20] * 1000",
    "forged 8 MB nested JSON": (
        "_forge(lambda i: _frame(('{\"id\":%d,\"ok\":true,\"frames\":0,\"value\":' % i).encode()"
        " + b'[' + b','.join([b'[[0.5,0.5],[0.5]]'] * 500_000) + b']}'))"
    ),
    "forged deep nesting (400k)": (
        "_forge(lambda i: _frame(('{\"id\":%d,\"ok\":true,\"frames\":0,\"value\":' % i).encode()"
        " + b'[' * 400_000 + b']' * 400_000 + b'}'))"
    ),
    "forged 300k values in 1 MB": (
        "_forge(lambda i: _frame(('{\"id\":%d,\"ok\":true,\"frames\":0,\"value\":[' % i).encode()"
        " + b','.join([b'0'] * 300_000) + b']}'))"
    ),
    "reply 10 M-element list": "return [0.5] * 10_000_000",
}
FILES = ("notebook of 3.5 MB of literals", "notebook of 5 MB of literals", "notebook of 50 MB",
         "source of 3.5 MB of literals", "source of 50 MB")
CASES = ("correct solution", *HOSTILE, *FILES)


def _literals(megabytes: float) -> str:
    """A line ``DATA = [0, 1, 2, ...]`` of about ``megabytes`` MB."""
    items, size, n = [], 0, 0
    while size < megabytes * 10**6:
        text = str(n % 100_000)
        items.append(text)
        size += len(text) + 2
        n += 1
    return "DATA = [" + ", ".join(items) + "]\n"


def _notebook(cells: list[str]) -> str:
    return json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                   "id": f"c{i}", "source": source} for i, source in enumerate(cells)],
    })


def build(case: str, folder: Path) -> Path:
    """Write the submission of ``case`` into ``folder``; its path."""
    solution = SOLUTION.read_text()
    if case == "correct solution":
        path, text = folder / "ex01_activations.py", solution
    elif case in HOSTILE:
        body = HOSTILE[case]
        path = folder / "ex01_activations.py"
        text = (solution + FORGE + f"\n\ndef softmax(x):\n    {body}\n"
                f"\n\ndef sigmoid(x):\n    {body}\n")
    elif case.startswith("notebook of") and case.endswith("MB of literals"):
        megabytes = float(case.split()[2])
        path, text = folder / "ex01_activations.ipynb", _notebook([solution, _literals(megabytes)])
    elif case == "notebook of 50 MB":
        outputs = "x" * (50 * 10**6)
        path, text = folder / "ex01_activations.ipynb", _notebook([solution, f"# {outputs}"])
    elif case == "source of 3.5 MB of literals":
        path, text = folder / "ex01_activations.py", solution + _literals(3.5)
    elif case == "source of 50 MB":
        path, text = folder / "ex01_activations.py", solution + "#" + "x" * (50 * 10**6) + "\n"
    else:
        raise SystemExit(f"unknown case {case!r}; one of {', '.join(CASES)}")
    path.write_text(text)
    return path


def worker(case: str, path: Path, repo: Path) -> None:
    """Grade the submission at ``path`` in this process and print one JSON line of figures."""
    sys.path.insert(0, str(repo))
    from grader.engine import grade_path
    from grader.registry import load
    from grader.runner.submission import SubmissionError

    started = time.perf_counter()
    try:
        result = grade_path(load("ex01"), path)
        score = f"{result.score:g}/{result.max_score:g}"
        failed = [c.output for c in result.checks if c.status != "passed"]
        said = result.error or (failed[0] if failed else "all checks pass")
    except SubmissionError as error:
        score, said = "refused", str(error)
    seconds = time.perf_counter() - started
    status = Path("/proc/self/status").read_text().splitlines()
    peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(json.dumps({"case": case, "peak_mib": peak_kib / 1024, "seconds": seconds,
                      "score": score, "said": " ".join(said.split())[:110]}))


def measure(case: str, repo: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:  # built here: the worker measures grading only
        path = build(case, Path(tmp))
        done = subprocess.run(
            [sys.executable, __file__, "--worker", case, "--path", str(path), "--repo", str(repo)],
            capture_output=True, text=True, timeout=1800,
        )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"case": case, "peak_mib": float("nan"), "seconds": float("nan"),
                "score": "error", "said": tail[0][:110]}
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help="cases to run (default: all)")
    parser.add_argument("--repo", type=Path, default=REPO, help="the grader checkout to use")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.path, args.repo)
        return
    cases = args.cases or list(CASES)
    if "correct solution" not in cases:
        cases.insert(0, "correct solution")
    print(f"grader: {args.repo}  python {sys.version.split()[0]}  pid {os.getpid()}")
    print(f"{'case':34} {'peak MiB':>9} {'x base':>7} {'seconds':>8}  score    "
          "what the learner sees")
    base = None
    for case in cases:
        row = measure(case, args.repo)
        base = base or row["peak_mib"]
        ratio = row["peak_mib"] / base if base else float("nan")
        print(f"{case:34} {row['peak_mib']:9.0f} {ratio:7.2f} {row['seconds']:8.1f}  "
              f"{row['score']:8} {row['said']}", flush=True)


if __name__ == "__main__":
    main()
