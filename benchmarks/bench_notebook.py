"""Wall time of ``check("ex01")`` in a real Jupyter kernel, beside a bare NumPy start.

    python benchmarks/bench_notebook.py [--runs N]

Prints figures only (no asserts): the median of N checks of the reference ex01 defined in the
kernel's cells, the median of N ``python -c "import numpy"`` starts, and their ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import start_new_kernel

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "ex01_activations.py"


def _numpy_start() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import numpy"], check=True)
    return time.perf_counter() - started


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as cwd:
        manager, client = start_new_kernel(kernel_name="python3", cwd=cwd)
        try:
            first, *rest = SOLUTION.read_text().split("\n# %%")
            for cell in [first, *("# %%" + part for part in rest)]:
                client.execute_interactive(cell, timeout=60, output_hook=lambda m: None)
            client.execute_interactive("from grader import check\ncheck('ex01')", timeout=120,
                                       output_hook=lambda m: None)
            timing = ("import time as _t, json as _j\n_s = _t.perf_counter(); _r = check('ex01')\n"
                      "print(_j.dumps([_t.perf_counter() - _s, _r.score, _r.max_score]))")
            checks = []
            for _ in range(runs):
                lines: list[str] = []
                client.execute_interactive(
                    timing, timeout=120, store_history=False,
                    output_hook=lambda m, out=lines: out.append(m["content"].get("text", ""))
                    if m["msg_type"] == "stream" else None)
                seconds, score, max_score = json.loads("".join(lines).strip().splitlines()[-1])
                checks.append(seconds)
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
    numpy = [_numpy_start() for _ in range(runs)]
    check_median, numpy_median = statistics.median(checks), statistics.median(numpy)
    print(f"check('ex01') in a kernel: median {check_median:.3f} s over {runs} runs "
          f"(min {min(checks):.3f}, max {max(checks):.3f}), score {score:g}/{max_score:g}")
    print(f"python -c 'import numpy':  median {numpy_median:.3f} s over {runs} runs")
    print(f"ratio: {check_median / numpy_median:.1f}x a bare NumPy start")


if __name__ == "__main__":
    main()
