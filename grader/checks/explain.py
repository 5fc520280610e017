"""Learner faults explained in the course's terms: an exception, a missing name, new syntax.

Each function reads only what the runner reports (an exception's class name and message, the
names a module defines, the submitted source) and returns None when it has nothing sure to say.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: NumPy aliases of builtins removed in NumPy 1.24, and what to write instead.
_REMOVED_ALIASES = {"int": "int", "float": "float", "bool": "bool", "object": "object",
                    "complex": "complex", "str": "str", "long": "int", "unicode": "str"}
_REMOVED = re.compile(r"module 'numpy' has no attribute '(\w+)'")
_BROADCAST = re.compile(r"operands could not be broadcast together with shapes "
                        r"\(([\d, ]*)\) \(([\d, ]*)\)")


@dataclass(frozen=True)
class Explanation:
    """A diagnosis id and the sentence that tells the learner what it means."""

    diagnosis: str
    message: str


def _shape(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.replace(" ", "").split(",") if part)


def _shapes_of(args: Sequence[Any]) -> list[tuple[int, ...]]:
    return [np.shape(a) for a in args if isinstance(a, np.ndarray | float | int | np.generic)]


_ZEROS_OF_ARRAY = re.compile(r"np\.(zeros|ones|empty)\(\s*(\w+)\s*[,)]")


def explain_exception(exception: str, text: str, args: Sequence[Any] = (),
                      line: str = "") -> Explanation | None:
    """What an exception raised inside the learner's code (called with ``args``; ``line`` the
    learner's line that raised it) most likely means; None when it could mean several things."""
    zeros = _ZEROS_OF_ARRAY.search(line) if exception == "TypeError" else None
    if zeros and zeros.group(2) not in ("shape", "n", "size", "N"):
        make, name = zeros.group(1), zeros.group(2)
        return Explanation(
            f"np.{make}(x) instead of np.{make}_like(x)",
            f"np.{make}({name}) takes a shape, not an array: use np.{make}_like({name}) "
            f"(or np.{make}({name}.shape))")
    removed = _REMOVED.search(text) if exception == "AttributeError" else None
    if removed and removed.group(1) in _REMOVED_ALIASES:
        alias, builtin = removed.group(1), _REMOVED_ALIASES[removed.group(1)]
        return Explanation(
            f"np.{alias} removed",
            f"np.{alias} was an alias of Python's {builtin} and was removed in NumPy 1.24: "
            f"write {builtin} (for example .astype({builtin}))")
    if exception == "ValueError" and "truth value of an array" in text:
        return Explanation(
            "if on an array",
            "an if (or and/or) on an array: the function must work element by element on "
            "whole arrays, so compare the array instead (x > 0, np.where(x > 0, a, b))")
    broadcast = _BROADCAST.search(text) if exception == "ValueError" else None
    if broadcast:
        first, second = _shape(broadcast.group(1)), _shape(broadcast.group(2))
        full, reduced = (first, second) if len(first) > len(second) else (second, first)
        given = _shapes_of(args)
        # A reduction that lost its axis: the reduced shape is the full one without its last
        # axis, and it is no argument's own shape (then an argument itself does not fit).
        if (len(full) >= 2 and reduced == full[:-1] and full in given
                and reduced not in given):
            return Explanation(
                "missing keepdims",
                f"a sum or max over the last axis gives shape {reduced}, which does not "
                f"broadcast against the {full} array: keep the axis with keepdims=True "
                f"(shape {full[:-1] + (1,)})")
    return None


def did_you_mean(name: str, names: Iterable[str]) -> str | None:
    """The defined name ``name`` was probably meant to be (``"SDG"`` for ``"SGD"``,
    ``"ReLu"`` for ``"Relu"``, ``"backword"`` for ``"backward"``), or None."""
    names = [n for n in names if n != name]
    same_case = [n for n in names if n.lower() == name.lower()]
    if same_case:
        return same_case[0]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
    if close:
        return close[0]
    # a swapped pair of letters ("SDG") has a ratio of only 0.67 for three letters
    for other in names:
        if len(other) == len(name) and sorted(other) == sorted(name):
            differ = [i for i, (a, b) in enumerate(zip(other, name, strict=True)) if a != b]
            if len(differ) == 2 and differ[1] == differ[0] + 1:
                return other
    return None


#: Syntax the running Python may not know, with the version that introduced it.
_NEWER_SYNTAX = (
    (re.compile(r"^\s*(async\s+)?def\s+\w+\s*\[", re.M), (3, 12),
     "generic functions (def f[T](...), PEP 695)"),
    (re.compile(r"^\s*class\s+\w+\s*\[", re.M), (3, 12), "generic classes (class C[T], PEP 695)"),
    (re.compile(r"^\s*type\s+\w+(\s*\[[^\]]*\])?\s*=", re.M), (3, 12),
     "type aliases (type X = ..., PEP 695)"),
)
_FSTRING_REUSED_QUOTES = re.compile(r"""\bf(["'])[^"'\n]*\{[^}\n]*\1""")


def newer_python(source: str, message: str,
                 running: tuple[int, int] = sys.version_info[:2]) -> str | None:
    """When a SyntaxError (``message``) in ``source`` comes from syntax of a newer Python than
    ``running``, what it is and which version it needs; else None."""
    if "SyntaxError" not in message and "invalid syntax" not in message:
        return None
    version = ".".join(map(str, running))
    for pattern, needed, what in _NEWER_SYNTAX:
        if running < needed and pattern.search(source):
            return (f"your code uses {what}, which needs Python {needed[0]}.{needed[1]}; "
                    f"the grader runs Python {version}")
    if running < (3, 12) and "f-string" in message and _FSTRING_REUSED_QUOTES.search(source):
        return ("your code reuses an f-string's quotes inside its {}, which needs Python 3.12; "
                f"the grader runs Python {version}: use the other kind of quotes inside")
    return None
