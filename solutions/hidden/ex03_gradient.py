"""Hidden checks of ex03 (instructors only): points, shapes, lr and step_num drawn from the seed.

The functions differentiated are the grader's fixtures (``grader.runner.fixtures``), as in the
public checks; each check is a scenario that calls the function under test on several inputs.
Inputs are not checked for modification here (the public checks do that).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks import Api, Check, scenario_check
from grader.exercises.ex03_gradient import ATOL, RTOL

#: (label, fixture name, positional arguments after f, keyword arguments)
Call = tuple[str, str, tuple, dict]


def _calls(func: str, calls: list[Call]) -> Callable[[Api], dict[str, Any]]:
    """A scenario: ``func(fixture, *args, **kwargs)`` for every call, keyed by its label."""

    def scenario(api: Api) -> dict[str, Any]:
        return {label: api.call(func, None, api.fixture(fixture), *args, may_modify=(0, 1),
                                **kwargs)
                for label, fixture, args, kwargs in calls}

    return scenario


def _check(func: str, calls: list[Call], what: str, rtol: float = RTOL) -> Check:
    return scenario_check(f"hidden: {func} {what}", _calls(func, calls), inputs=(func, calls),
                          rtol=rtol, atol=ATOL, hidden=True,
                          passed=f"matches the reference on {len(calls)} inputs")


def _shape(rng: np.random.Generator) -> tuple[int, ...]:
    """1 to 3 axes, at most 24 elements."""
    ndim = int(rng.integers(1, 4))
    return tuple(int(n) for n in rng.integers(1, {1: 9, 2: 6, 3: 3}[ndim] + 1, size=ndim))


def _name(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def hidden_checks(rng: np.random.Generator) -> list[Check]:
    """The hidden checks of ex03 for ``rng``."""
    x1, x2, x3 = (float(v) for v in rng.uniform(-10, 10, size=3))
    diffs: list[Call] = [(f"function_1 at x = {x1:.4g}", "function_1", (x1,), {}),
                         (f"x**3 at x = {x2:.4g}", "cubic_sum", (x2,), {}),
                         (f"x**2 summed at x = {x3:.4g}", "function_2", (x3,), {})]
    s1, s2 = _shape(rng), _shape(rng)
    gradients: list[Call] = [
        (f"weighted_sin on a {_name(s1)} array", "weighted_sin",
         (rng.uniform(-3, 3, size=s1),), {}),
        (f"sum(x**3) on a {_name(s2)} array", "cubic_sum", (rng.uniform(-2, 2, size=s2),), {}),
    ]
    descents: list[Call] = []
    for fixture in ("shifted_quadratic", "function_2"):
        shape, lr, steps = _shape(rng), float(rng.uniform(0.01, 0.45)), int(rng.integers(1, 61))
        descents.append((f"{fixture} from a {_name(shape)} array, lr={lr:.3g}, step_num={steps}",
                         fixture, (rng.uniform(-5, 5, size=shape),),
                         {"lr": lr, "step_num": steps}))
    return [
        _check("numerical_diff", diffs, "at random points"),
        _check("numerical_gradient", gradients, "on arrays of random shapes"),
        _check("gradient_descent", descents, "with a random lr and step_num", rtol=1e-6),
    ]
