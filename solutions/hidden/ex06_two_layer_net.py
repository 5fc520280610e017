"""Hidden checks of ex06 (instructors only): TwoLayerNet of sizes drawn from the seed.

A network of random input, hidden and output sizes on a random batch, given known parameters by
writing them into its ``params`` in place (as the public checks do), compared with the reference:
the shapes of its parameters and its zero biases, predict, loss, accuracy and gradient (one-hot
targets and integer labels). The scores stay small (W2 of scale 0.1), so that every probability
is far from 0 and the loss's 1e-7 guard changes little.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks import Api, Check, scenario_check

KEYS = ("W1", "b1", "W2", "b2")


def _network(api: Api, sizes: tuple[int, int, int], params: dict[str, np.ndarray]) -> Any:
    """A TwoLayerNet(*sizes) whose parameter arrays were overwritten in place by ``params``."""
    net = api.new("TwoLayerNet", *sizes)
    held = api.attr_ref(net, "params")
    for key, value in params.items():
        api.call(api.ref(held, "__getitem__", key), "__setitem__", (), value)
    return net


def _init(sizes: tuple[int, int, int]) -> Callable[[Api], dict[str, Any]]:
    """The shapes of the new network's parameters and its biases (its weights are random)."""

    def scenario(api: Api) -> dict[str, Any]:
        params = api.attr(api.new("TwoLayerNet", *sizes), "params")
        shapes = {f"shape of params[{key!r}]": np.array(np.shape(params[key])) for key in KEYS}
        return {**shapes, "params['b1']": params["b1"], "params['b2']": params["b2"]}

    return scenario


def hidden_checks(rng: np.random.Generator) -> list[Check]:
    """The hidden checks of ex06 for ``rng``."""
    d, h, c, n = (int(rng.integers(low, high)) for low, high in ((2, 9), (2, 9), (2, 7), (2, 13)))
    sizes = (d, h, c)
    params = {"W1": rng.normal(0.0, 0.8, size=(d, h)), "b1": rng.normal(0.0, 0.5, size=h),
              "W2": rng.normal(0.0, 0.1, size=(h, c)), "b2": rng.normal(0.0, 0.1, size=c)}
    x, x_other = rng.normal(0.0, 1.0, size=(n, d)), rng.normal(0.0, 1.0, size=(n, d))
    labels, other_labels = rng.integers(0, c, size=n), rng.integers(0, c, size=n)
    one_hot = np.eye(c)[labels]

    def calls(*steps: tuple[str, str, tuple]) -> Callable[[Api], dict[str, Any]]:
        """Call each ``(label, method, args)`` on one network with ``params``, in turn."""

        def scenario(api: Api) -> dict[str, Any]:
            net = _network(api, sizes, params)
            return {label: api.call(net, method, *args) for label, method, args in steps}

        return scenario

    described = f"TwoLayerNet({d}, {h}, {c}) on a batch of {n}"
    inputs = (sizes, params, x, x_other, labels, other_labels)

    def check(what: str, scenario: Callable[[Api], dict[str, Any]], **tolerance: float) -> Check:
        return scenario_check(f"hidden: {what}", scenario, inputs=inputs, hidden=True,
                              **tolerance)

    return [
        check(f"TwoLayerNet({d}, {h}, {c}) makes params of the right shapes, biases zero",
              _init(sizes)),
        check(f"{described}: predict", calls(("predict(x)", "predict", (x,)))),
        check(f"{described}: loss (one-hot and integer labels)",
              calls(("loss(x, one-hot)", "loss", (x, one_hot)),
                    ("loss(x, labels)", "loss", (x, labels))), rtol=1e-5, atol=1e-7),
        check(f"{described}: accuracy (one-hot and integer labels)",
              calls(("accuracy(x, one-hot)", "accuracy", (x, one_hot)),
                    ("accuracy(x, labels)", "accuracy", (x, labels)))),
        check(f"{described}: gradient (one-hot and integer labels)",
              calls(("gradient(x, one-hot)", "gradient", (x, one_hot)),
                    ("gradient(x_other, labels)", "gradient", (x_other, other_labels)))),
    ]
