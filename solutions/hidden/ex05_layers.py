"""Hidden checks of ex05 (instructors only): the layers on sizes and scales drawn from the seed.

Each check is a scenario (forward, then backward on the same layer) compared with the reference:
Relu and Sigmoid on inputs of 1 to 4 axes, Affine with random N, D and M on a 2-D and a 4-D
input, SoftmaxWithLoss on scores whose rows are shifted by hundreds, one beyond exp's overflow
and one beyond its underflow (stable code only), with one-hot targets and with integer labels.
Relu's inputs stay away from its kink at 0; the scores' spread keeps every probability above
2e-3, where the loss with or without the 1e-7 guard agrees within the public tolerance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks import Api, Check, scenario_check
from grader.exercises.ex05_layers import _SOFTMAX_TOLERANCE


def _shape(rng: np.random.Generator, ndim: int) -> tuple[int, ...]:
    return tuple(int(n) for n in rng.integers(1, 6, size=ndim))


def _name(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def _elementwise(cls: str, x: np.ndarray, dout: np.ndarray) -> Callable[[Api], dict[str, Any]]:
    def scenario(api: Api) -> dict[str, Any]:
        layer = api.new(cls)
        out = api.call(layer, "forward", x)
        return {"out": out, "dx": api.call(layer, "backward", dout, may_modify=(0,))}

    return scenario


def _affine(w: np.ndarray, b: np.ndarray, x: np.ndarray, dout: np.ndarray
            ) -> Callable[[Api], dict[str, Any]]:
    def scenario(api: Api) -> dict[str, Any]:
        layer = api.new("Affine", w, b)
        out = api.call(layer, "forward", x)
        dx = api.call(layer, "backward", dout, may_modify=(0,))
        return {"out": out, "dx": dx, "dW": api.attr(layer, "dW"), "db": api.attr(layer, "db")}

    return scenario


def _softmax(scores: np.ndarray, t: np.ndarray) -> Callable[[Api], dict[str, Any]]:
    def scenario(api: Api) -> dict[str, Any]:
        layer = api.new("SoftmaxWithLoss")
        loss = api.call(layer, "forward", scores, t)
        return {"loss": loss, "dx": api.call(layer, "backward")}

    return scenario


def _elementwise_checks(rng: np.random.Generator) -> list[Check]:
    checks = []
    for cls in ("Relu", "Sigmoid"):
        shape, scale = (2, *_shape(rng, int(rng.integers(0, 4)))), float(10 ** rng.uniform(-1, 1))
        signs = rng.choice([-1.0, 1.0], size=shape)
        signs.flat[:2] = -1.0, 1.0  # both sides of 0
        x = rng.uniform(0.05, 1.0, size=shape) * signs * scale
        dout = rng.normal(0.0, 1.0, size=shape)
        checks.append(scenario_check(
            f"hidden: {cls} forward and backward on a random {_name(shape)} input",
            _elementwise(cls, x, dout), inputs=(cls, x, dout), hidden=True))
    return checks


def _affine_checks(rng: np.random.Generator) -> list[Check]:
    n, m = int(rng.integers(1, 9)), int(rng.integers(1, 7))
    image = (n, *_shape(rng, 3))
    checks = []
    for x_shape in ((n, int(rng.integers(1, 9))), image):
        d = int(np.prod(x_shape[1:]))
        w, b = rng.normal(0.0, 1.0, size=(d, m)), rng.normal(0.0, 1.0, size=m)
        x, dout = rng.normal(0.0, 2.0, size=x_shape), rng.normal(0.0, 1.0, size=(n, m))
        checks.append(scenario_check(
            f"hidden: Affine forward and backward on a random {_name(x_shape)} input, "
            f"{m} outputs", _affine(w, b, x, dout), inputs=(w, b, x, dout), hidden=True))
    return checks


def _softmax_checks(rng: np.random.Generator) -> list[Check]:
    n, c = int(rng.integers(2, 11)), int(rng.integers(2, 9))
    shifts = rng.uniform(100, 1000, size=n) * rng.choice([-1.0, 1.0], size=n)
    shifts[:2] = rng.uniform(720, 1000), -rng.uniform(800, 1000)  # exp: inf, and 0 / 0
    scores = np.clip(rng.normal(0.0, 0.7, size=(n, c)), -2, 2) + rng.permutation(shifts)[:, None]
    labels = rng.integers(0, c, size=n)
    return [
        scenario_check(f"hidden: SoftmaxWithLoss on {n}x{c} scores shifted by hundreds, {what}",
                       _softmax(scores, t), inputs=(scores, t), hidden=True, **_SOFTMAX_TOLERANCE)
        for what, t in (("one-hot t", np.eye(c)[labels]), ("integer labels", labels))
    ]


def hidden_checks(rng: np.random.Generator) -> list[Check]:
    """The hidden checks of ex05 for ``rng``."""
    return [*_elementwise_checks(rng), *_affine_checks(rng), *_softmax_checks(rng)]
