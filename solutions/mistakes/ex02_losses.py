"""Known mistakes of ex02 losses, one buggy function each (instructors only).

Each takes the arguments ``(y, t)`` of the spec's function it stands for;
``grader/exercises/ex02_losses.py`` names them in ``Mistake(..., variant={...})``, and only their
results are stored.
"""

import numpy as np


def sum_squared_error_without_half(y, t):
    return np.sum((np.asarray(y) - t) ** 2)


def sum_squared_error_averaged(y, t):
    return 0.5 * np.mean((np.asarray(y) - t) ** 2)


def mean_squared_error_per_sample(y, t):
    return np.mean((np.asarray(y) - t) ** 2, axis=-1)


def mean_squared_error_summed_over_features(y, t):
    return np.mean(np.sum((np.asarray(y) - t) ** 2, axis=-1))


def mean_squared_error_book_sum(y, t):
    """The Korean edition's 평균 제곱 오차: the book's 0.5 * sum of squared errors."""
    return 0.5 * np.sum((np.asarray(y) - np.asarray(t)) ** 2)


def mean_squared_error_with_half(y, t):
    return 0.5 * np.mean((np.asarray(y) - t) ** 2)


def binary_cross_entropy_summed(y, t):
    return -np.sum(t * np.log(y + 1e-7) + (1 - t) * np.log(1 - y + 1e-7))


def binary_cross_entropy_without_negatives(y, t):
    """Leaves out the (1 - t) * log(1 - y) term."""
    return -np.mean(t * np.log(y + 1e-7))


def binary_cross_entropy_without_guard(y, t):
    return -np.mean(t * np.log(y) + (1 - t) * np.log(1 - y))


def _cross_entropy(y, t, per="sample", guard=1e-7):
    """Cross-entropy divided ``per`` "sample" (right), "element" or "nothing"."""
    y, t = np.atleast_2d(y), np.asarray(t)
    labels = t.reshape(y.shape).argmax(axis=-1) if t.size == y.size else t.reshape(-1)
    total = -np.sum(np.log(y[np.arange(y.shape[0]), labels] + guard))
    return total / {"sample": y.shape[0], "element": y.size, "nothing": 1}[per]


def cross_entropy_error_summed(y, t):
    return _cross_entropy(y, t, per="nothing")


def cross_entropy_error_per_element(y, t):
    return _cross_entropy(y, t, per="element")


def cross_entropy_error_one_hot_only(y, t):
    """Multiplies by t: right for one-hot targets, meaningless for integer labels."""
    return -np.sum(t * np.log(y + 1e-7)) / np.atleast_2d(y).shape[0]


def cross_entropy_error_without_guard(y, t):
    return _cross_entropy(y, t, guard=0.0)
