"""Grader-owned test functions that live in the learner's process.

Some exercises take a function as input (``numerical_gradient(f, x)``); the function must be
callable in the child, so checks refer to these by name: target ``"fixture:"`` is this module
(``Context.fixture("cubic_sum")`` gives a Handle to a function here). Keep this module small
and dependent on numpy only: the child imports it before the learner's code.
"""

from __future__ import annotations

import numpy as np


def function_1(x):
    """The book's 0.01 x^2 + 0.1 x (a float x)."""
    return 0.01 * x**2 + 0.1 * x


def function_2(x):
    """The book's sum of squares, x0^2 + x1^2 + ... (any shape)."""
    return np.sum(x**2)


def cubic_sum(x):
    """sum(x^3): a forward difference is off by about 3 h x per element; central is not."""
    return np.sum(x**3)


def weighted_sin(x):
    """sum(w * sin(x)) with w = 1, 2, ..., x.size in x's shape: every element matters."""
    weights = np.arange(1.0, x.size + 1).reshape(np.shape(x))
    return np.sum(weights * np.sin(x))


def shifted_quadratic(x):
    """sum((x - 3)^2): gradient descent from anywhere converges to 3 in every element."""
    return np.sum((x - 3.0) ** 2)


def seed_numpy(seed):
    """Seed NumPy's global generator in the learner's process (np.random.randn initialisers)."""
    np.random.seed(int(seed))


def sibling(module, name):
    """``name`` from the learner's module ``module`` (e.g. ex06's TwoLayerNet, from ex08)."""
    import importlib

    return getattr(importlib.import_module(str(module)), str(name))


def new_dict(**items):
    """A dict made in the learner's process, so that it (and its arrays) persist as Handles."""
    return dict(items)
