"""The check library shared by every exercise.

An exercise is a list of named, pointed checks (``Check``). Checks talk to the learner's code
only through a ``Context`` (which wraps the isolated runner), compare in the grader's own
process (``compare``), and name known mistakes when a result matches one (``mistakes``).
"""

from grader.checks.base import Check, Context, Exercise, Ref
from grader.checks.compare import assert_close, same_value
from grader.checks.failure import CheckFailed
from grader.checks.kinds import (
    Case,
    call_replacing,
    confirmed_probe,
    derivative_check,
    function_check,
    naming_when_raising,
    probing,
    property_check,
    unexplained,
)
from grader.checks.mistakes import Mistake
from grader.checks.numgrad import numerical_gradient, relative_error
from grader.checks.scenario import Api, LearnerApi, ReferenceApi, scenario_check

__all__ = [
    "Api",
    "Case",
    "Check",
    "CheckFailed",
    "Context",
    "Exercise",
    "LearnerApi",
    "Mistake",
    "Ref",
    "ReferenceApi",
    "assert_close",
    "call_replacing",
    "derivative_check",
    "function_check",
    "confirmed_probe",
    "naming_when_raising",
    "probing",
    "unexplained",
    "numerical_gradient",
    "property_check",
    "relative_error",
    "same_value",
    "scenario_check",
]
