"""Hidden checks: more random cases per exercise, drawn from an instructor's secret seed.

Their definitions are instructor material, kept beside the reference solutions in
``solutions/hidden/<module>.py`` (students never receive them): each such file defines
``hidden_checks(rng) -> list[Check]``, checks marked ``hidden=True`` and named ``"hidden: ..."``.
Their reference values are computed from the live solutions, never stored.

    exercise, oracle = prepare(load("ex01"), Path("solutions"), seed)
    result = grade_submission(exercise, submission, oracle=oracle, include_hidden=True)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from grader.checks.base import Check, Exercise, Oracle, Ref
from grader.expected import LiveOracle, StoredOracle
from grader.fileimport import import_file

#: Every hidden check's name starts with this.
PREFIX = "hidden: "
#: The folder of hidden check modules, inside the solutions folder.
FOLDER = "hidden"


class HiddenChecksError(Exception):
    """The hidden checks cannot be used: no solutions folder, or a module that fails to load."""


def rng_for(seed: str, exercise_id: str) -> np.random.Generator:
    """The generator of ``exercise_id``'s hidden cases for ``seed``: the same for the same pair,
    independent across exercises (both strings hashed with SHA-256)."""
    digest = hashlib.sha256(json.dumps([seed, exercise_id]).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest, "big"))


def _describe(error: Exception) -> str:
    """``error`` as one line: its type and message."""
    return " ".join(f"{type(error).__name__}: {error}".split())


def _hidden_folder(solutions_dir: Path) -> Path:
    """``solutions_dir/hidden``, or HiddenChecksError if it or ``solutions_dir`` is missing."""
    if not Path(solutions_dir).is_dir():
        raise HiddenChecksError(f"no solutions folder {solutions_dir}: hidden checks need the "
                                "instructors' solutions")
    folder = Path(solutions_dir) / FOLDER
    if not folder.is_dir():
        raise HiddenChecksError(f"no hidden checks in {solutions_dir} (no folder {folder})")
    return folder


def _load(path: Path) -> ModuleType:
    """The module at ``path``, imported once under a private name (not through sys.path)."""
    try:
        return import_file(path, "_backprop_lab_hidden")
    except Exception as error:  # a syntax error, a failed import...
        raise HiddenChecksError(f"cannot load hidden checks {path.resolve()}: "
                                f"{_describe(error)}") from None


def _validated(checks: Any, path: Path) -> tuple[Check, ...]:
    """``checks`` if they are hidden Checks with unique, prefixed names and reference keys."""
    if not isinstance(checks, list | tuple) or not all(isinstance(c, Check) for c in checks):
        raise HiddenChecksError(f"hidden_checks in {path} must return a list of Check")
    for check in checks:
        if not check.hidden or not check.name.startswith(PREFIX):
            raise HiddenChecksError(f"check {check.name!r} in {path} must have hidden=True "
                                    f"and a name starting with {PREFIX!r}")
    keys = [ref.key for check in checks for ref in check.refs]
    names = [check.name for check in checks]
    for what, values in (("check name", names), ("reference key", keys)):
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise HiddenChecksError(f"repeated {what} {repeated[0]!r} in {path}")
    return tuple(checks)


def with_hidden(exercise: Exercise, solutions_dir: Path, seed: str) -> Exercise:
    """``exercise`` with the hidden checks of ``seed`` appended (unchanged if it has none).

    Raises ``HiddenChecksError`` (a one-line message) when ``solutions_dir`` or its hidden
    folder is missing, or the exercise's hidden module fails to load or to build its checks.
    """
    path = _hidden_folder(solutions_dir) / f"{exercise.module}.py"
    if not path.is_file():
        return exercise
    module = _load(path)
    build = getattr(module, "hidden_checks", None)
    if not callable(build):
        raise HiddenChecksError(f"{path} defines no function hidden_checks(rng)")
    try:
        checks = build(rng_for(seed, exercise.id))
    except Exception as error:
        raise HiddenChecksError(f"hidden_checks in {path} failed: {_describe(error)}"
                                ) from None
    return dataclasses.replace(exercise, checks=exercise.checks + _validated(checks, path))


class HiddenOracle:
    """Reference values of public checks from ``public``; those of hidden checks (their refs'
    keys in ``hidden_keys``) computed by ``live``, the trusted solutions."""

    def __init__(self, public: Oracle, live: LiveOracle, hidden_keys: frozenset[str]) -> None:
        self.public, self.live, self.hidden_keys = public, live, frozenset(hidden_keys)

    def expected(self, exercise: Exercise, ref: Ref) -> Any:
        source = self.live if ref.key in self.hidden_keys else self.public
        return source.expected(exercise, ref)


def prepare(
    exercise: Exercise,
    solutions_dir: Path,
    seed: str,
    *,
    public: Oracle | None = None,
    live: LiveOracle | None = None,
) -> tuple[Exercise, HiddenOracle]:
    """``exercise`` with its hidden checks for ``seed``, and the oracle to grade it with.

    Pass both to ``grade_submission(..., include_hidden=True)``. ``public`` defaults to the
    stored values, ``live`` to the solutions in ``solutions_dir`` (share one across exercises to
    import each solution once).
    """
    extended = with_hidden(exercise, solutions_dir, seed)
    keys = frozenset(ref.key for check in extended.checks if check.hidden for ref in check.refs)
    oracle = HiddenOracle(public or StoredOracle(), live or LiveOracle(solutions_dir), keys)
    return extended, oracle
