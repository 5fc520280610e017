"""Scenarios: checks of objects (layers, networks, optimizers) written once, run twice.

A scenario is a function ``scenario(api) -> dict`` that builds objects, calls their methods and
reads their attributes through ``api`` only, and returns the named values to compare. It runs
against the reference solution in the grader's process (``ReferenceApi``, to store expected
values) and against the learner's code in the isolated child (``LearnerApi``). Inputs must be
fixed (made from a seeded generator at import time) and listed in ``inputs`` so that stored
values are fingerprinted by them.

    def affine(api):
        layer = api.new("Affine", W, b)
        out = api.call(layer, "forward", x)
        dx = api.call(layer, "backward", dout, may_modify=(0,))
        return {"out": out, "dx": dx, "dW": api.attr(layer, "dW"), "db": api.attr(layer, "db")}

    scenario_check("Affine forward and backward", affine, inputs=(W, b, x, dout),
                   mistakes=[Mistake("db not summed", "...", derive=lambda e: {"db": ...})])
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from grader.checks.base import Check, Context, Ref
from grader.checks.compare import assert_close
from grader.checks.failure import CheckFailed
from grader.checks.mistakes import Mistake, Variant, derived, reproduces, same_prediction


class Api(Protocol):
    """What a scenario may do with the code under test."""

    def new(self, cls: str, *args: Any, **kwargs: Any) -> Any:
        """Construct ``cls(*args, **kwargs)``; returns an opaque object reference."""

    def call(
        self, target: Any, method: str | None, *args: Any, may_modify: Sequence[int] = (),
        **kwargs: Any,
    ) -> Any:
        """Call module function ``target`` (method None) or ``target.method``; returns a value."""

    def ref(
        self, target: Any, method: str | None, *args: Any, **kwargs: Any
    ) -> Any:
        """Like ``call`` but returns an object reference (for results that stay objects)."""

    def call_with_args(
        self, target: Any, method: str | None, *args: Any, **kwargs: Any
    ) -> tuple[Any, list]:
        """Like ``call`` (inputs may be modified) but returns ``(result, args_after)``: the
        positional arguments as the call left them (e.g. ``params`` after ``update``)."""

    def attr(self, target: Any, name: str) -> Any:
        """The value of attribute ``name`` of an object."""

    def attr_ref(self, target: Any, name: str) -> Any:
        """An object reference to attribute ``name`` (e.g. a ``params`` dict to update)."""

    def fixture(self, name: str) -> Any:
        """A grader test function (``grader.runner.fixtures.<name>``) to pass as an argument."""


def _plain(value: Any) -> Any:
    """A copy of ``value`` as plain data (arrays copied), as the runner would deliver it."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, np.ndarray | np.generic):
        return np.array(value)
    return value


class ReferenceApi:
    """Runs a scenario on trusted code in this process (the reference solution module)."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self._objects: dict[int, Any] = {}  # what new/ref/attr_ref handed out: never copied

    def _kept(self, obj: Any) -> Any:
        self._objects[id(obj)] = obj
        return obj

    def _fresh(self, values: Any) -> Any:
        """Deep copies of plain data; objects this api handed out (and the rest) pass through."""
        if id(values) in self._objects:
            return values
        if isinstance(values, dict):
            return {k: self._fresh(v) for k, v in values.items()}
        if isinstance(values, list | tuple):
            return type(values)(self._fresh(v) for v in values)
        if isinstance(values, np.ndarray):
            return values.copy()
        return values

    def _target(self, target: Any, method: str | None) -> Any:
        base = getattr(self.module, target) if isinstance(target, str) else target
        return getattr(base, method) if method else base

    def new(self, cls: str, *args: Any, **kwargs: Any) -> Any:
        return self._kept(getattr(self.module, cls)(*self._fresh(args), **self._fresh(kwargs)))

    def call(self, target: Any, method: str | None, *args: Any, may_modify: Sequence[int] = (),
             **kwargs: Any) -> Any:
        return _plain(self._target(target, method)(*self._fresh(args), **self._fresh(kwargs)))

    def ref(self, target: Any, method: str | None, *args: Any, **kwargs: Any) -> Any:
        return self._kept(self._target(target, method)(*self._fresh(args), **self._fresh(kwargs)))

    def call_with_args(self, target: Any, method: str | None, *args: Any, **kwargs: Any
                       ) -> tuple[Any, list]:
        args = self._fresh(args)
        value = self._target(target, method)(*args, **self._fresh(kwargs))
        return _plain(value), [_plain(a) for a in args]

    def attr(self, target: Any, name: str) -> Any:
        return _plain(getattr(target, name))

    def attr_ref(self, target: Any, name: str) -> Any:
        return self._kept(getattr(target, name))

    def fixture(self, name: str) -> Any:
        from grader.runner import fixtures

        return getattr(fixtures, name)


class LearnerApi:
    """Runs a scenario on the learner's code through the isolated session of ``ctx``."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def new(self, cls: str, *args: Any, **kwargs: Any) -> Any:
        return self.ctx.call(cls, *args, keep=True, what=cls, **kwargs)

    def call(self, target: Any, method: str | None, *args: Any, may_modify: Sequence[int] = (),
             **kwargs: Any) -> Any:
        return self.ctx.call(target, *args, method=method, may_modify=may_modify, **kwargs)

    def ref(self, target: Any, method: str | None, *args: Any, **kwargs: Any) -> Any:
        return self.ctx.call(target, *args, method=method, keep=True, **kwargs)

    def call_with_args(self, target: Any, method: str | None, *args: Any, **kwargs: Any
                       ) -> tuple[Any, list]:
        return self.ctx.call(target, *args, method=method, check_inputs=False, with_args=True,
                             **kwargs)

    def attr(self, target: Any, name: str) -> Any:
        return self.ctx.attr(target, name)

    def attr_ref(self, target: Any, name: str) -> Any:
        return self.ctx.attr(target, name, keep=True)

    def fixture(self, name: str) -> Any:
        return self.ctx.fixture(name)


Scenario = Callable[[Api], dict[str, Any]]


def scenario_check(
    name: str,
    scenario: Scenario,
    *,
    inputs: Any,
    points: float = 1,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    mistakes: Sequence[Mistake] = (),
    hidden: bool = False,
    passed: str | None = None,
    numerical: bool = False,
) -> Check:
    """Run ``scenario`` on the learner's code and compare every value it returns.

    On a mismatch, a mistake whose predicted values (``derive``d from the expected ones, or
    stored from its ``variant``) match the learner's is named; when other mistakes predict the
    very same values, all of them are (the scenario cannot tell them apart). ``numerical``:
    the values come from numerical differentiation (see Ref).
    """
    ref = Ref(name, inputs, lambda solution: scenario(ReferenceApi(solution)),
              numerical=numerical)
    with_variant = [m for m in mistakes if m.variant]
    names = Counter(m.name for m in with_variant)

    def variant_ref(m: Mistake) -> Ref:
        # Mistakes of different classes may share a name ("dout ignored"): the variant they
        # run tells them apart, in the key and in the inputs (so a stored value made for
        # another variant is detected).
        key = f"{name} :: mistake :: {m.name}"
        if names[m.name] > 1:
            key += f" ({', '.join(sorted(m.variant.values()))})"
        return Ref(key, (inputs, m.variant),
                   lambda solution: scenario(ReferenceApi(Variant(solution, m.variant))),
                   numerical=numerical)

    variant_refs = {id(m): variant_ref(m) for m in with_variant}

    def predictions(ctx: Context, expected: dict) -> list[tuple[Mistake, dict]]:
        found = []
        for mistake in mistakes:
            if mistake.derive is not None:
                predicted = derived(mistake, expected)
            elif mistake.variant:
                predicted = ctx.expected(variant_refs[id(mistake)])
            else:
                continue
            if predicted is not None:
                found.append((mistake, predicted))
        return found

    def diagnose(ctx: Context, got: dict, expected: dict) -> Mistake | None:
        predicted = predictions(ctx, expected)
        first = next((p for p in predicted if reproduces(got, p[1], expected, rtol, atol)), None)
        if first is None:
            return None
        alike = [m for m, p in predicted if same_prediction(p, first[1])]
        return first[0] if len(alike) == 1 else _one_of(alike)

    def run(ctx: Context) -> str:
        expected = ctx.expected(ref)
        got = scenario(LearnerApi(ctx))
        for key in expected:
            try:
                assert_close(got.get(key), expected[key], what=key, rtol=rtol, atol=atol)
            except CheckFailed as failure:
                found = diagnose(ctx, got, expected)
                if found is None:
                    raise
                raise CheckFailed(f"{found.message}. {failure.message}",
                                  diagnosis=found.name) from None
        return passed or f"{', '.join(expected)} match the reference"

    return Check(name=name, points=points, run=run, refs=(ref, *variant_refs.values()),
                 hidden=hidden)


def _one_of(mistakes: Sequence[Mistake]) -> Mistake:
    """One mistake naming several that give the same values in a scenario."""
    return Mistake(" or ".join(dict.fromkeys(m.name for m in mistakes)),
                   "one of these (its results here cannot tell them apart): "
                   + "; or ".join(m.message for m in mistakes))
