"""Hostile replies to the checks: a reply far larger than expected is refused by its shape
before anything converts it, so the grader never allocates a float64 copy of it."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import numpy as np
import pytest

from grader.checks import Case, CheckFailed, assert_close
from grader.checks.compare import float_array, value_shape
from grader.exercises import ex01_activations, ex06_two_layer_net, ex07_optimizers, ex08_training

#: 100x a (3, 10**4) expected result: 3 MB as bytes, 24 MB once converted to float64.
HUGE = np.ones(3 * 10**6, dtype=np.uint8)
EXPECTED = np.zeros((3, 10**4))
BIG_BYTES = np.ones(10**7, dtype=np.uint8)  # 10 MB; 80 MB as float64


def peak_bytes(action: Callable[[], object]) -> int:
    """The most memory ``action()`` allocated at once (numpy reports to tracemalloc)."""
    tracemalloc.start()
    try:
        try:
            action()
        except CheckFailed:
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def refused(action: Callable[[], object]) -> str:
    with pytest.raises(CheckFailed) as info:
        action()
    return info.value.message


def test_a_reply_100x_too_large_is_refused_without_being_converted() -> None:
    message = refused(lambda: assert_close(HUGE, EXPECTED, what="softmax"))
    assert message == "softmax: got shape (3000000,), expected shape (3, 10000)"
    assert peak_bytes(lambda: assert_close(HUGE, EXPECTED, what="x")) < 100_000


def test_nested_lists_are_judged_by_their_length_before_conversion() -> None:
    rows = [[0.5] * 10**4] * 300
    assert value_shape(rows) == (300, 10**4)
    message = refused(lambda: float_array(rows, what="v", shape=(3,), lists=True))
    assert message == "v: got shape (300, 10000), expected shape (3,)"
    assert peak_bytes(lambda: float_array(rows, what="v", shape=(3,), lists=True)) < 100_000
    assert refused(lambda: float_array(rows, what="v", max_size=1000, lists=True)).startswith(
        "v: got 3000000 values"
    )


def test_replies_of_the_expected_size_are_converted_as_before() -> None:
    np.testing.assert_array_equal(float_array([1, 2], what="v", shape=(2,), lists=True), [1, 2])
    assert float_array(np.array([[4]]), what="v", shape=()).shape == ()
    assert refused(lambda: float_array([1, 2], what="v", shape=(2,))) == (
        "v: expected a number or array, got a list"
    )
    assert refused(lambda: float_array([[1], [1, 2]], what="v", shape=(2, 1), lists=True)) == (
        "v: expected numbers, got a list that is not an array of numbers"
    )


AT_ZERO = ex01_activations.AT_ZERO
ROWS = np.zeros((5, 6))


def fail_with(problem: str | None) -> None:
    """A predicate's problem as the CheckFailed its check raises."""
    if problem is not None:
        raise CheckFailed(problem)
HISTORY_OK = {"train_loss": [1.0, 0.5], "train_acc": [0.1], "test_acc": [0.2]}


@pytest.mark.parametrize(
    "action",
    [
        lambda: fail_with(ex01_activations._is_binary_at_zero(BIG_BYTES, AT_ZERO)),
        lambda: fail_with(ex01_activations._step_at_zero(BIG_BYTES, AT_ZERO)),
        lambda: fail_with(ex01_activations._rows_sum_to_one(BIG_BYTES, Case("5x6", (ROWS,)))),
        lambda: ex06_two_layer_net._weight_problem(BIG_BYTES, 0.01, "W1"),
        lambda: ex07_optimizers._moved(BIG_BYTES, np.zeros((3, 4)), "W"),
        lambda: ex08_training._history({**HISTORY_OK, "train_loss": BIG_BYTES.view(bool)}, 10),
    ],
    ids=["ex01 binary at zero", "ex01 step", "ex01 rows sum", "ex06 weights", "ex07 update",
         "ex08 history"],
)
def test_exercise_checks_refuse_huge_replies_before_converting(action: Callable) -> None:
    """Each exercise's own conversions go through the shared guard: no float64 copy."""
    assert peak_bytes(action) < 1_000_000
    with pytest.raises(CheckFailed):
        action()


def test_two_huge_learner_results_are_not_compared_elementwise() -> None:
    """ex01 compares softmax(x + c) with softmax(x): both the learner's, of its chosen size."""
    huge = BIG_BYTES.view(bool)
    assert "more than a check compares" in refused(lambda: assert_close(huge, huge, what="s"))
    assert peak_bytes(lambda: assert_close(huge, huge, what="s")) < 100_000
