"""Checks for ex02: loss functions."""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.checks import Case, Check, Exercise, Mistake, function_check

rng = np.random.default_rng(2)

#: Probabilities compared against the reference stay at least 1e-2 away from 0 and 1, where
#: adding 1e-7 and clipping to [1e-7, 1 - 1e-7] agree to within 1e-5.
LOSS_TOLERANCE = {"rtol": 1e-5, "atol": 1e-4}


def _probabilities(n: int, c: int) -> np.ndarray:
    weights = rng.uniform(0.2, 1.0, size=(n, c))
    return weights / weights.sum(axis=1, keepdims=True)


def _one_hot(labels: np.ndarray, c: int) -> np.ndarray:
    return np.eye(c)[labels]


BOOK_Y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
BOOK_T = _one_hot(np.array(2), 10)
Y_BATCH = _probabilities(4, 10)
LABELS = rng.integers(0, 10, size=4)
Y_SINGLE = _probabilities(1, 10)[0]
REGRESSION_Y, REGRESSION_T = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
BINARY_Y = rng.uniform(0.05, 0.95, size=(6,))
BINARY_T = rng.integers(0, 2, size=(6,)).astype(np.float64)
EDGE_Y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


# Known mistakes: what to tell the learner, and the buggy function in
# solutions/mistakes/ex02_losses.py whose results on the check's inputs are stored.
MISTAKES: dict[str, list[Mistake]] = {
    "sum_squared_error": [
        Mistake("sum_squared_error without the 0.5",
                "sum_squared_error leaves out the factor 0.5 (the book's definition is "
                "0.5 * sum((y - t)**2), so that its gradient is y - t)",
                variant={"sum_squared_error": "sum_squared_error_without_half"}),
        Mistake("sum_squared_error averaged", "sum_squared_error averages; it is a sum",
                variant={"sum_squared_error": "sum_squared_error_averaged"}),
    ],
    "mean_squared_error": [
        Mistake("mse as the book's sum of squared errors",
                "mean_squared_error computes 0.5 * sum((y - t)**2): the book's formula, which "
                "the Korean edition calls 평균 제곱 오차. Here that is sum_squared_error; "
                "mean_squared_error is Keras' mse, the mean of (y - t)**2",
                variant={"mean_squared_error": "mean_squared_error_book_sum"}),
        Mistake("mse not averaged over the batch",
                "mean_squared_error returns one value per sample; take the mean over the batch "
                "too", variant={"mean_squared_error": "mean_squared_error_per_sample"}),
        Mistake("mse summed over features",
                "mean_squared_error sums over the last axis; Keras' mse takes the mean there",
                variant={"mean_squared_error": "mean_squared_error_summed_over_features"}),
        Mistake("mse with 0.5", "mean_squared_error has a factor 0.5; that belongs to "
                "sum_squared_error only",
                variant={"mean_squared_error": "mean_squared_error_with_half"}),
    ],
    "binary_cross_entropy": [
        Mistake("binary cross-entropy not averaged",
                "binary_cross_entropy sums over the elements; take the mean",
                variant={"binary_cross_entropy": "binary_cross_entropy_summed"}),
        Mistake("binary cross-entropy without the (1 - t) term",
                "binary_cross_entropy leaves out (1 - t) * log(1 - y), so targets of 0 cost "
                "nothing",
                variant={"binary_cross_entropy": "binary_cross_entropy_without_negatives"}),
        Mistake("binary cross-entropy without the 1e-7 guard",
                "binary_cross_entropy takes log(0) = -inf when a probability is exactly 0 or 1; "
                "add 1e-7 inside the logs (or clip y to [1e-7, 1 - 1e-7])",
                variant={"binary_cross_entropy": "binary_cross_entropy_without_guard"}),
    ],
    "cross_entropy_error": [
        Mistake("cross-entropy not averaged over the batch",
                "cross_entropy_error sums over the batch; divide by the batch size N so the "
                "loss does not grow with the batch",
                variant={"cross_entropy_error": "cross_entropy_error_summed"}),
        Mistake("cross-entropy averaged over every element",
                "cross_entropy_error divides by N * C (every element); divide by the batch "
                "size N only", variant={"cross_entropy_error": "cross_entropy_error_per_element"}),
        Mistake("cross-entropy only for one-hot labels",
                "cross_entropy_error works only with one-hot targets; when t holds integer "
                "labels (shape N), pick y[np.arange(N), t]",
                variant={"cross_entropy_error": "cross_entropy_error_one_hot_only"}),
        Mistake("cross-entropy without the 1e-7 guard",
                "cross_entropy_error takes log(0) = -inf when a probability is exactly 0; "
                "add 1e-7 inside the log",
                variant={"cross_entropy_error": "cross_entropy_error_without_guard"}),
    ],
}


def _swapped(func: str) -> str:
    return (f"{func} takes its arguments in the wrong order: it is called as {func}(y, t), "
            "predictions first and targets second")


def _check(func: str, cases: tuple[Case, ...], name: str, **options: Any) -> Check:
    options = {**LOSS_TOLERANCE, **options}
    return function_check(func, cases, name=name, mistakes=MISTAKES[func],
                          swapped=_swapped(func), **options)


EXERCISE = Exercise(
    id="ex02",
    module="ex02_losses",
    title="Loss functions",
    checks=(
        _check("sum_squared_error", (
            Case("the book's example (one sample, one-hot t)", (BOOK_Y, BOOK_T)),
            Case("a 5x3 regression batch", (REGRESSION_Y, REGRESSION_T)),
        ), "sum_squared_error matches the reference"),
        _check("mean_squared_error", (
            Case("one sample of 3 values", (REGRESSION_Y[0], REGRESSION_T[0])),
            Case("a 5x3 regression batch", (REGRESSION_Y, REGRESSION_T)),
        ), "mean_squared_error matches the reference"),
        _check("binary_cross_entropy", (
            Case("6 probabilities", (BINARY_Y, BINARY_T)),
            Case("a 3x2 batch", (BINARY_Y.reshape(3, 2), BINARY_T.reshape(3, 2))),
        ), "binary_cross_entropy matches the reference"),
        _check("binary_cross_entropy", (
            Case("probabilities of exactly 0 and 1", (np.array([0.0, 1.0, 0.3, 1.0]),
                                                     np.array([1.0, 0.0, 1.0, 1.0]))),
        ), "binary_cross_entropy is finite at probabilities of exactly 0 and 1", rtol=1e-3),
        _check("cross_entropy_error", (
            Case("a batch of 4 with one-hot t", (Y_BATCH, _one_hot(LABELS, 10))),
            Case("the book's example (1-D y, one-hot t)", (BOOK_Y, BOOK_T)),
        ), "cross_entropy_error matches the reference (one-hot targets)"),
        _check("cross_entropy_error", (
            Case("a batch of 4 with integer labels", (Y_BATCH, LABELS)),
            Case("one sample (1-D y) with an integer label", (Y_SINGLE, np.array(LABELS[0]))),
        ), "cross_entropy_error matches the reference (integer labels)",
            # a mistake named here must also explain the one-hot results it does not score
            probes=(Case("a batch of 4 with one-hot t", (Y_BATCH, _one_hot(LABELS, 10))),)),
        _check("cross_entropy_error", (
            # one-hot targets, so that code made for one-hot targets only is judged here on
            # the guard alone, not again on integer labels
            Case("probabilities of exactly 0 at the true class",
                 (EDGE_Y, _one_hot(np.array([0, 1]), 3))),
        ), "cross_entropy_error is finite at a probability of exactly 0", rtol=1e-3),
    ),
)
