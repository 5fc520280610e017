"""Checks for ex04: the multiplication and addition layers (the book's layer_naive.py).

Scenarios drive the learner's layers alone on random arrays, and composed as in the book's apple
and apple-orange examples. A known mistake is a buggy layer in solutions/mistakes/; the results
of each scenario with it in place are stored. Mistakes that give the same values in a scenario
are named together (in the apple-orange example, a MulLayer and an AddLayer ignoring dout
agree). A backward that fails because forward kept nothing is recognised from the error it
raises.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from grader.checks import Api, Check, CheckFailed, Context, Exercise, Mistake, scenario_check

rng = np.random.default_rng(4)

X, Y, DOUT = (rng.normal(0, 2, size=(3, 4)) for _ in range(3))
APPLE, APPLE_NUM, ORANGE, ORANGE_NUM, TAX = 100, 2, 150, 3, 1.1

#: Recognised from the error backward raises (see _forward_keeps_inputs).
FORWARD_KEEPS_NOTHING = Mistake(
    "forward keeps nothing",
    "MulLayer.backward fails because forward did not keep its inputs: in forward, store them "
    "with self.x = x and self.y = y, then use self.x and self.y in backward")

#: Known mistakes of each layer's backward: what to tell the learner, and the buggy class in
#: solutions/mistakes/ex04_layer_naive.py whose results in each scenario are stored.
MISTAKES: dict[str, list[Mistake]] = {
    "MulLayer": [
        Mistake("backward swapped",
                "MulLayer.backward returns (dout * x, dout * y): the inputs must swap, since "
                "d(xy)/dx = y; return (dout * self.y, dout * self.x)",
                variant={"MulLayer": "MulLayerSwapped"}),
        Mistake("dout ignored",
                "MulLayer.backward returns (y, x) without dout: by the chain rule the local "
                "derivatives y and x are multiplied by the upstream gradient; return "
                "(dout * self.y, dout * self.x)", variant={"MulLayer": "MulLayerWithoutDout"}),
        FORWARD_KEEPS_NOTHING,
    ],
    "AddLayer": [
        Mistake("dout ignored",
                "AddLayer.backward returns (1, 1), the local derivatives alone; by the chain rule "
                "they are multiplied by the upstream gradient: return (dout, dout)",
                variant={"AddLayer": "AddLayerWithoutDout"}),
        Mistake("backward of a product",
                "AddLayer.backward returns (dout * y, dout * x), the multiplication layer's rule; "
                "for z = x + y both local derivatives are 1: return (dout, dout)",
                variant={"AddLayer": "AddLayerAsProduct"}),
    ],
}


def _pair(result: Any, what: str) -> tuple[Any, Any]:
    """``(dx, dy)`` from a backward result, or CheckFailed saying what came back instead."""
    if isinstance(result, tuple | list) and len(result) == 2:
        return result[0], result[1]
    got = f"an array of shape {result.shape}" if isinstance(result, np.ndarray) else (
        "None (a missing return?)" if result is None else f"a {type(result).__name__}")
    raise CheckFailed(f"{what} must return the pair (dx, dy), got {got}")


def mul_forward(api: Api) -> dict[str, Any]:
    layer = api.new("MulLayer")
    return {"apple price (100 * 2)": api.call(layer, "forward", APPLE, APPLE_NUM),
            "x * y (3x4 arrays)": api.call(layer, "forward", X, Y)}


def mul_backward(api: Api) -> dict[str, Any]:
    layer = api.new("MulLayer")
    out = api.call(layer, "forward", X, Y)
    dx, dy = _pair(api.call(layer, "backward", DOUT), "MulLayer.backward")
    return {"out": out, "dx": dx, "dy": dy}


def add_forward(api: Api) -> dict[str, Any]:
    layer = api.new("AddLayer")
    return {"100 + 450": api.call(layer, "forward", APPLE, ORANGE * ORANGE_NUM),
            "x + y (3x4 arrays)": api.call(layer, "forward", X, Y)}


def add_backward(api: Api) -> dict[str, Any]:
    layer = api.new("AddLayer")
    out = api.call(layer, "forward", X, Y)
    dx, dy = _pair(api.call(layer, "backward", DOUT), "AddLayer.backward")
    return {"out": out, "dx": dx, "dy": dy}


def buy_apple(api: Api) -> dict[str, Any]:
    """The book's buy_apple.py."""
    mul_apple_layer = api.new("MulLayer")
    mul_tax_layer = api.new("MulLayer")
    apple_price = api.call(mul_apple_layer, "forward", APPLE, APPLE_NUM)
    price = api.call(mul_tax_layer, "forward", apple_price, TAX)
    dapple_price, dtax = _pair(api.call(mul_tax_layer, "backward", 1), "MulLayer.backward")
    dapple, dapple_num = _pair(api.call(mul_apple_layer, "backward", dapple_price),
                               "MulLayer.backward")
    return {"price": price, "dapple": dapple, "dapple_num": dapple_num, "dtax": dtax}


def buy_apple_orange(api: Api) -> dict[str, Any]:
    """The book's buy_apple_orange.py."""
    mul_apple_layer = api.new("MulLayer")
    mul_orange_layer = api.new("MulLayer")
    add_apple_orange_layer = api.new("AddLayer")
    mul_tax_layer = api.new("MulLayer")
    apple_price = api.call(mul_apple_layer, "forward", APPLE, APPLE_NUM)
    orange_price = api.call(mul_orange_layer, "forward", ORANGE, ORANGE_NUM)
    all_price = api.call(add_apple_orange_layer, "forward", apple_price, orange_price)
    price = api.call(mul_tax_layer, "forward", all_price, TAX)
    dall_price, dtax = _pair(api.call(mul_tax_layer, "backward", 1), "MulLayer.backward")
    dapple_price, dorange_price = _pair(
        api.call(add_apple_orange_layer, "backward", dall_price), "AddLayer.backward")
    dorange, dorange_num = _pair(api.call(mul_orange_layer, "backward", dorange_price),
                                 "MulLayer.backward")
    dapple, dapple_num = _pair(api.call(mul_apple_layer, "backward", dapple_price),
                               "MulLayer.backward")
    return {"price": price, "dapple_num": dapple_num, "dapple": dapple, "dorange": dorange,
            "dorange_num": dorange_num, "dtax": dtax}


def _forward_keeps_inputs(check: Check) -> Check:
    """``check`` naming the mistake when MulLayer.backward raises for want of self.x / self.y."""
    mistake = FORWARD_KEEPS_NOTHING

    def run(ctx: Context) -> str:
        try:
            return check.run(ctx)
        except CheckFailed as failure:
            message = failure.message
            if (failure.kind == "exception" and message.startswith("MulLayer.backward:")
                    and ("NoneType" in message or "has no attribute" in message)):
                raise CheckFailed(f"{mistake.message}. {message}", diagnosis=mistake.name,
                                  kind=failure.kind) from None
            raise

    return replace(check, run=run)


INPUTS = (X, Y, DOUT, APPLE, APPLE_NUM, ORANGE, ORANGE_NUM, TAX)

EXERCISE = Exercise(
    id="ex04",
    module="ex04_layer_naive",
    title="Computational-graph layers",
    checks=(
        scenario_check("MulLayer forward returns x * y (numbers and arrays)", mul_forward,
                       inputs=INPUTS),
        _forward_keeps_inputs(scenario_check(
            "MulLayer backward returns (dout * y, dout * x)", mul_backward, inputs=INPUTS,
            mistakes=MISTAKES["MulLayer"])),
        _forward_keeps_inputs(scenario_check(
            "MulLayer reproduces the book's apple example (220; 2.2, 110, 200)", buy_apple,
            inputs=INPUTS, mistakes=MISTAKES["MulLayer"])),
        scenario_check("AddLayer forward returns x + y (numbers and arrays)", add_forward,
                       inputs=INPUTS),
        scenario_check("AddLayer backward returns (dout, dout)", add_backward, inputs=INPUTS,
                       mistakes=MISTAKES["AddLayer"]),
        _forward_keeps_inputs(scenario_check(
            "MulLayer and AddLayer reproduce the book's apple-orange example "
            "(715; 110, 2.2, 3.3, 165, 650)", buy_apple_orange, inputs=INPUTS,
            mistakes=MISTAKES["MulLayer"] + MISTAKES["AddLayer"])),
    ),
)
