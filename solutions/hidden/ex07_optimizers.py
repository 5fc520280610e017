"""Hidden checks of ex07 (instructors only): every optimizer on parameters drawn from the seed.

For each class: 2 or 3 parameters of random shapes (1 to 4 axes), 2 to 5 calls of ``update``
with random gradients, and random constructor arguments; every step is compared with the
reference, relative to its size (``STEP_TOLERANCE``), as the public checks do. As there, some
gradient entries are exactly 0 in every call (a missing epsilon gives 0 / 0) and every other
one has a magnitude of at least 1, and beta2 stays at most 0.999, so that where the spec lets
the epsilon sit changes a step by less than 1e-4 of itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks import Api, Check, scenario_check
from grader.exercises.ex07_optimizers import STEP_TOLERANCE, _params_after


def _arguments(rng: np.random.Generator) -> dict[str, dict[str, float]]:
    """Constructor arguments of each class, by the spec's keyword names."""

    def lr(low: float, high: float) -> float:
        return float(10 ** rng.uniform(np.log10(low), np.log10(high)))

    momentum = float(rng.uniform(0.5, 0.95))
    return {
        "SGD": {"lr": lr(1e-3, 0.3)},
        "Momentum": {"lr": lr(1e-3, 0.3), "momentum": momentum},
        "Nesterov": {"lr": lr(1e-3, 0.3), "momentum": momentum},
        "AdaGrad": {"lr": lr(1e-3, 0.3)},
        "RMSprop": {"lr": lr(1e-3, 0.1), "decay_rate": float(rng.uniform(0.8, 0.99))},
        "Adadelta": {"rho": float(rng.uniform(0.8, 0.99)), "eps": lr(1e-7, 1e-3)},
        "Adam": {"lr": lr(1e-4, 0.05), "beta1": float(rng.uniform(0.7, 0.95)),
                 "beta2": float(rng.uniform(0.9, 0.999))},
    }


def _problem(rng: np.random.Generator) -> tuple[dict[str, np.ndarray], list[dict[str, np.ndarray]]]:
    """Initial parameters and the gradients of 2 to 5 calls."""
    keys = ("W1", "b1", "W2")[: int(rng.integers(2, 4))]
    shapes = {key: tuple(int(n) for n in rng.integers(1, 5, size=int(rng.integers(1, 5))))
              for key in keys}
    scale = float(10 ** rng.uniform(0, 1))
    initial = {key: rng.normal(0.0, scale, size=shape) for key, shape in shapes.items()}
    zero = {key: rng.random(shape) < 0.15 for key, shape in shapes.items()}
    zero[keys[0]].flat[0] = True  # at least one entry whose gradient is always 0
    grads = []
    for _ in range(int(rng.integers(2, 6))):
        call = {}
        for key, shape in shapes.items():
            g = rng.uniform(1.0, 3.0, size=shape) * rng.choice([-1.0, 1.0], size=shape) * scale
            g[zero[key]] = 0.0
            call[key] = g
        grads.append(call)
    return initial, grads


def _updates(cls: str, arguments: dict[str, float], initial: dict[str, np.ndarray],
             grads: list[dict[str, np.ndarray]]) -> Callable[[Api], dict[str, Any]]:
    """Build ``cls(**arguments)``, call ``update`` once per gradient and record every step."""

    def scenario(api: Api) -> dict[str, Any]:
        optimizer = api.new(cls, **arguments)
        params, steps = dict(initial), {}
        for number, call in enumerate(grads, start=1):
            _, after = api.call_with_args(optimizer, "update", params, call)
            new = _params_after(after, params, call, f"{cls}.update (call {number})")
            steps[f"step {number}"] = {key: new[key] - params[key] for key in params}
            params = new
        return steps

    return scenario


def hidden_checks(rng: np.random.Generator) -> list[Check]:
    """The hidden checks of ex07 for ``rng``."""
    checks = []
    for cls, arguments in _arguments(rng).items():
        initial, grads = _problem(rng)
        described = ", ".join(f"{name}={value:.3g}" for name, value in arguments.items())
        checks.append(scenario_check(
            f"hidden: {cls}.update over {len(grads)} calls on random parameters ({described})",
            _updates(cls, arguments, initial, grads), inputs=(cls, arguments, initial, grads),
            hidden=True, passed=f"every step of {len(grads)} calls matches the reference",
            **STEP_TOLERANCE))
    return checks
