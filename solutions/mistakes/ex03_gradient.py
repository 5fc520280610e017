"""Known mistakes of ex03 numerical differentiation, one buggy function each (instructors only).

Each takes the arguments of the spec's function it stands for (``f`` is a grader fixture, as in
the checks); ``grader/exercises/ex03_gradient.py`` names them in ``Mistake(..., variant={...})``,
and only their results are stored. Each behaves as the buggy learner function would, for any
shape of x.
"""

import numpy as np

H = 1e-4


# ------------------------------------------------------------------------- numerical_diff


def numerical_diff_forward(f, x):
    return (f(x + H) - f(x)) / H


def numerical_diff_tiny_h(f, x):
    return (f(x + 1e-50) - f(x - 1e-50)) / (2 * 1e-50)


def numerical_diff_divided_by_h(f, x):
    return (f(x + H) - f(x - H)) / H


def numerical_diff_times_h(f, x):
    """a / 2 * h is (a / 2) * h."""
    return (f(x + H) - f(x - H)) / 2 * H


# --------------------------------------------------------------------- numerical_gradient


def _central(diff, h):
    return diff / (2 * h)


def _gradient(f, x, *, h=H, forward=False, quotient=_central):
    """A numerical gradient computed on a copy of ``x``: each element is
    ``quotient(f(x + h) - f(x - h), h)``, or ``(f(x + h) - f(x)) / h`` if ``forward``."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        tmp = x[idx]
        x[idx] = tmp + h
        plus = f(x)
        x[idx] = tmp if forward else tmp - h
        minus = f(x)
        x[idx] = tmp
        grad[idx] = (plus - minus) / h if forward else quotient(plus - minus, h)
    return grad


def numerical_gradient_forward(f, x):
    return _gradient(f, x, forward=True)


def numerical_gradient_tiny_h(f, x):
    return _gradient(f, x, h=1e-50)


def numerical_gradient_divided_by_h(f, x):
    return _gradient(f, x, quotient=lambda d, h: d / h)


def numerical_gradient_times_h(f, x):
    return _gradient(f, x, quotient=lambda d, h: d / 2 * h)


def numerical_gradient_1d_only(f, x):
    """The book's ``_numerical_gradient_no_batch``: ``range(x.size)`` indexes rows of a 2-D x."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in range(x.size):
        tmp = x[idx]  # IndexError once idx passes the number of rows
        x[idx] = tmp + H
        plus = f(x)
        x[idx] = tmp - H
        minus = f(x)
        grad[idx] = (plus - minus) / (2 * H)
        x[idx] = tmp
    return grad


def numerical_gradient_whole_rows(f, x):
    """``range(x.shape[0])``: for a 2-D x, x[idx] is a whole row, and tmp = x[idx] a view."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in range(x.shape[0]):
        tmp = x[idx]  # a view of the row when x is 2-D: it follows the changes below
        x[idx] = tmp + H
        plus = f(x)
        x[idx] = tmp - H
        minus = f(x)
        grad[idx] = (plus - minus) / (2 * H)
        x[idx] = tmp
    return grad


def numerical_gradient_all_at_once(f, x):
    """Every element moved at once: the derivative along (1, 1, ...) in every element."""
    x = np.array(x, dtype=np.float64)
    return (f(x + H) - f(x - H)) / (2 * H) * np.ones_like(x)


def numerical_gradient_by_rows(f, x):
    """The book's ch04 ``gradient_2d.py``: f called on one row at a time."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        return numerical_gradient_1d_only(f, x)
    grad = np.zeros_like(x)
    for row, xr in enumerate(x):
        grad[row] = numerical_gradient_1d_only(f, xr)
    return grad


# ----------------------------------------------------------------------- gradient_descent


def _descent(f, init_x, lr=0.01, step_num=100, sign=-1.0, history=False):
    """Gradient descent; with ``history``, also the points before each step."""
    x = np.array(init_x, dtype=np.float64)
    visited = []
    for _ in range(step_num):
        visited.append(x.copy())
        x = x + sign * lr * _gradient(f, x)
    return (x, np.array(visited)) if history else x


def gradient_descent_ascends(f, init_x, lr=0.01, step_num=100):
    return _descent(f, init_x, lr, step_num, sign=1.0)


def gradient_descent_lr_ignored(f, init_x, lr=0.01, step_num=100):
    return _descent(f, init_x, 0.01, step_num)


def gradient_descent_step_num_ignored(f, init_x, lr=0.01, step_num=100):
    return _descent(f, init_x, lr, 100)


def gradient_descent_returns_history(f, init_x, lr=0.01, step_num=100):
    return _descent(f, init_x, lr, step_num, history=True)
