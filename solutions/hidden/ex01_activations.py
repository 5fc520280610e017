"""Hidden checks of ex01 (instructors only): activations on shapes and scales drawn from the seed.

Inputs of 1 to 3 axes at scales from 0.1 to 30, saturating values up to +-1000 for sigmoid,
alphas other than the defaults, and softmax rows shifted by hundreds (stable code only). Values
given to the *_grad functions stay away from the kinks at 0, where the spec allows either value.
"""

from __future__ import annotations

import numpy as np

from grader.checks import Case, Check, function_check


def _shape(rng: np.random.Generator, ndim: int) -> tuple[int, ...]:
    return tuple(int(n) for n in rng.integers(1, 7, size=ndim))


def _label(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) + " array"


def _scale(rng: np.random.Generator) -> float:
    """From 0.1 to 30, log-uniformly: inputs near 0 and far into the saturated tails."""
    return float(10 ** rng.uniform(-1, 1.5))


def _arrays(rng: np.random.Generator, away_from_zero: bool = False) -> list[Case]:
    """A 1-D, a 2-D and a 3-D array of random shapes and scales."""
    cases = []
    for ndim in (1, 2, 3):
        shape, scale = _shape(rng, ndim), _scale(rng)
        if away_from_zero:
            x = rng.uniform(0.05, 1.0, size=shape) * rng.choice([-1.0, 1.0], size=shape) * scale
        else:
            x = rng.normal(0.0, scale, size=shape)
        cases.append(Case(f"a {_label(shape)} of scale {scale:.3g}", (x,)))
    return cases


def _with_alpha(cases: list[Case], alpha: float) -> list[Case]:
    return [Case(f"{c.label}, alpha={alpha:.3g}", c.args, {"alpha": alpha}) for c in cases]


def _softmax_cases(rng: np.random.Generator) -> list[Case]:
    """Scores whose rows are shifted by +-100 to +-1000, one row by more than +720 (exp
    overflows to inf unless each row's max is subtracted) and one by less than -800 (exp
    underflows to 0 / 0; so does subtracting the batch's max)."""
    n, c = int(rng.integers(2, 9)), int(rng.integers(2, 11))
    shifts = rng.uniform(100, 1000, size=n) * rng.choice([-1.0, 1.0], size=n)
    shifts[:2] = rng.uniform(720, 1000), -rng.uniform(800, 1000)
    batch = rng.normal(0.0, rng.uniform(1, 5), size=(n, c)) + rng.permutation(shifts)[:, None]
    shift = rng.choice([rng.uniform(720, 1000), -rng.uniform(800, 1000)])
    row = rng.normal(0.0, rng.uniform(1, 5), size=c) + shift
    return [Case(f"a batch of {n}x{c} scores shifted by up to +-1000", (batch,)),
            Case(f"{c} scores shifted by {shift:.0f}", (row,))]


def hidden_checks(rng: np.random.Generator) -> list[Check]:
    """The hidden checks of ex01 for ``rng``."""
    k, x = int(rng.integers(3, 9)), float(rng.normal(0.0, 3.0))
    saturated = rng.uniform(50, 1000, size=k) * rng.choice([-1.0, 1.0], size=k)
    sigmoid_cases = [*_arrays(rng), Case(f"x = {x:.4g}", (x,)),
                     Case(f"{k} values between +-50 and +-1000", (saturated,))]
    leaky_alpha, elu_alpha = float(rng.uniform(0.05, 0.5)), float(rng.uniform(0.2, 2.0))

    def check(func: str, cases: list[Case], what: str) -> Check:
        return function_check(func, cases, name=f"hidden: {func} {what}", hidden=True)

    return [
        check("sigmoid", sigmoid_cases, "on random shapes, scales and saturated values"),
        check("sigmoid_grad", sigmoid_cases, "on random shapes, scales and saturated values"),
        check("tanh_grad", _arrays(rng), "on random shapes and scales"),
        check("relu_grad", _arrays(rng, away_from_zero=True), "on random shapes and scales"),
        check("leaky_relu_grad", _with_alpha(_arrays(rng, away_from_zero=True), leaky_alpha),
              "with a random alpha"),
        check("elu", _with_alpha(_arrays(rng), elu_alpha), "with a random alpha"),
        check("elu_grad", _with_alpha(_arrays(rng, away_from_zero=True), elu_alpha),
              "with a random alpha"),
        check("softmax", _softmax_cases(rng), "on scores shifted by hundreds"),
    ]
