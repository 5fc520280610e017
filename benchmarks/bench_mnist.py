"""Time `load_mnist()` (the book's defaults) without and with the decoded cache.

    python benchmarks/bench_mnist.py [--runs N]

The first load runs in a fresh process against an empty cache folder (a temporary data folder
holding links to the repository's MNIST files, through BACKPROP_LAB_DATASETS), so it checks and
decodes the .gz files and writes the cache; each cached load then runs in its own fresh process,
as a learner's script or the grader's child would. Prints those wall times (the median of the
cached ones) and the size of the cache. The repository's own cache is left untouched.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MNIST = REPO / "datasets" / "mnist"

#: Runs in a child: one load with the book's defaults, its wall time printed in seconds.
LOAD = """
import time
import numpy
start = time.perf_counter()
from dataset.mnist import load_mnist
(x_train, t_train), (x_test, t_test) = load_mnist()
print(time.perf_counter() - start)
assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
"""


def timed_load(datasets: Path) -> float:
    """Seconds that importing dataset.mnist and one `load_mnist()` take in a fresh process."""
    env = {**os.environ, "BACKPROP_LAB_DATASETS": str(datasets)}
    done = subprocess.run(
        [sys.executable, "-c", LOAD], capture_output=True, text=True, env=env, cwd=REPO
    )
    if done.returncode != 0:
        sys.exit(f"load_mnist() failed:\n{done.stdout}{done.stderr}")
    return float(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="cached loads (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-mnist-") as scratch:
        datasets = Path(scratch)
        (datasets / "mnist").mkdir()
        for source in MNIST.iterdir():
            if source.is_file():
                (datasets / "mnist" / source.name).symlink_to(source)
        first = timed_load(datasets)
        cached = [timed_load(datasets) for _ in range(args.runs)]
        cache = datasets / "mnist" / "cache"
        size = sum(path.stat().st_size for path in cache.glob("*.npy"))
        files = len(list(cache.glob("*.npy")))
    print("load_mnist() with defaults, each in a fresh process (numpy imported first)")
    print(f"  first load (check, decode, write cache): {first:.3f} s")
    print(f"  cached load, median of {args.runs}: {statistics.median(cached):.3f} s "
          f"(min {min(cached):.3f}, max {max(cached):.3f})")
    print(f"  cache: {files} files, {size / 1024**2:.1f} MiB")


if __name__ == "__main__":
    main()
