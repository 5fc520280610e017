"""Hostile submissions: each ends within its limits and never scores more than it earned."""

from __future__ import annotations

import time
from functools import cache

import pytest

from conftest import SOLUTIONS, TEST_LIMITS, by_name, grade
from grader.engine import NOT_RUN_IMPORT

#: Each waits for a timeout or grades a hostile run: seconds per test (run in CI too).
pytestmark = pytest.mark.slow


@cache
def honest_score_without_softmax() -> float:
    """What ex01 is worth when every softmax check fails and everything else passes."""
    full = grade("ex01", SOLUTIONS)
    assert full.full_marks
    return full.max_score - sum(c.max_score for c in full.checks if c.name.startswith("softmax"))


def timed(exercise, path):
    start = time.monotonic()
    result = grade(exercise, path)
    return result, time.monotonic() - start


def stub_with(tmp_path, body: str):
    """A submission whose module is ``body`` only: every exercise function is missing."""
    path = tmp_path / "ex01_activations.py"
    path.write_text(body)
    return path


@pytest.mark.parametrize(("body", "needle"), [
    ("while True:\n    pass\n", "timed out"),
    ("import sys\nsys.exit(0)\n", "exit"),
    ("import os\nos._exit(0)\n", "exit"),
    ("blob = bytearray(8 * 1024**3)\n", "memory"),
    ("chunks = []\nwhile True:\n    chunks.append(bytearray(10**8))\n", "memory"),
    ("raise RuntimeError('boom')\n", "RuntimeError: boom"),
])
def test_hostile_import_scores_zero_with_a_clear_message(tmp_path, body, needle):
    result, seconds = timed("ex01", stub_with(tmp_path, body))
    assert result.score == 0
    assert result.error and needle.lower() in result.error.lower(), result.error
    assert all(c.output == NOT_RUN_IMPORT for c in result.checks)  # the error is said once
    assert seconds < TEST_LIMITS.import_timeout + 5


def test_endless_loop_in_one_function_costs_only_that_functions_checks(variant):
    loop = "def softmax(x):\n    while True:\n        pass"
    path = variant("ex01_activations", {"softmax": loop})
    result, seconds = timed("ex01", path)
    assert result.score == honest_score_without_softmax()
    loops = [c for c in result.checks if c.name.startswith("softmax")]
    assert all("timed out" in c.output for c in loops)
    # One timeout, not one per softmax check: later calls fail fast.
    assert seconds < TEST_LIMITS.call_timeout * 2 + 5


def test_memory_bomb_in_one_function_costs_only_that_functions_checks(variant):
    path = variant("ex01_activations",
                   {"softmax": "def softmax(x):\n    return np.ones((10**6, 10**6))"})
    result, _ = timed("ex01", path)
    assert result.score == honest_score_without_softmax()
    assert "memory" in by_name(result)["softmax rows sum to 1"].output.lower()


def test_exit_inside_a_function_loses_only_that_functions_checks(variant):
    leave = "def softmax(x):\n    import os\n    os._exit(7)"
    path = variant("ex01_activations", {"softmax": leave})
    result, _ = timed("ex01", path)
    assert result.score == honest_score_without_softmax()
    assert "exit" in by_name(result)["softmax rows sum to 1"].output.lower()


def test_fake_score_printed_by_the_learner_changes_nothing(tmp_path):
    body = (
        "print('Total for ex01: 25/25')\n"
        "print('{\"exercise\": \"ex01\", \"score\": 25, \"max_score\": 25}')\n"
        "def softmax(x):\n    print('Total for ex01: 25/25')\n    return x\n"
    )
    result = grade("ex01", stub_with(tmp_path, body))
    assert result.score == 0
    assert "Total for ex01: 25/25" in result.learner_output  # shown as the learner's output


def test_output_flood_is_capped_and_grading_goes_on(variant):
    path = variant("ex01_activations", {"relu": """
        def relu(x):
            import sys
            for _ in range(2000):
                sys.stdout.write("spam " * 20000 + "\\n")
            return np.maximum(0, x)
        """})
    result, seconds = timed("ex01", path)
    assert result.score == result.max_score
    assert len(result.learner_output) <= TEST_LIMITS.output_bytes + 200
    assert "dropped" in result.learner_output


def test_monkeypatching_numpy_in_the_learner_process_changes_nothing(variant):
    prelude = (
        "import numpy as np\n"
        "np.allclose = lambda *a, **k: True\n"
        "np.array_equal = lambda *a, **k: True\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "np.isclose = lambda a, b, *args, **k: np.ones(np.shape(a), bool)\n"
    )
    path = variant("ex01_activations", {"tanh": "def tanh(x):\n    return np.tanh(x) * 2"},
                   prelude=prelude)
    result = grade("ex01", path)
    assert not by_name(result)["tanh matches the reference"].passed
    assert result.score < result.max_score


def test_ndarray_subclass_with_lying_eq_is_judged_by_its_values(variant):
    prelude = (
        "import numpy as np\n"
        "class Liar(np.ndarray):\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "    def __sub__(self, other):\n        return np.zeros(self.shape)\n"
        "    def __array_finalize__(self, obj):\n        pass\n"
    )
    path = variant("ex01_activations",
                   {"tanh": "def tanh(x):\n    return np.zeros(np.shape(x)).view(Liar)"},
                   prelude=prelude)
    result = grade("ex01", path)
    check = by_name(result)["tanh matches the reference"]
    assert not check.passed and "largest error" in check.output
