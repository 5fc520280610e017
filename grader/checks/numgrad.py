"""Central-difference gradients computed in the grader, for checking backward passes.

The function differentiated may call into the learner's code (each evaluation is one call
through the runner), so keep the arrays small: 2 * x.size evaluations are made.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5
                       ) -> np.ndarray:
    """d f / d x by central differences, for scalar ``f`` of an array ``x`` (not modified).

    Args:
        f: maps an array of x's shape to a scalar.
        x: the point, any shape, float64.
        h: the step.
    Returns:
        Array of x's shape.
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        plus = float(f(x.copy()))
        x[index] = original - h
        minus = float(f(x.copy()))
        x[index] = original
        grad[index] = (plus - minus) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """CS231n's relative error: max |a - b| / max(1e-8, |a| + |b|); about 1e-7 or less is right."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
