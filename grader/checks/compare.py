"""Comparing a learner's result with an expected one, and saying where and by how much.

Values are trees of numbers and arrays: scalars, ndarrays, tuples/lists and str-keyed dicts.
Everything is compared in float64 in the grader's own process.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.checks.failure import CheckFailed
from grader.i18n import _

#: The most elements one comparison converts. Stored reference values are at most 39,200 (ex06's
#: W1); a check may also compare two of the learner's results, whose size the learner decides.
MAX_COMPARED_SIZE = 1 << 20


def _is_numeric(value: Any) -> bool:
    if isinstance(value, bool | int | float | np.number | np.bool_):
        return True
    return isinstance(value, np.ndarray) and (
        np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_
    )


def same_value(a: Any, b: Any) -> bool:
    """True when two value trees are identical (NaN equals NaN; shapes and types must match)."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and a.keys() == b.keys()
            and all(same_value(a[k], b[k]) for k in a)
        )
    if isinstance(a, list | tuple) or isinstance(b, list | tuple):
        return (
            isinstance(a, list | tuple)
            and isinstance(b, list | tuple)
            and len(a) == len(b)
            and all(same_value(x, y) for x, y in zip(a, b, strict=True))
        )
    if _is_numeric(a) and _is_numeric(b):
        x, y = np.asarray(a), np.asarray(b)
        if x.shape != y.shape:
            return False
        if np.issubdtype(x.dtype, np.inexact) or np.issubdtype(y.dtype, np.inexact):
            return bool(np.array_equal(x, y, equal_nan=True))
        return bool(np.array_equal(x, y))
    return type(a) is type(b) and a == b


def close_enough(got: Any, expected: Any, rtol: float, atol: float) -> bool:
    """True when ``got`` matches ``expected`` within tolerance (NaN matches NaN)."""
    try:
        assert_close(got, expected, what="value", rtol=rtol, atol=atol)
    except CheckFailed:
        return False
    return True


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _index(idx: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(i) for i in idx) + ")" if len(idx) != 1 else f"[{idx[0]}]"


def _describe_type(value: Any) -> str:
    if value is None:
        return _("None (a missing return?)")
    if isinstance(value, np.ndarray):
        return _("an array of shape {shape}").format(shape=value.shape)
    return _("a {type}").format(type=type(value).__name__)


def value_shape(value: Any) -> tuple[int, ...] | None:
    """The shape ``np.asarray(value)`` would have, found without converting anything.

    An array's own shape, ``()`` for a number, and for nested lists/tuples their lengths along
    the first items (a ragged list then fails to convert); None for anything else.
    """
    if isinstance(value, np.ndarray):
        return value.shape
    if _is_numeric(value):
        return ()
    if isinstance(value, list | tuple):
        if not value:
            return (0,)
        inner = value_shape(value[0])
        return None if inner is None else (len(value), *inner)
    return None


def tree_size(value: Any) -> tuple[int, int]:
    """``(elements, bytes)`` held by a value tree: every array's elements and bytes, and one
    element (8 bytes) per other leaf, over all nested lists, tuples and dicts. Unlike
    :func:`value_shape`, which follows first items only, it counts all of them: a reply
    ``(0.0, huge)`` is as large as ``huge``. Cheap: a decoded reply holds at most 100,000 values.
    """
    elements = nbytes = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, np.ndarray):
            elements += item.size
            nbytes += item.nbytes
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        else:
            elements += 1
            nbytes += 8
    return elements, nbytes


def _size(shape: tuple[int, ...]) -> int:
    size = 1
    for n in shape:
        size *= n
    return size


def float_array(
    got: Any, *, what: str, shape: tuple[int, ...] | None = None, max_size: int | None = None,
    lists: bool = False,
) -> np.ndarray:
    """``got`` as a float64 array of ``shape``, or ``CheckFailed`` saying what it is instead.

    The one place where checks turn a learner's reply into an array: its shape (or, with
    ``shape=None``, its element count against ``max_size``) is judged from the reply as it came,
    and only a reply of the expected size is converted, so that a huge reply costs the grader no
    copy. A size-1 result is accepted where a scalar (shape ``()``) is expected. ``lists=True``
    also accepts (nested) lists and tuples of numbers.
    """
    if shape is None and max_size is None:
        raise TypeError("float_array needs the expected shape or a max_size")
    found = value_shape(got)
    if found is None or (not lists and not _is_numeric(got)):
        raise CheckFailed(_("{what}: expected a number or array, got {got}").format(
            what=what, got=_describe_type(got)))
    if shape is not None:
        shape = tuple(shape)
        if found != shape and not (shape == () and _size(found) == 1):
            raise CheckFailed(_("{what}: got shape {found}, expected shape {shape}").format(
                what=what, found=found, shape=shape))
    elif _size(found) > max_size:
        raise CheckFailed(_("{what}: got {size} values (shape {found}), expected at most "
                            "{max_size}").format(what=what, size=_size(found), found=found,
                                                 max_size=max_size))
    try:
        array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise CheckFailed(_("{what}: expected numbers, got {got} that is not an array of "
                            "numbers").format(what=what, got=_describe_type(got))) from None
    if shape is not None and array.shape != shape:
        if shape == () and array.size == 1:
            return array.reshape(())
        raise CheckFailed(_("{what}: got shape {found}, expected shape {shape}").format(
            what=what, found=array.shape, shape=shape))
    return array


def assert_close(
    got: Any, expected: Any, *, what: str, rtol: float = 1e-6, atol: float = 1e-9
) -> None:
    """Raise ``CheckFailed`` unless ``got`` matches ``expected`` elementwise.

    Arrays must have the expected shape (a scalar may be a 0-d array, and a 0-d or size-1
    result is accepted for a scalar); the message names the largest error, its index and
    both values, and how many elements differ.
    """
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            raise CheckFailed(_("{what}: expected a dict, got {got}").format(
                what=what, got=_describe_type(got)))
        missing = [k for k in expected if k not in got]
        if missing:
            raise CheckFailed(_("{what}: missing key(s) {keys}").format(
                what=what, keys=", ".join(map(repr, missing))))
        for key in expected:
            assert_close(got[key], expected[key], what=f"{what}[{key!r}]", rtol=rtol, atol=atol)
        return
    if isinstance(expected, list | tuple):
        if not isinstance(got, list | tuple) or len(got) != len(expected):
            if isinstance(got, list | tuple):
                message = _("{what}: expected {count} values, got {got} of {size}")
            else:
                message = _("{what}: expected {count} values, got {got}")
            raise CheckFailed(message.format(what=what, count=len(expected),
                                             got=_describe_type(got),
                                             size=len(got) if isinstance(got, list | tuple)
                                             else 0))
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            assert_close(g, e, what=f"{what}[{i}]", rtol=rtol, atol=atol)
        return
    found = value_shape(expected)  # the learner's, when a check compares two of its results
    if found is not None and _size(found) > MAX_COMPARED_SIZE:
        raise CheckFailed(_("{what}: got {size} values (shape {found}), more than a check "
                            "compares (at most {limit})").format(
            what=what, size=_size(found), found=found, limit=MAX_COMPARED_SIZE))
    e = np.asarray(expected, dtype=np.float64)
    g = float_array(got, what=what, shape=e.shape)
    both_nan = np.isnan(g) & np.isnan(e)
    same_inf = np.isinf(e) & (g == e)
    with np.errstate(invalid="ignore"):
        error = np.abs(g - e)
        within = np.isfinite(e) & (error <= atol + rtol * np.abs(e))
        bad = ~(both_nan | same_inf | within)
    if not bad.any():
        return
    # The worst offender: NaN/inf first, then the largest absolute error.
    score = np.where(bad, np.nan_to_num(error, nan=np.inf, posinf=np.inf), -1.0)
    flat = int(np.argmax(score))
    idx = np.unravel_index(flat, g.shape) if g.ndim else ()
    gv, ev = float(g[idx]), float(e[idx])
    index = _index(tuple(int(i) for i in idx))
    values = {"what": what, "index": index, "expected": _fmt(ev), "got": _fmt(gv),
              "error": f"{float(error[idx]):.3g}"}
    if np.isnan(gv) and not np.isnan(ev):
        head = (_("{what}: got NaN at index {index}, expected {expected}") if g.ndim
                else _("{what}: got NaN, expected {expected}"))
    else:
        head = (_("{what}: largest error {error} at index {index}: expected {expected}, "
                  "got {got}") if g.ndim
                else _("{what}: largest error {error}: expected {expected}, got {got}"))
    count = (_(" ({count} of {size} elements differ)").format(count=int(bad.sum()), size=g.size)
             if g.size > 1 else "")
    raise CheckFailed(head.format(**values) + count)
