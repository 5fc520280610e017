"""Diagnoses read from the evidence: what the learner's wrong values are, when no listed mistake
produces them.

A check hands :func:`observe` what it saw, one :class:`Seen` per input: the arguments, the
learner's result and the reference's, plus the reference's results of related computations on
the same input (another function of the exercise, the same function with its arguments
swapped). A finding is returned only when every input supports it and at least one input is
wrong in that way: a constant factor (2, 0.5, -1, the batch size N or 1/N), a transpose, an
absolute value, a result equal to a related computation, only zeros, the input unchanged, NaN
or inf where the values are finite, a keyword argument ignored or a wrong default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.checks.compare import MAX_COMPARED_SIZE, close_enough, value_shape

RTOL, ATOL = 1e-6, 1e-9


@dataclass(frozen=True)
class Seen:
    """One input of a check: ``args``/``kwargs`` given, ``got`` (None when the learner's code
    raised), ``expected``, and ``related``: label -> the reference's result of a related
    computation on this input (``"elu"``, ``"swapped"``)."""

    args: tuple
    kwargs: Mapping[str, Any]
    got: Any
    expected: Any
    related: Mapping[str, Any] = field(default_factory=dict)

    @property
    def right(self) -> bool:
        return self.got is not None and close_enough(self.got, self.expected, RTOL, ATOL)


@dataclass(frozen=True)
class Finding:
    """What the evidence shows: a diagnosis id and the sentence for the learner."""

    diagnosis: str
    message: str


def _array(value: Any) -> np.ndarray | None:
    """``value`` as a float64 array when it is numeric and of a comparable size, else None."""
    shape = value_shape(value)
    if shape is None or int(np.prod(shape)) > MAX_COMPARED_SIZE:
        return None
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array


def _pairs(seen: Sequence[Seen]) -> list[tuple[np.ndarray, np.ndarray, Seen]] | None:
    """(got, expected, seen) as float arrays for every input, or None when any is missing."""
    pairs = []
    for item in seen:
        got, expected = _array(item.got), _array(item.expected)
        if got is None or expected is None:
            return None
        pairs.append((got, expected, item))
    return pairs


def _batch_size(item: Seen) -> int | None:
    shape = value_shape(item.args[0]) if item.args else None
    return shape[0] if shape and len(shape) >= 2 else None


def _width(item: Seen) -> int | None:
    """The size of the input's last axis, for a batch (2-D or more)."""
    shape = value_shape(item.args[0]) if item.args else None
    return shape[-1] if shape and len(shape) >= 2 else None


def _factor(pairs: list[tuple[np.ndarray, np.ndarray, Seen]]) -> Finding | None:
    """Every result is a constant multiple of the expected one (per input or overall)."""
    factors = []
    for got, expected, _ in pairs:
        if got.shape != expected.shape or not np.isfinite(got).all():
            return None
        big = np.abs(expected) > 1e-6 * max(float(np.max(np.abs(expected), initial=0)), 1e-300)
        if not big.any():
            return None
        ratio = float(np.median(got[big] / expected[big]))
        if abs(ratio) < 1e-9 or not np.allclose(got, ratio * expected, rtol=1e-6, atol=1e-9):
            return None  # all zeros are no factor (another pattern says so)
        factors.append(ratio)
    if all(abs(k - 1) < 1e-6 for k in factors):
        return None
    sizes = [_batch_size(item) for _, _, item in pairs]
    wrong = [(k, n) for k, n in zip(factors, sizes, strict=True) if abs(k - 1) >= 1e-6]
    if all(n and n > 1 and abs(k - n) < 1e-6 * n for k, n in wrong):
        n = wrong[0][1]
        return Finding("factor N", f"every value is exactly N times too large, N being the batch "
                                   f"size ({n} here): divide by the batch size once")
    if all(n and n > 1 and abs(k * n - 1) < 1e-6 for k, n in wrong):
        n = wrong[0][1]
        return Finding("factor 1/N", f"every value is exactly N times too small, N being the "
                                     f"batch size ({n} here): it is divided by N once too often")
    widths = [_width(item) for _, _, item in pairs]
    wide = [(k, d) for k, d in zip(factors, widths, strict=True) if abs(k - 1) >= 1e-6]
    if all(d and d > 1 and abs(k - d) < 1e-6 * d for k, d in wide):
        return Finding("factor D", f"every value is exactly D times too large, D being the "
                                   f"number of values per sample (the last axis, {wide[0][1]} "
                                   f"here): take the mean over the last axis too")
    first = factors[0]
    if len(pairs) < 2 and sum(g.size for g, _, _ in pairs) < 2:
        return None  # one number is no evidence of a constant factor
    if not all(abs(k - first) < 1e-6 * max(1, abs(first)) for k in factors):
        return None
    if abs(first + 1) < 1e-6:
        return Finding("sign flipped", "every value has the wrong sign (exactly -1 times the "
                                       "expected one)")
    return Finding(f"factor {first:.6g}", f"every value is exactly {first:.6g} times the "
                                          f"expected one: a constant factor is wrong")


def _all(pairs: list[tuple[np.ndarray, np.ndarray, Seen]], same, differs) -> bool:
    return all(same(g, e, s) for g, e, s in pairs) and any(differs(g, e, s) for g, e, s in pairs)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True))


def _shape_findings(pairs: list[tuple[np.ndarray, np.ndarray, Seen]]) -> Finding | None:
    def transposed(g, e, _):
        return e.ndim == 2 and _close(g, e.T)

    if _all(pairs, transposed, lambda g, e, _: not _close(g, e)):
        return Finding("transposed", "the result is the transpose of the expected one: check "
                                     "the order of a matrix product or a missing .T")
    if _all(pairs, lambda g, e, _: _close(g, np.abs(e)), lambda g, e, _: bool((e < -ATOL).any())):
        return Finding("absolute value", "the result is the absolute value of the expected "
                                         "one: negative values lost their sign (an abs()?)")
    if _all(pairs, lambda g, e, _: g.shape == e.shape and not g.any(),
            lambda g, e, _: bool(e.any())):
        return Finding("returns zeros", "the result is all zeros: nothing is computed yet "
                                        "(or it is computed into another array)")

    def unchanged(g, e, s):
        x = _array(s.args[0]) if s.args else None
        return x is not None and _close(g, x)

    if _all(pairs, unchanged, lambda g, e, s: not _close(e, g)):
        return Finding("returns its input", "the result is the input, unchanged")

    def overflowed(g, e, _):
        return g.shape == e.shape and not np.isfinite(g).all() and np.isfinite(e).all()

    if any(overflowed(g, e, s) for g, e, s in pairs) and all(
            _close(g[np.isfinite(g)], e[np.isfinite(g)]) for g, e, _ in pairs
            if g.shape == e.shape):
        return Finding("overflow", "the result is NaN or inf where the expected values are "
                                   "finite, and right elsewhere: an exp that overflows for "
                                   "large inputs?")
    return None


def _related(seen: Sequence[Seen], names: Mapping[str, str]) -> Finding | None:
    """The learner's result equals a related computation's on every input."""
    def matches(item: Seen, label: str) -> bool:
        return (label in item.related and item.got is not None
                and close_enough(item.got, item.related[label], RTOL, ATOL))

    for label in seen[0].related if seen else ():
        if all(matches(s, label) for s in seen) and any(not s.right for s in seen):
            return Finding(f"returns {label}" if label != "swapped" else "arguments swapped",
                           names.get(label, f"the result is {label}'s"))
    return None


def _keywords(seen: Sequence[Seen], func: str,
              defaults: Mapping[str, Any]) -> Finding | None:
    """A keyword argument ignored, or its default wrong (by which inputs are right)."""
    plain = [s for s in seen if not s.kwargs]
    given = [s for s in seen if s.kwargs]
    if not plain or not given:
        return None
    keyword = sorted(given[0].kwargs)[0]
    if all(s.right for s in plain) and not any(s.right for s in given):
        twins = {id(s): next((p for p in plain if _same_args(p.args, s.args)), None)
                 for s in given}
        if all(twins[id(s)] is not None and s.got is not None
               and close_enough(s.got, twins[id(s)].expected, RTOL, ATOL) for s in given):
            return Finding(f"{keyword} ignored", f"{func} ignores its {keyword} argument: it "
                                                 f"gives the default's result whatever "
                                                 f"{keyword} is passed")
    if all(s.right for s in given) and not any(s.right for s in plain):
        default = defaults.get(keyword)
        should = f": the default of {keyword} must be {default!r}" if default is not None else ""
        return Finding("wrong default", f"{func} is right when {keyword} is given and wrong "
                                        f"with its default{should}")
    return None


def _same_args(a: tuple, b: tuple) -> bool:
    def same(x: Any, y: Any) -> bool:
        return x is y or (isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
                          and x.shape == y.shape and bool(np.array_equal(x, y)))

    return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))


def observe(func: str, seen: Sequence[Seen], *, related_names: Mapping[str, str] = {},
            defaults: Mapping[str, Any] = {}) -> Finding | None:
    """What ``func``'s wrong results show, from every input's :class:`Seen`; None when the
    evidence fits none of the patterns. ``related_names`` gives the sentence for each related
    computation; ``defaults`` the spec's keyword defaults (for "the default must be")."""
    if not seen or all(s.right for s in seen):
        return None
    found = _keywords(seen, func, defaults) or _related(seen, related_names)
    if found is not None:
        return found
    pairs = _pairs(seen)
    if pairs is None:
        return None
    return _factor(pairs) or _shape_findings(pairs)


def does_nothing(result: Any, inputs: Sequence[Any]) -> str | None:
    """What shows that ``result`` was not computed: all zeros, or one of ``inputs`` returned
    unchanged; None otherwise. For property checks, so that doing nothing earns no point."""
    got = _array(result)
    if got is None:
        return None
    if got.size and not got.any():
        return "the result is all zeros"
    for value in inputs:
        given = _array(value)
        if given is not None and given.size > 1 and _close(got, given):
            return "the result is the input, unchanged"
    return None
