"""Checks for ex07: optimizers, driven over several calls of ``update`` against the reference.

Every class gets three checks. Two compare with the reference how far each call of ``update``
moved every parameter (its step), over four calls with the default arguments and three calls
with other arguments (so that ignored or hard-coded arguments show); the tolerance is relative
to each step: the epsilon placements the spec allows change a step by less than 1e-4 of itself
on these inputs (measured: 5e-5 at most), while every known mistake changes some step by 20% or
more, or gives NaN. The third check needs no reference: it updates a params dict that lives in
the learner's process and checks that the arrays it held are the ones that moved (rebinding
``params[key] = ...`` is diagnosed there, and only there).

The gradients are chosen for this: every nonzero entry has a magnitude between 1 and 3 (for tiny
gradients, where epsilon sits would matter), and a few entries are exactly 0 in every call, so
that a missing epsilon divides 0 by 0 there. The signs vary from call to call, so that kept state
(a velocity, a moving average) changes the later steps.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from grader.checks import (
    Api,
    Check,
    CheckFailed,
    Context,
    Exercise,
    LearnerApi,
    Mistake,
    probing,
    same_value,
    scenario_check,
)
from grader.checks.compare import close_enough, float_array

rng = np.random.default_rng(7)

KEYS = ("W", "b")
INITIAL = {"W": rng.normal(0, 1, size=(3, 4)), "b": rng.normal(0, 1, size=(4,))}
#: Entries whose gradient is exactly 0 in every call.
ZERO = {"W": np.zeros((3, 4), dtype=bool), "b": np.zeros(4, dtype=bool)}
ZERO["W"][0, 1] = ZERO["W"][2, 3] = ZERO["b"][2] = True


def _gradient(key: str) -> np.ndarray:
    shape = INITIAL[key].shape
    g = rng.uniform(1.0, 3.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    g[ZERO[key]] = 0.0
    return g


GRADS = tuple({key: _gradient(key) for key in KEYS} for _ in range(4))

#: Non-default constructor arguments per class (by the spec's keyword names).
OTHER_ARGUMENTS: dict[str, dict[str, float]] = {
    "SGD": {"lr": 0.1},
    "Momentum": {"lr": 0.1, "momentum": 0.5},
    "Nesterov": {"lr": 0.1, "momentum": 0.5},
    "AdaGrad": {"lr": 0.1},
    "RMSprop": {"lr": 0.1, "decay_rate": 0.9},
    "Adadelta": {"rho": 0.9, "eps": 1e-4},
    "Adam": {"lr": 0.01, "beta1": 0.8, "beta2": 0.99},
}

#: The spec's constructor keywords and their defaults (the solution's signatures: a test checks
#: that they agree), for "the default of lr must be 0.01" and for keywords named otherwise.
SPEC_DEFAULTS: dict[str, dict[str, float]] = {
    "SGD": {"lr": 0.01},
    "Momentum": {"lr": 0.01, "momentum": 0.9},
    "Nesterov": {"lr": 0.01, "momentum": 0.9},
    "AdaGrad": {"lr": 0.01},
    "RMSprop": {"lr": 0.01, "decay_rate": 0.99},
    "Adadelta": {"rho": 0.95, "eps": 1e-6},
    "Adam": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999},
}

#: Steps are compared relative to their own size; atol covers entries that do not move.
STEP_TOLERANCE = {"rtol": 1e-3, "atol": 1e-10}


# ----------------------------------------------------------------------------- scenarios


def _moved(after: Any, before: np.ndarray, what: str) -> np.ndarray:
    """``after - before`` once ``after`` is known to be a float array of the right shape."""
    if not isinstance(after, np.ndarray) or after.shape != before.shape:
        kind = f"an array of shape {after.shape}" if isinstance(after, np.ndarray) else (
            f"a {type(after).__name__}")
        raise CheckFailed(f"{what} is {kind}; it must stay an array of shape {before.shape}")
    return float_array(after, what=what, shape=before.shape) - before


def _params_after(after: list, params: dict, grads: dict, label: str) -> dict:
    """The params dict ``update`` left, checked: same keys, arrays of the same shapes."""
    new, grads_after = after[0], after[1]
    if not same_value(grads_after, grads):
        raise CheckFailed(f"{label} modified grads; it must change the arrays of params only",
                          diagnosis="modifies its input")
    if not isinstance(new, dict) or set(new) != set(params):
        keys = sorted(new) if isinstance(new, dict) else None
        raise CheckFailed(f"{label} changed the keys of params to {keys}; "
                          f"it must keep exactly {sorted(params)}")
    for key in params:
        _moved(new[key], params[key], f"params[{key!r}] after {label}")
    return {key: float_array(new[key], what=f"params[{key!r}] after {label}",
                             shape=np.shape(params[key])) for key in params}


def _updates(cls: str, arguments: dict[str, float], calls: int):
    """Build ``cls(**arguments)``, call ``update`` ``calls`` times and record every step."""

    def scenario(api: Api) -> dict[str, Any]:
        optimizer = api.new(cls, **arguments)
        params = {key: INITIAL[key] for key in KEYS}
        steps = {}
        for number, grads in enumerate(GRADS[:calls], start=1):
            _, after = api.call_with_args(optimizer, "update", params, grads)
            new = _params_after(after, params, grads, f"{cls}.update (call {number})")
            steps[f"step {number}"] = {key: new[key] - params[key] for key in KEYS}
            params = new  # the next call starts where this one left the parameters
        return steps

    return scenario


def _in_place(cls: str):
    """A check that ``update`` changes the arrays of ``params`` themselves (no reference needed).

    The params dict and its arrays live in the learner's process (fixture ``new_dict``); after
    two calls, the arrays it held at first must hold what ``params`` holds now, and have moved.
    """

    def run(ctx: Context) -> str:
        api = LearnerApi(ctx)
        optimizer = api.new(cls)
        params = api.ref(api.fixture("new_dict"), None, **INITIAL)
        first = {key: api.ref(params, "__getitem__", key) for key in KEYS}
        for grads in GRADS[:2]:
            api.call(optimizer, "update", params, grads, may_modify=(0,))
        for key in KEYS:
            was = _moved(api.call(first[key], "copy"), INITIAL[key],
                         f"the array first in params[{key!r}]")
            now = _moved(api.call(params, "__getitem__", key), INITIAL[key], f"params[{key!r}]")
            if not now.any() and not was.any():
                raise CheckFailed(f"{NOT_UPDATED.message}. params[{key!r}] did not move in 2 "
                                  "calls", diagnosis=NOT_UPDATED.name)
            if not was.any():
                raise CheckFailed(f"{REBINDS.message}. params[{key!r}] moved but the array it "
                                  "held before did not", diagnosis=REBINDS.name)
            if not np.array_equal(was, now, equal_nan=True):
                raise CheckFailed(f"the array first in params[{key!r}] does not hold what "
                                  f"params[{key!r}] holds after update; change that array in "
                                  "place, as in params[key] -= lr * g, and keep it in params")
        return "the arrays of params moved in place"

    return Check(f"{cls}.update changes the arrays in params in place", 1, run)


# ----------------------------------------------------------------------------- mistakes


def _negated(expected: dict) -> dict:
    return {name: {key: -step for key, step in steps.items()} for name, steps in expected.items()}


def _scaled(factor: float):
    def derive(expected: dict) -> dict:
        return {name: {key: factor * s for key, s in steps.items()}
                for name, steps in expected.items()}

    return derive


def _nan_where_gradient_is_zero(expected: dict) -> dict:
    """0 / 0 where every gradient so far was 0: NaN there from the first call on."""
    def nan_at(step: np.ndarray, key: str) -> np.ndarray:
        step = np.array(step, dtype=np.float64)
        step[ZERO[key]] = np.nan
        return step

    return {name: {key: nan_at(s, key) for key, s in steps.items()}
            for name, steps in expected.items()}


def _all_nan(expected: dict) -> dict:
    return {name: {key: np.full_like(s, np.nan) for key, s in steps.items()}
            for name, steps in expected.items()}


def _zeros(tree: Any) -> Any:
    """The same tree with every array (or number) replaced by zeros."""
    if isinstance(tree, dict):
        return {key: _zeros(value) for key, value in tree.items()}
    return np.zeros_like(np.asarray(tree, dtype=np.float64))


def _state_recreated(cls: str, state: str, attribute: str) -> Mistake:
    return Mistake(
        f"{cls} state re-created on every call",
        f"{cls} creates its state ({state}) again on every call of update, so it forgets the "
        f"earlier gradients; create it only on the first call (if self.{attribute} is None) and "
        "keep it on self",
        variant={cls: f"{cls}StateEveryCall"},
    )


def _no_epsilon(cls: str, denominator: str) -> Mistake:
    return Mistake(
        f"{cls} without epsilon",
        f"{cls} divides by {denominator} without adding 1e-7: where every gradient so far was 0 "
        f"the denominator is 0 and 0 / 0 is NaN; divide by ({denominator} + 1e-7)",
        derive=_nan_where_gradient_is_zero,
    )


_ADADELTA_HAS_NO_LR = (
    "Adadelta multiplies its step by a learning rate (0.01); Adadelta has none: "
    "d = -sqrt(Ex + eps) / sqrt(Eg + eps) * g, Ex = rho * Ex + (1 - rho) * d**2, p += d"
)

#: Known mistakes of each class's ``update``, diagnosed by both checks of its values.
MISTAKES: dict[str, list[Mistake]] = {
    "SGD": [
        Mistake("SGD adds the step", "SGD moves along the gradient; a step goes against it: "
                "p -= lr * g", derive=_negated),
    ],
    "Momentum": [
        Mistake("Momentum adds lr*g",
                "Momentum adds lr * g to the velocity, so it climbs the loss; the velocity is "
                "v = momentum * v - lr * g, then p += v", derive=_negated),
        _state_recreated("Momentum", "the velocity v", "v"),
        Mistake("Momentum moving-average form",
                "Momentum uses the moving-average form v = momentum * v + (1 - momentum) * g, "
                "p -= lr * v (as some frameworks write it); the spec's is the book's: "
                "v = momentum * v - lr * g, then p += v (no factor 1 - momentum)",
                variant={"Momentum": "MomentumMovingAverage"}),
        *(Mistake("Momentum velocity is the parameters",
                  "Momentum's velocity starts as the parameter arrays themselves (self.v = "
                  "params, or self.v[key] = val), so the first step moves p by about "
                  "momentum * p; the velocity starts at zero: self.v[key] = np.zeros_like(val)",
                  variant={"Momentum": variant})
          for variant in ("MomentumVelocityFromParams", "MomentumVelocityIsParams")),
    ],
    "Nesterov": [
        Mistake("Nesterov in the older order",
                "Nesterov updates v before moving p, so the step uses the new velocity (the "
                "order of an older version of the book's code); move p first with the old v, "
                "p += momentum**2 * v - (1 + momentum) * lr * g, then v = momentum * v - lr * g",
                variant={"Nesterov": "NesterovOlderOrder"}),
        Mistake("Nesterov look-ahead with the new velocity only",
                "Nesterov moves p by the new velocity only, as plain Momentum does: in the "
                "look-ahead form, keep a copy of the old velocity (v_prev = v.copy()) before "
                "updating v, then p += -momentum * v_prev + (1 + momentum) * v",
                variant={"Nesterov": "NesterovAsMomentum"}),
        _state_recreated("Nesterov", "the velocity v", "v"),
    ],
    "AdaGrad": [
        _no_epsilon("AdaGrad", "np.sqrt(h)"),
        Mistake("AdaGrad state re-created on every call",
                "AdaGrad forgets h between calls (h created again on every call, or h = g**2 "
                "instead of h += g**2); h must add up the squared gradients of all calls: create "
                "it once, on the first call, keep it on self and use h += g * g",
                variant={"AdaGrad": "AdaGradStateEveryCall"}),
    ],
    "RMSprop": [
        Mistake("RMSprop decay_rate reversed",
                "RMSprop weighs the new squared gradient by decay_rate; decay_rate is the weight "
                "of the past: h = decay_rate * h + (1 - decay_rate) * g**2",
                variant={"RMSprop": "RMSpropDecayReversed"}),
        _no_epsilon("RMSprop", "np.sqrt(h)"),
        _state_recreated("RMSprop", "h", "h"),
    ],
    "Adadelta": [
        Mistake("Adadelta with a learning rate", _ADADELTA_HAS_NO_LR, derive=_scaled(0.01)),
        Mistake("Adadelta with a learning rate in d", _ADADELTA_HAS_NO_LR,
                variant={"Adadelta": "AdadeltaLearningRateInStep"}),
        Mistake("Adadelta without the Ex update",
                "Adadelta never updates Ex, so every step keeps the size sqrt(eps); after "
                "computing d, update Ex = rho * Ex + (1 - rho) * d**2",
                variant={"Adadelta": "AdadeltaWithoutExUpdate"}),
        Mistake("Adadelta eps outside the square roots",
                "Adadelta adds eps after taking the square roots, so its first steps are about "
                "eps instead of sqrt(eps) (1000 times too small); eps goes inside both: "
                "d = -np.sqrt(Ex + eps) / np.sqrt(Eg + eps) * g",
                variant={"Adadelta": "AdadeltaEpsOutsideSqrt"}),
        _state_recreated("Adadelta", "Eg and Ex", "Eg"),
    ],
    "Adam": [
        Mistake("Adam without bias correction",
                "Adam leaves out the bias correction, so its first steps are several times too "
                "large (m and v start at 0); multiply lr by sqrt(1 - beta2**t) / (1 - beta1**t)",
                variant={"Adam": "AdamWithoutBiasCorrection"}),
        Mistake("Adam t stuck at 1",
                "Adam's step counter t does not advance (t is 1 on every call); keep it on self "
                "and increment it once per call: self.t += 1",
                variant={"Adam": "AdamStepCounterStuck"}),
        Mistake("Adam t is 0 in the bias correction",
                "Adam computes the bias correction with t = 0: 1 - beta1**0 = 0, so the step is "
                "0 / 0 = NaN; increment t (self.t += 1) before computing the correction",
                derive=_all_nan),
        Mistake("Adam t advanced per key",
                "Adam increments t once per key; t counts calls of update: increment it once "
                "per call, before the loop over the keys",
                variant={"Adam": "AdamStepCounterPerKey"}),
        _no_epsilon("Adam", "np.sqrt(v)"),
        _state_recreated("Adam", "m and v", "m"),
    ],
}

#: Mistakes of any class's ``update``. NOT_UPDATED is diagnosed by all three checks of every
#: class; REBINDS by the in-place check only, from the learner's own arrays (no derive needed).
NOT_UPDATED = Mistake(
    "params not updated",
    "update leaves the arrays in params unchanged (does it change a local variable or a new "
    "dict?); change every array of params in place, as in params[key] -= lr * g",
    derive=_zeros,
)
REBINDS = Mistake(
    "params rebound instead of updated in place",
    "update puts new arrays into params (params[key] = params[key] - ...) instead of changing "
    "the arrays it holds, so a network whose layers use those arrays never learns; change "
    "them in place, as in params[key] -= lr * g",
)


ADADELTA_NUMERATOR = Mistake(
    "Adadelta numerator without eps",
    "every step of Adadelta is 0: Ex, the moving average of the squared steps, starts at 0, so "
    "without eps its square root is 0, the first step is 0 and Ex stays 0 for ever; add eps "
    "inside both square roots: d = -np.sqrt(Ex + eps) / np.sqrt(Eg + eps) * g")


def _keyword_mistake(cls: str, keyword: str) -> Mistake:
    spec = ", ".join(f"{k}={v:g}" for k, v in SPEC_DEFAULTS[cls].items())
    return Mistake("keyword not the spec's",
                   f"{cls}() does not take the keyword {keyword}: the spec's constructor is "
                   f"{cls}({spec}), and callers pass these arguments by name; rename the "
                   "parameter to the spec's name")


def _steps(ctx: Context, cls: str, arguments: dict[str, float], calls: int) -> dict | None:
    """The learner's steps for ``cls(**arguments)`` (None if the code fails on them)."""
    try:
        return _updates(cls, arguments, calls)(LearnerApi(ctx))
    except CheckFailed:
        return None


def _same_steps(a: dict | None, b: dict | None) -> bool:
    return a is not None and b is not None and close_enough(a, b, 1e-12, 0.0)


def _wrong_default(ctx: Context, cls: str) -> Mistake | None:
    """The keyword whose default differs from the spec's: giving it explicitly, at the spec's
    default, changes what the learner's optimizer does."""
    implicit = _steps(ctx, cls, {}, 4)
    for keyword, default in SPEC_DEFAULTS[cls].items():
        explicit = _steps(ctx, cls, {keyword: default}, 4)
        if implicit is not None and explicit is not None and not _same_steps(implicit, explicit):
            return Mistake("wrong default",
                           f"{cls} takes other steps when {keyword}={default:g} is given "
                           f"than with no arguments, so its default of {keyword} is not the "
                           f"spec's: the default of {keyword} must be {default:g}")
    return None


def _ignored(ctx: Context, cls: str) -> Mistake | None:
    """The keyword that changes nothing: the learner's steps are the same without it."""
    other = OTHER_ARGUMENTS[cls]
    given = _steps(ctx, cls, other, 3)
    for keyword, value in other.items():
        without = _steps(ctx, cls, {k: v for k, v in other.items() if k != keyword}, 3)
        if _same_steps(given, without):
            return Mistake(f"{keyword} ignored",
                           f"{cls} ignores its {keyword} argument: {keyword}={value:g} gives the "
                           f"same steps as the default; use self.{keyword} (set from the "
                           f"argument in __init__), not a number written in update")
    return None


def _numerator_without_eps(ctx: Context) -> bool:
    """Adadelta's params do not move although Eg does, and Ex stays 0: the step's numerator,
    sqrt(Ex), lacks eps."""
    api = LearnerApi(ctx)
    try:
        optimizer = api.new("Adadelta")
        api.call(optimizer, "update", {k: v.copy() for k, v in INITIAL.items()}, GRADS[0],
                 may_modify=(0,))
        eg, ex = api.attr(optimizer, "Eg"), api.attr(optimizer, "Ex")
    except CheckFailed:
        return False
    try:
        return (any(np.any(np.asarray(eg[k], dtype=float) != 0) for k in KEYS)
                and all(not np.any(np.asarray(ex[k], dtype=float)) for k in KEYS))
    except (TypeError, KeyError, IndexError, ValueError):
        return False


def _probe(ctx: Context, cls: str, arguments: dict | None,
           failure: CheckFailed) -> tuple[Mistake, str] | None:
    """The mistake the learner's own code shows, and what to say after it; ``arguments``: the
    constructor arguments of a value check (None for the in-place check)."""
    if failure.diagnosis == NOT_UPDATED.name and cls == "Adadelta" and \
            _numerator_without_eps(ctx):
        return ADADELTA_NUMERATOR, "params did not move, while Eg did"
    if failure.diagnosis is not None or arguments is None:
        return None
    if failure.kind == "exception" and failure.exception == "TypeError":
        keyword = re.search(r"unexpected keyword argument '(\w+)'", failure.message)
        if keyword:
            return _keyword_mistake(cls, keyword.group(1)), failure.plain
        return None
    found = _wrong_default(ctx, cls) if not arguments else _ignored(ctx, cls)
    return (found, failure.plain) if found else None


def _probed(check: Check, cls: str, arguments: dict | None) -> Check:
    """``check``, naming what its failure shows about the learner's code (see ``_probe``)."""
    return probing(check, lambda ctx, failure: _probe(ctx, cls, arguments, failure))


def _describe(arguments: dict[str, float]) -> str:
    return ", ".join(f"{name}={value:g}" for name, value in arguments.items())


def _checks(cls: str) -> tuple:
    values = MISTAKES[cls] + [NOT_UPDATED]
    other = OTHER_ARGUMENTS[cls]
    return (
        _probed(scenario_check(
            f"{cls}.update matches the reference over 4 calls (default arguments)",
            _updates(cls, {}, 4), inputs=(cls, INITIAL, GRADS[:4]), mistakes=values,
            passed="every step of 4 calls matches the reference", **STEP_TOLERANCE), cls, {}),
        _probed(scenario_check(
            f"{cls}.update matches the reference over 3 calls ({_describe(other)})",
            _updates(cls, other, 3), inputs=(cls, other, INITIAL, GRADS[:3]), mistakes=values,
            passed="every step of 3 calls matches the reference", **STEP_TOLERANCE), cls, other),
        _probed(_in_place(cls), cls, None),
    )


EXERCISE = Exercise(
    id="ex07",
    module="ex07_optimizers",
    title="Optimizers",
    checks=tuple(check for cls in MISTAKES for check in _checks(cls)),
)
