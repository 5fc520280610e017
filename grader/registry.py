"""The exercises the grader knows, looked up by id (``ex01``) or module name."""

from __future__ import annotations

import importlib
import pkgutil
import re

from grader.checks.base import Exercise


def _discover() -> dict[str, str]:
    """Exercise id -> module, for every ``grader/exercises/exNN_<name>.py``, in course order."""
    import grader.exercises

    names = sorted(
        info.name
        for info in pkgutil.iter_modules(grader.exercises.__path__)
        if re.fullmatch(r"ex\d{2}_\w+", info.name)
    )
    return {name[:4]: f"grader.exercises.{name}" for name in names}


#: Exercise id -> the module of the grader that defines its checks (as ``EXERCISE``).
EXERCISE_MODULES: dict[str, str] = _discover()


class UnknownExercise(Exception):
    """The name given is not an exercise; the message lists the known ones."""


def resolve(name: str) -> str:
    """The exercise id for ``name``: ``ex01``, ``ex1``, ``1`` or ``ex01_activations``."""
    match = re.fullmatch(r"(?:ex)?0*(\d+)(?:_\w+)?", name.strip().lower())
    if match:
        exercise_id = f"ex{int(match.group(1)):02d}"
        module = EXERCISE_MODULES.get(exercise_id)
        if module and ("_" not in name or module.endswith("." + name.strip().lower())):
            return exercise_id
    known = ", ".join(EXERCISE_MODULES)
    raise UnknownExercise(f"unknown exercise {name!r}; known exercises: {known}")


def load(name: str) -> Exercise:
    """The Exercise for ``name`` (any form ``resolve`` accepts)."""
    return importlib.import_module(EXERCISE_MODULES[resolve(name)]).EXERCISE


def all_exercises() -> list[Exercise]:
    """Every exercise, in course order."""
    return [load(exercise_id) for exercise_id in EXERCISE_MODULES]
