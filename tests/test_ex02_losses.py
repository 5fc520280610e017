"""ex02 graded against the solution, correct variants the spec allows, and known mistakes."""

from __future__ import annotations

import pytest

from conftest import by_name, grade
from grader.exercises.ex02_losses import MISTAKES

CORRECT_VARIANTS = {
    "clipping instead of adding 1e-7": {
        "binary_cross_entropy": """
            def binary_cross_entropy(y, t):
                y = np.clip(y, 1e-7, 1 - 1e-7)
                return -np.mean(t * np.log(y) + (1 - t) * np.log(1 - y))
            """,
        "cross_entropy_error": """
            def cross_entropy_error(y, t):
                if y.ndim == 1:
                    t = t.reshape(1, t.size)
                    y = y.reshape(1, y.size)
                if t.size == y.size:
                    t = t.argmax(axis=1)
                n = y.shape[0]
                return -np.sum(np.log(np.clip(y[np.arange(n), t], 1e-7, 1.0))) / n
            """,
    },
    "one-hot conversion with np.eye, mse as one mean": {
        "cross_entropy_error": """
            def cross_entropy_error(y, t):
                y = np.atleast_2d(y)
                t = np.asarray(t)
                if t.size != y.size:
                    t = np.eye(y.shape[1])[t.reshape(-1)]
                t = t.reshape(y.shape)
                return -np.sum(t * np.log(y + 1e-7)) / y.shape[0]
            """,
        "mean_squared_error": """
            def mean_squared_error(y, t):
                return np.mean((y - t) ** 2)
            """,
    },
}


@pytest.mark.parametrize("name", CORRECT_VARIANTS)
def test_correct_variant_gets_full_marks(variant, name):
    result = grade("ex02", variant("ex02_losses", CORRECT_VARIANTS[name]))
    assert [(c.name, c.output) for c in result.checks if not c.passed] == []


BOOK_ONE_HOT_ONLY = """
    def cross_entropy_error(y, t):
        if y.ndim == 1:
            t = t.reshape(1, t.size)
            y = y.reshape(1, y.size)
        batch_size = y.shape[0]
        return -np.sum(t * np.log(y + 1e-7)) / batch_size
    """

# (function, buggy source, check that must fail, diagnosis it must name)
BUGS = [
    ("sum_squared_error", "def sum_squared_error(y, t):\n    return np.sum((y - t) ** 2)",
     "sum_squared_error matches the reference", "sum_squared_error without the 0.5"),
    ("sum_squared_error", "def sum_squared_error(y, t):\n    return 0.5 * np.mean((y - t) ** 2)",
     "sum_squared_error matches the reference", "sum_squared_error averaged"),
    ("mean_squared_error",
     "def mean_squared_error(y, t):\n    return np.mean((y - t) ** 2, axis=-1)",
     "mean_squared_error matches the reference", "mse not averaged over the batch"),
    ("mean_squared_error",
     "def mean_squared_error(y, t):\n    return np.mean(np.sum((y - t) ** 2, axis=-1))",
     "mean_squared_error matches the reference", "mse summed over features"),
    ("mean_squared_error", "def mean_squared_error(y, t):\n    return 0.5 * np.mean((y - t) ** 2)",
     "mean_squared_error matches the reference", "mse with 0.5"),
    # the Korean edition's 평균 제곱 오차, as its code repository writes it
    ("mean_squared_error", "def mean_squared_error(y, t):\n    return 0.5 * np.sum((y-t)**2)",
     "mean_squared_error matches the reference", "mse as the book's sum of squared errors"),
    ("binary_cross_entropy", """
        def binary_cross_entropy(y, t):
            return -np.sum(t * np.log(y + 1e-7) + (1 - t) * np.log(1 - y + 1e-7))
        """, "binary_cross_entropy matches the reference", "binary cross-entropy not averaged"),
    ("binary_cross_entropy", """
        def binary_cross_entropy(y, t):
            return -np.mean(t * np.log(y + 1e-7))
        """, "binary_cross_entropy matches the reference",
     "binary cross-entropy without the (1 - t) term"),
    ("binary_cross_entropy", """
        def binary_cross_entropy(y, t):
            return -np.mean(t * np.log(y) + (1 - t) * np.log(1 - y))
        """, "binary_cross_entropy is finite at probabilities of exactly 0 and 1",
     "binary cross-entropy without the 1e-7 guard"),
    ("cross_entropy_error", """
        def cross_entropy_error(y, t):
            y, t = np.atleast_2d(y), np.asarray(t)
            if t.size == y.size:
                t = t.reshape(y.shape).argmax(axis=1)
            return -np.sum(np.log(y[np.arange(y.shape[0]), t.reshape(-1)] + 1e-7))
        """, "cross_entropy_error matches the reference (one-hot targets)",
     "cross-entropy not averaged over the batch"),
    ("cross_entropy_error", """
        def cross_entropy_error(y, t):
            y, t = np.atleast_2d(y), np.asarray(t)
            if t.size == y.size:
                t = t.reshape(y.shape).argmax(axis=1)
            return -np.sum(np.log(y[np.arange(y.shape[0]), t.reshape(-1)] + 1e-7)) / y.size
        """, "cross_entropy_error matches the reference (one-hot targets)",
     "cross-entropy averaged over every element"),
    ("cross_entropy_error", BOOK_ONE_HOT_ONLY,
     "cross_entropy_error matches the reference (integer labels)",
     "cross-entropy only for one-hot labels"),
    ("cross_entropy_error", """
        def cross_entropy_error(y, t):
            y, t = np.atleast_2d(y), np.asarray(t)
            if t.size == y.size:
                t = t.reshape(y.shape).argmax(axis=1)
            n = y.shape[0]
            return -np.sum(np.log(y[np.arange(n), t.reshape(-1)])) / n
        """, "cross_entropy_error is finite at a probability of exactly 0",
     "cross-entropy without the 1e-7 guard"),
]


@pytest.mark.parametrize(("func", "source", "check", "diagnosis"), BUGS,
                         ids=[f"{b[0]}: {b[3]}" for b in BUGS])
def test_known_mistake_is_caught_and_named(variant, func, source, check, diagnosis):
    result = grade("ex02", variant("ex02_losses", {func: source}))
    checks = by_name(result)
    assert not checks[check].passed
    assert checks[check].diagnosis == diagnosis, checks[check].output
    for other in result.checks:
        if not other.name.startswith(func):
            assert other.passed, (other.name, other.output)


def test_every_known_mistake_has_a_buggy_submission():
    covered = {(func, diagnosis) for func, _, _, diagnosis in BUGS}
    listed = {(func, m.name) for func, mistakes in MISTAKES.items() for m in mistakes}
    assert listed <= covered, listed - covered
