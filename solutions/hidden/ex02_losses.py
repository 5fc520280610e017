"""Hidden checks of ex02 (instructors only): losses on batch sizes and scales drawn from the seed.

Probabilities stay at least 0.004 away from 0 and 1, where adding 1e-7 inside the log and
clipping to [1e-7, 1 - 1e-7] agree within the public tolerance (``LOSS_TOLERANCE``).
"""

from __future__ import annotations

import numpy as np

from grader.checks import Case, Check, function_check
from grader.exercises.ex02_losses import LOSS_TOLERANCE


def _regression(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A batch of N x C predictions and targets, N and C from 2 to 12, at a random scale."""
    shape = (int(rng.integers(2, 13)), int(rng.integers(2, 13)))
    scale = float(10 ** rng.uniform(-2, 2))
    return rng.normal(0.0, scale, size=shape), rng.normal(0.0, scale, size=shape)


def _probabilities(rng: np.random.Generator, n: int, c: int) -> np.ndarray:
    """N rows of C probabilities, each at least 0.05 / C."""
    weights = rng.uniform(0.05, 1.0, size=(n, c))
    return weights / weights.sum(axis=1, keepdims=True)


def _regression_cases(rng: np.random.Generator) -> list[Case]:
    y, t = _regression(rng)
    one_y, one_t = _regression(rng)
    return [Case(f"a {y.shape[0]}x{y.shape[1]} batch", (y, t)),
            Case(f"one sample of {one_y.shape[1]} values", (one_y[0], one_t[0]))]


def _binary_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for ndim in (1, 2):
        shape = tuple(int(n) for n in rng.integers(1, 9, size=ndim))
        y = rng.uniform(0.01, 0.99, size=shape)
        t = rng.integers(0, 2, size=shape).astype(np.float64)
        cases.append(Case(f"{'x'.join(map(str, shape))} probabilities", (y, t)))
    return cases


def _classification(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Probabilities of a batch of N from 2 to 16 over C from 2 to 12 classes, and labels."""
    n, c = int(rng.integers(2, 17)), int(rng.integers(2, 13))
    return _probabilities(rng, n, c), rng.integers(0, c, size=n), np.eye(c)


def hidden_checks(rng: np.random.Generator) -> list[Check]:
    """The hidden checks of ex02 for ``rng``."""
    y, labels, eye = _classification(rng)
    one, label = _probabilities(rng, 1, eye.shape[0])[0], int(rng.integers(0, eye.shape[0]))
    n, c = y.shape

    def check(func: str, cases: list[Case], what: str) -> Check:
        return function_check(func, cases, name=f"hidden: {func} {what}", hidden=True,
                              **LOSS_TOLERANCE)

    return [
        check("sum_squared_error", _regression_cases(rng), "on a random batch and scale"),
        check("mean_squared_error", _regression_cases(rng), "on a random batch and scale"),
        check("binary_cross_entropy", _binary_cases(rng), "on random shapes"),
        check("cross_entropy_error",
              [Case(f"a batch of {n} over {c} classes, one-hot t", (y, eye[labels])),
               Case(f"one sample over {c} classes, one-hot t", (one, eye[label]))],
              "with one-hot targets of a random batch"),
        check("cross_entropy_error",
              [Case(f"a batch of {n} over {c} classes, integer labels", (y, labels)),
               Case(f"one sample over {c} classes, an integer label", (one, np.array(label)))],
              "with integer labels of a random batch"),
    ]
