"""Known mistakes as data: a buggy implementation and what to tell the learner.

When a learner's results are wrong, each known mistake of that function is run on the same
inputs (in the grader's process: these are the project's own small functions). A mistake
whose results match the learner's on every input, and which is wrong itself, names the bug.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks.compare import close_enough


@dataclass(frozen=True)
class Mistake:
    """A known mistake and what to tell the learner.

    Either ``impl`` behaves as the buggy function would (same signature, for function checks),
    or ``derive(expected)`` turns the reference's results into what the buggy code gives (for
    scenario checks: ``expected`` is the scenario's dict, the result a dict of the keys the
    mistake changes), or ``variant`` maps names the scenario uses to buggy implementations in
    ``solutions/mistakes/<module>.py`` (e.g. ``{"Adam": "AdamWithoutBiasCorrection"}``), whose
    results are stored with the reference values. Deriving and variants keep near-solution
    code out of the grader that students receive.
    """

    name: str
    message: str
    impl: Callable[..., Any] | None = None
    derive: Callable[[Any], Any] | None = None
    variant: dict[str, str] | None = None


def named(mistakes: Sequence[Mistake], name: str) -> Mistake:
    """The mistake called ``name`` in ``mistakes`` (for check modules)."""
    return next(m for m in mistakes if m.name == name)


class Raised:
    """Stands for "the code raised an exception" in an outcome."""

    def __repr__(self) -> str:
        return "Raised()"


RAISED = Raised()


def predict(impl: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """What ``impl`` returns on these inputs (``RAISED`` if it raises); warnings silenced."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return impl(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        except Exception:
            return RAISED


def _matches(got: Any, predicted: Any, rtol: float, atol: float) -> bool:
    if isinstance(got, Raised) or isinstance(predicted, Raised):
        return isinstance(got, Raised) and isinstance(predicted, Raised)
    return close_enough(got, predicted, rtol, atol)


def diagnose(
    mistakes: Sequence[Mistake],
    outcomes: Sequence[tuple[tuple, dict, Any, Any]],
    rtol: float,
    atol: float,
) -> Mistake | None:
    """The first mistake consistent with every outcome, or None.

    ``outcomes`` holds ``(args, kwargs, got, expected)`` per input, ``got`` being ``RAISED``
    when the learner's code raised. A mistake qualifies when it reproduces ``got`` on every
    input and differs from ``expected`` on at least one.
    """
    for mistake in mistakes:
        if mistake.impl is None:
            continue
        predicted = [predict(mistake.impl, args, kwargs) for args, kwargs, _, _ in outcomes]
        if all(
            _matches(got, pred, rtol, atol)
            for (_, _, got, _), pred in zip(outcomes, predicted, strict=True)
        ) and any(
            not _matches(exp, pred, rtol, atol)
            for (_, _, _, exp), pred in zip(outcomes, predicted, strict=True)
        ):
            return mistake
    return None


def reproduces(got: dict, predicted: dict, expected: dict, rtol: float, atol: float) -> bool:
    """True when ``predicted`` (a buggy result) matches ``got`` everywhere and is itself wrong."""
    keys = [k for k in predicted if k in got]
    return all(_matches(got[k], predicted[k], rtol, atol) for k in keys) and any(
        not _matches(expected[k], predicted[k], rtol, atol) for k in keys if k in expected
    )


def derived(mistake: Mistake, expected: dict) -> dict | None:
    """The full result ``mistake.derive`` predicts from ``expected`` (None if it cannot)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return {**expected, **mistake.derive(copy.deepcopy(expected))}
        except Exception:
            return None
