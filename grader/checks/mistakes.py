"""Known mistakes as data: what the buggy code gives and what to tell the learner.

The buggy code itself never ships with the grader. A mistake is either a ``variant``: buggy
functions or classes in ``solutions/mistakes/<module>.py`` (instructors only) whose results on a
check's fixed inputs are stored with the reference values; or a ``derive``: what the buggy code
gives, computed from the reference's results. When a learner's results are wrong, each known
mistake's predictions are compared with them; one that matches them on every input, and is
wrong itself, names the bug.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grader.checks.base import Ref
from grader.checks.compare import close_enough
from grader.fileimport import import_file


@dataclass(frozen=True)
class Mistake:
    """A known mistake and what to tell the learner.

    ``variant`` maps names the check uses to buggy implementations in
    ``solutions/mistakes/<module>.py`` (``{"Adam": "AdamWithoutBiasCorrection"}``, or
    ``{"step_function": "step_function_one_at_zero"}`` for a function check): their results
    are computed by ``python -m grader.expected`` and stored, never their code. ``derive(expected)``
    turns the reference's results into what the buggy code gives (for scenario checks:
    ``expected`` is the scenario's dict, the result a dict of the keys the mistake changes).
    ``impl`` behaves as a buggy function would; its results are reference values too, so it is
    for checks that never ship (``solutions/hidden/``): the public grader uses ``variant``.
    A mistake with none of the three is named by a check's own probe.
    """

    name: str
    message: str
    impl: Callable[..., Any] | None = None
    derive: Callable[[Any], Any] | None = None
    variant: dict[str, str] | None = None


def named(mistakes: Sequence[Mistake], name: str) -> Mistake:
    """The mistake called ``name`` in ``mistakes`` (for check modules)."""
    return next(m for m in mistakes if m.name == name)


@dataclass(frozen=True)
class Raised:
    """Stands for "the code raised an exception" in an outcome; ``type`` is the exception's
    class name (empty when unknown). Two outcomes that raised agree when their types do (or
    either is unknown): a ValueError does not confirm a mistake that raises an IndexError."""

    type: str = ""

    def agrees(self, other: Raised) -> bool:
        return not self.type or not other.type or self.type == other.type


RAISED = Raised()


def predict(impl: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """What ``impl`` returns on these inputs (``RAISED`` if it raises); warnings silenced."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return impl(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        except Exception as error:
            return Raised(type(error).__name__)


# ------------------------------------------------------------------ buggy code (instructors)


def mistakes_module(solution: Any) -> Any:
    """``solutions/mistakes/<module>.py`` beside a solution module (instructors only)."""
    path = Path(solution.__file__).parent / "mistakes" / f"{solution.__name__}.py"
    if not path.is_file():
        raise FileNotFoundError(f"no mistakes module {path.resolve()}")
    return import_file(path, "_backprop_lab_mistakes")


class Variant:
    """The solution module with some names replaced by buggy ones from its mistakes module."""

    def __init__(self, solution: Any, mapping: dict[str, str]) -> None:
        self.solution, self.mapping = solution, mapping

    def __getattr__(self, name: str) -> Any:
        if name in self.mapping:
            return getattr(mistakes_module(self.solution), self.mapping[name])
        return getattr(self.solution, name)


def predicts(mistake: Mistake) -> bool:
    """Whether ``mistake``'s results are reference values (it has a variant or an impl)."""
    return bool(mistake.variant) or mistake.impl is not None


def prediction_ref(key: str, inputs: Any, func: str, mistake: Mistake, args: tuple,
                   kwargs: dict, numerical: bool = False) -> Ref:
    """A reference value: what ``mistake``'s ``func`` returns on ``args`` (``RAISED`` if it
    raises), computed from the solution module's variant (or the mistake's impl);
    ``numerical`` as in Ref."""

    def compute(solution: Any) -> Any:
        impl = mistake.impl or getattr(Variant(solution, mistake.variant), func)
        return predict(impl, args, kwargs)

    return Ref(f"{key} :: mistake :: {mistake.name}",
               (inputs, mistake.variant or f"impl {mistake.name}"), compute,
               numerical=numerical)


# ------------------------------------------------------------------------------ diagnosing


def _matches(got: Any, predicted: Any, rtol: float, atol: float) -> bool:
    if isinstance(got, Raised) or isinstance(predicted, Raised):
        return isinstance(got, Raised) and isinstance(predicted, Raised)
    return close_enough(got, predicted, rtol, atol)


def _only_raised(pairs: Sequence[tuple[tuple[Any, Any], Any]]) -> bool:
    """Whether the learner's code raised on every input (no value confirms a mistake)."""
    return all(isinstance(got, Raised) for (got, _), _ in pairs)


def diagnose(
    candidates: Sequence[tuple[Mistake, Sequence[Any]]],
    outcomes: Sequence[tuple[Any, Any]],
    rtol: float,
    atol: float,
) -> Mistake | None:
    """The first mistake consistent with every outcome, or None.

    ``candidates`` pairs each mistake with its predicted result per input; ``outcomes`` holds
    ``(got, expected)`` per input, ``got`` being ``RAISED`` when the learner's code raised. A
    mistake qualifies when it reproduces ``got`` on every input and differs from ``expected``
    on at least one. Raising counts as reproducing a mistake that raises there too; when the
    code raised on every input, the exceptions' types must agree as well (any exception is
    weak evidence for one particular mistake).
    """
    for mistake, predicted in candidates:
        pairs = list(zip(outcomes, predicted, strict=True))
        if all(_matches(got, pred, rtol, atol) for (got, _), pred in pairs) and any(
            not _matches(exp, pred, rtol, atol) for (_, exp), pred in pairs
        ) and (not _only_raised(pairs) or all(got.agrees(pred) for (got, _), pred in pairs)):
            return mistake
    return None


def reproduces(got: dict, predicted: dict, expected: dict, rtol: float, atol: float) -> bool:
    """True when ``predicted`` (a buggy result) matches ``got`` everywhere and is itself wrong."""
    keys = [k for k in predicted if k in got]
    return all(_matches(got[k], predicted[k], rtol, atol) for k in keys) and any(
        not _matches(expected[k], predicted[k], rtol, atol) for k in keys if k in expected
    )


def same_prediction(a: dict, b: dict) -> bool:
    """Whether two mistakes predict the same result (to rounding) for a scenario."""
    return a.keys() == b.keys() and all(_matches(a[k], b[k], 1e-12, 0.0) for k in a)


def derived(mistake: Mistake, expected: dict) -> dict | None:
    """The full result ``mistake.derive`` predicts from ``expected`` (None if it cannot)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return {**expected, **mistake.derive(copy.deepcopy(expected))}
        except Exception:
            return None
