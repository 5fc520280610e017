"""Hidden checks of ex04 (instructors only): the layers on arrays and prices drawn from the seed.

Each layer alone on arrays of a random shape and scale with a random upstream gradient, and the
book's apple-orange graph with random prices, quantities, tax and upstream gradient (so that a
backward ignoring dout shows even where the book's example passes 1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks import Api, Check, scenario_check
from grader.exercises.ex04_layer_naive import _pair


def _arrays(rng: np.random.Generator) -> tuple[str, tuple[np.ndarray, ...]]:
    """x, y and dout of one random shape (1 to 3 axes) and scale, and the shape's name."""
    shape = tuple(int(n) for n in rng.integers(1, 6, size=int(rng.integers(1, 4))))
    scale = float(10 ** rng.uniform(-1, 2))
    return "x".join(map(str, shape)), tuple(rng.normal(0, scale, size=shape) for _ in range(3))


def _alone(cls: str, x: np.ndarray, y: np.ndarray, dout: np.ndarray
           ) -> Callable[[Api], dict[str, Any]]:
    def scenario(api: Api) -> dict[str, Any]:
        layer = api.new(cls)
        out = api.call(layer, "forward", x, y)
        return {"out": out, "backward(dout)": api.call(layer, "backward", dout)}

    return scenario


def _shopping(prices: dict[str, Any]) -> Callable[[Api], dict[str, Any]]:
    """The book's buy_apple_orange.py with these prices, quantities, tax and final gradient."""

    def scenario(api: Api) -> dict[str, Any]:
        apple, orange, total, tax = (api.new(c) for c in ("MulLayer", "MulLayer", "AddLayer",
                                                           "MulLayer"))
        apple_price = api.call(apple, "forward", prices["apple"], prices["apple_num"])
        orange_price = api.call(orange, "forward", prices["orange"], prices["orange_num"])
        all_price = api.call(total, "forward", apple_price, orange_price)
        price = api.call(tax, "forward", all_price, prices["tax"])
        dall_price, dtax = _pair(api.call(tax, "backward", prices["dprice"]), "MulLayer.backward")
        dapple_price, dorange_price = _pair(api.call(total, "backward", dall_price),
                                            "AddLayer.backward")
        dorange, dorange_num = _pair(api.call(orange, "backward", dorange_price),
                                     "MulLayer.backward")
        dapple, dapple_num = _pair(api.call(apple, "backward", dapple_price), "MulLayer.backward")
        return {"price": price, "dapple": dapple, "dapple_num": dapple_num, "dorange": dorange,
                "dorange_num": dorange_num, "dtax": dtax}

    return scenario


def hidden_checks(rng: np.random.Generator) -> list[Check]:
    """The hidden checks of ex04 for ``rng``."""
    checks = []
    for cls, rule in (("MulLayer", "(dout * y, dout * x)"), ("AddLayer", "(dout, dout)")):
        shape, (x, y, dout) = _arrays(rng)
        checks.append(scenario_check(
            f"hidden: {cls} forward and backward {rule} on random {shape} arrays",
            _alone(cls, x, y, dout), inputs=(cls, x, y, dout), hidden=True))
    items = int(rng.integers(1, 6))
    prices = {"apple": rng.uniform(10, 500, size=items),
              "apple_num": rng.integers(1, 20, size=items),
              "orange": rng.uniform(10, 500, size=items),
              "orange_num": rng.integers(1, 20, size=items),
              "tax": float(rng.uniform(1.0, 1.5)),
              "dprice": float(rng.uniform(0.5, 3.0))}
    checks.append(scenario_check(
        f"hidden: MulLayer and AddLayer in the apple-orange graph with {items} random prices",
        _shopping(prices), inputs=prices, hidden=True))
    return checks
