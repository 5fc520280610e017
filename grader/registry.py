"""The exercises the grader knows, looked up by id (``ex01``) or module name."""

from __future__ import annotations

import importlib
import re

from grader.checks.base import Exercise

#: Exercise id -> the module of the grader that defines its checks (as ``EXERCISE``).
EXERCISE_MODULES: dict[str, str] = {
    "ex01": "grader.exercises.ex01_activations",
    "ex02": "grader.exercises.ex02_losses",
}


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
