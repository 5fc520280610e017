"""Red-team attacks on the grader's side of the pipe: forged array shapes and replies that are
small along their first items but at the size cap in all.

Each failed before its fix: a forged ``.npy`` header of shape (10**20, 0) made the grader's
reader raise ValueError (an exception of the grader, not a learner fault); a learner returning
``(0.0, <64 MiB array>)`` from every call made ``grade ex01`` peak at 955 MB (the replies were
kept for diagnosis, and failed checks' tracebacks held them until a garbage collection).
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from grader.runner.protocol import ProtocolError, npy_header
from grader.runner.session import Session

from .test_bounded_messages import FORGE


def npy_prefix(descr: str, shape_text: str) -> bytes:
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({shape_text}), }}"
    pad = -(8 + 2 + len(header) + 1) % 64
    text = (header + " " * pad + "\n").encode()
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text


@pytest.mark.parametrize("shape", ["100000000000000000000, 0", "4611686018427387904, 2, 0",
                                   ", ".join(["1"] * 40)])
def test_impossible_shapes_are_a_protocol_error(shape: str) -> None:
    with pytest.raises(ProtocolError):
        npy_header(npy_prefix("<f8", shape))


def test_an_empty_array_of_an_ordinary_shape_still_reads() -> None:
    assert npy_header(npy_prefix("<f8", "0, 3"))[1:] == ((0, 3), 0)


def test_a_forged_impossible_shape_costs_only_the_call(learner: Callable[..., Session]) -> None:
    tail = struct.pack(">Q", len(npy_prefix("<f8", "100000000000000000000, 0")))
    tail += npy_prefix("<f8", "100000000000000000000, 0")
    forged = ("b'{\"id\":ID,\"ok\":true,\"frames\":1,\"value\":{\"t\":\"a\",\"i\":0}}', "
              f"{tail!r}")
    s = learner(FORGE + f"\ndef bad():\n    forge({forged})\n\ndef small():\n    return 1\n")
    error = s.call("bad").error  # raised ValueError in the grader before the fix
    assert error is not None and error.kind == "crashed", error
    assert s.call("small").value == 1


def test_tree_size_counts_every_part() -> None:
    from grader.checks.compare import tree_size

    big = np.zeros(10**6)
    assert tree_size((0.0, big)) == (10**6 + 1, 8 * 10**6 + 8)
    assert tree_size({"a": [1, 2], "b": (big[:10],)}) == (12, 96)


HOG = '''
import numpy as np
_BIG = np.zeros(8 * 2**20 - 4096)


def _big(x):
    return [0.0, _BIG] if np.ndim(x) == 0 else (np.zeros(np.shape(x)), _BIG)


sigmoid = tanh = relu = sigmoid_grad = tanh_grad = relu_grad = _big
'''


def test_replies_at_the_cap_are_not_held_by_the_dozen(tmp_path: Path) -> None:
    """Every call answers with 64 MiB that a first-item shape calls small: the grader's own
    process stays well under 512 MiB (955 MB before)."""
    solution = Path(__file__).resolve().parents[2] / "solutions" / "ex01_activations.py"
    (tmp_path / "ex01_activations.py").write_text(solution.read_text() + HOG)
    script = (
        "import sys; from pathlib import Path\n"
        "from grader.engine import grade_path\nfrom grader.registry import load\n"
        f"r = grade_path(load('ex01'), Path({str(tmp_path)!r}))\n"
        "hwm = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]\n"
        "print(r.score, int(hwm) // 1024)\n"
    )
    import subprocess

    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    score, peak_mib = done.stdout.split()
    assert float(score) < 25
    assert int(peak_mib) < 300, f"the grader peaked at {peak_mib} MiB"
