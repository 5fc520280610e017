"""Reusable kinds of check, built from data: reference comparison, derivative, property."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.checks.base import Check, Context, Ref
from grader.checks.compare import (
    MAX_COMPARED_SIZE,
    assert_close,
    close_enough,
    float_array,
    tree_size,
)
from grader.checks.evidence import Finding, Seen, observe
from grader.checks.failure import CheckFailed
from grader.checks.mistakes import (
    Mistake,
    Raised,
    diagnose,
    predict,
    prediction_ref,
    predicts,
)
from grader.checks.numgrad import relative_error

#: Learner faults after which further calls in the same check are pointless.
FATAL_KINDS = frozenset({"not_implemented", "timeout", "crashed", "import", "stale", "not_found"})


@dataclass(frozen=True)
class Case:
    """One input: a label for messages (``"batch of 4x5"``) and the call's arguments."""

    label: str
    args: tuple
    kwargs: dict = field(default_factory=dict)


def _reference(func: str, case: Case) -> Callable[[Any], Any]:
    def compute(solution: Any) -> Any:
        return getattr(solution, func)(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))

    return compute


def _with_diagnosis(failure: CheckFailed, mistake: Mistake | None) -> CheckFailed:
    return _explained(failure, mistake)


def _prediction_refs(name: str, func: str, cases: Sequence[Case], mistakes: Sequence[Mistake],
                     numerical: bool = False) -> list[tuple[Mistake, tuple[Ref, ...]]]:
    """Per mistake with stored results, one reference value per case: what it returns there."""
    return [
        (mistake, tuple(prediction_ref(f"{name}/{case.label}", (func, case.args, case.kwargs),
                                       func, mistake, case.args, case.kwargs, numerical)
                        for case in cases))
        for mistake in mistakes
        if predicts(mistake)
    ]


class _TooLarge:
    """Stands for a result too large to compare, kept for diagnosis instead of the result."""

    def __repr__(self) -> str:
        return "TooLarge()"


def _kept(got: Any) -> Any:
    """``got``, or a stand-in when it is too large for any comparison (no mistake can match it),
    so that a check does not hold several huge replies at once."""
    if tree_size(got)[0] > MAX_COMPARED_SIZE:  # all its parts, not only along first items
        return _TooLarge()
    return got


def call_learner(ctx: Context, func: str, case: Case) -> Any:
    """``func(*case.args, **case.kwargs)`` in the learner's process, inputs checked."""
    return ctx.call(func, *case.args, what=func, **case.kwargs)


def _related_refs(name: str, func: str, cases: Sequence[Case], siblings: Mapping[str, str],
                  swapped: str | None) -> list[tuple[str, str, tuple[Ref, ...]]]:
    """(label, message, one ref per case) for each related computation a check compares with:
    another function of the exercise on the same input, or ``func`` with its two first
    arguments swapped."""
    def sibling(other: str, case: Case) -> Callable[[Any], Any]:
        return lambda solution: predict(getattr(solution, other), case.args, case.kwargs)

    def reversed_args(case: Case) -> Callable[[Any], Any]:
        args = (case.args[1], case.args[0], *case.args[2:])
        return lambda solution: predict(getattr(solution, func), args, case.kwargs)

    related = [(other, message, tuple(
        Ref(f"{name}/{case.label} :: related :: {other}", (other, case.args, case.kwargs),
            sibling(other, case)) for case in cases)) for other, message in siblings.items()]
    if swapped is not None:
        related.append(("swapped", swapped, tuple(
            Ref(f"{name}/{case.label} :: related :: swapped", (func, case.args, case.kwargs),
                reversed_args(case)) for case in cases)))
    return related


def _explained(failure: CheckFailed, found: Mistake | Finding | None) -> CheckFailed:
    """``failure`` said with what was found (a known mistake or a finding) in front."""
    if found is None:
        return failure
    name = found.name if isinstance(found, Mistake) else found.diagnosis
    return CheckFailed(f"{found.message}. {failure.plain}", diagnosis=name)


def call_replacing(ctx: Context, func: str, args: tuple, kwargs: Mapping[str, Any],
                   replacements: Mapping[str, str | list], *, check_inputs: bool = False) -> Any:
    """``func(*args, **kwargs)`` in the learner's process with names of the learner's module
    replaced during the call by grader fixtures (``{"numerical_gradient": "central_gradient"}``)
    or by functions returning given values (``{"iterations_per_epoch": [[[100, 50], 2.0]]}``:
    ``[[args, value], ...]``): a function is judged on its own when a function it calls is wrong
    (and charged there)."""
    return ctx.call(ctx.fixture("with_replaced"), ctx.exercise.module, dict(replacements), func,
                    *args, what=func, check_inputs=check_inputs, **kwargs)


def function_check(
    func: str,
    cases: Sequence[Case],
    *,
    name: str,
    points: float = 1,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    mistakes: Sequence[Mistake] = (),
    hidden: bool = False,
    call: Callable[[Context, str, Case], Any] = call_learner,
    explain: Callable[[Context], CheckFailed | None] | None = None,
    explain_refs: tuple[Ref, ...] = (),
    numerical: bool = False,
    probes: Sequence[Case] = (),
    siblings: Mapping[str, str] = {},
    swapped: str | None = None,
    defaults: Mapping[str, Any] = {},
    diagnose_tol: tuple[float, float] | None = None,
) -> Check:
    """Compare ``func`` with the reference on every case; diagnose the mistake on failure.

    ``call(ctx, func, case)`` runs the learner's code (by default also verifying it left its
    inputs unmodified). On a failure, ``explain(ctx)`` may first give the reason (from the
    reference values ``explain_refs``); otherwise a known mistake whose stored results match the
    learner's on every case, and on every one of ``probes`` (inputs only used to tell mistakes
    apart, never scored), is named; otherwise what the evidence shows (``grader.checks.
    evidence``): ``siblings`` maps other functions of the exercise to the sentence saying the
    result is theirs; ``swapped`` is the sentence for the two first arguments swapped;
    ``defaults`` the spec's keyword defaults. ``numerical``: ``func`` differentiates
    numerically, so its stored values are compared with fresh ones as central differences.
    ``diagnose_tol``: (rtol, atol) for matching a mistake's results, when the check's own
    tolerance is too loose to tell mistakes apart.
    """
    refs = tuple(
        Ref(f"{name}/{case.label}", (func, case.args, case.kwargs), _reference(func, case),
            numerical=numerical)
        for case in cases
    )
    probe_refs = tuple(
        Ref(f"{name}/probe/{case.label}", (func, case.args, case.kwargs), _reference(func, case),
            numerical=numerical)
        for case in probes
    )
    predictions = _prediction_refs(name, func, cases, mistakes, numerical)
    probe_predictions = _prediction_refs(f"{name}/probe", func, probes, mistakes, numerical)
    related = _related_refs(name, func, cases, siblings, swapped)

    def learner(ctx: Context, case: Case) -> tuple[Any, CheckFailed | None]:
        """The learner's result on ``case`` (Raised when the code raised) and the failure."""
        try:
            return call(ctx, func, case), None
        except CheckFailed as failure:
            if failure.kind in FATAL_KINDS or failure.kind is None:
                raise
            return Raised(failure.exception), failure

    def run(ctx: Context) -> str:
        outcomes: list[tuple[Any, Any]] = []
        first_failure: CheckFailed | None = None
        for case, ref in zip(cases, refs, strict=True):
            expected = ctx.expected(ref)
            got, failure = learner(ctx, case)
            if failure is not None:
                outcomes.append((got, expected))
                first_failure = first_failure or CheckFailed(
                    f"{failure.message} (input: {case.label})", diagnosis=failure.diagnosis,
                    kind=failure.kind, plain=f"{failure.plain} (input: {case.label})")
                continue
            try:
                assert_close(got, expected, what=f"{func} on {case.label}", rtol=rtol, atol=atol)
            except CheckFailed as mismatch:
                first_failure = first_failure or mismatch
            outcomes.append((_kept(got), expected))
            del got
        if first_failure is None:
            return f"matches the reference on {len(cases)} input{'s' if len(cases) > 1 else ''}"
        reason = explain(ctx) if explain else None
        if reason is not None:
            raise CheckFailed(f"{reason.message}. {first_failure.plain}",
                              diagnosis=reason.diagnosis)
        candidates = [(m, [ctx.expected(r) for r in case_refs]) for m, case_refs in predictions]
        if probes and candidates:
            probed = [(_kept(learner(ctx, case)[0]), ctx.expected(ref))
                      for case, ref in zip(probes, probe_refs, strict=True)]
            extra = {m.name: [ctx.expected(r) for r in case_refs]
                     for m, case_refs in probe_predictions}
            candidates = [(m, predicted + extra[m.name]) for m, predicted in candidates]
            outcomes = outcomes + probed
        found: Mistake | Finding | None = diagnose(candidates, outcomes,
                                                   *(diagnose_tol or (rtol, atol)))
        if found is None and first_failure.diagnosis is None:
            seen = []
            for index, (case, (got, expected)) in enumerate(zip(cases, outcomes, strict=False)):
                values = {label: ctx.expected(case_refs[index]) for label, _, case_refs in related}
                seen.append(Seen(case.args, case.kwargs,
                                 None if isinstance(got, Raised | _TooLarge) else got, expected,
                                 {k: v for k, v in values.items() if not isinstance(v, Raised)}))
            found = observe(func, seen, related_names={label: message
                                                       for label, message, _ in related},
                            defaults=defaults)
        raise _explained(first_failure, found)

    all_refs = (refs + probe_refs
                + tuple(r for _, case_refs in predictions + probe_predictions for r in case_refs)
                + tuple(r for _, _, case_refs in related for r in case_refs) + explain_refs)
    return Check(name=name, points=points, run=run, refs=all_refs, hidden=hidden)


def derivative_check(
    grad_func: str,
    func: str,
    cases: Sequence[Case],
    *,
    name: str,
    points: float = 1,
    h: float = 1e-4,
    max_rel_error: float = 1e-6,
    hidden: bool = False,
) -> Check:
    """``grad_func(x)`` must agree with the central difference of the reference ``func``.

    The reference's difference is stored, so that a wrong ``func`` of the learner's never costs
    a right ``grad_func`` this point. Cases should keep ``x`` away from kinks. The relative
    error is reported as CS231n does.
    """

    def central(case: Case) -> Callable[[Any], Any]:
        def compute(solution: Any) -> Any:
            x, rest = np.asarray(case.args[0], dtype=np.float64), case.args[1:]
            f = getattr(solution, func)
            plus = np.asarray(f(x + h, *rest, **case.kwargs), dtype=np.float64)
            minus = np.asarray(f(x - h, *rest, **case.kwargs), dtype=np.float64)
            return (plus - minus) / (2 * h)

        return compute

    refs = tuple(Ref(f"{name}/{case.label}", (grad_func, func, h, case.args, case.kwargs),
                     central(case), numerical=True) for case in cases)

    def run(ctx: Context) -> str:
        worst = 0.0
        for case, ref in zip(cases, refs, strict=True):
            x, rest = np.asarray(case.args[0], dtype=np.float64), case.args[1:]
            grad = ctx.call(grad_func, x, *rest, **case.kwargs)
            grad = float_array(grad, what=f"{grad_func} on {case.label}", shape=x.shape)
            err = relative_error(grad, np.asarray(ctx.expected(ref), dtype=np.float64))
            worst = max(worst, err)
            if not err <= max_rel_error:
                raise CheckFailed(
                    f"{grad_func} disagrees with the numerical derivative of {func} on "
                    f"{case.label}: relative error {err:.2e} (should be below {max_rel_error:.0e})"
                )
        return f"relative error {worst:.1e} against the numerical derivative"

    return Check(name=name, points=points, run=run, refs=refs, hidden=hidden)


def property_check(
    func: str,
    cases: Sequence[Case],
    predicate: Callable[[Any, Case], str | None],
    *,
    name: str,
    points: float = 1,
    passed: str = "ok",
    mistakes: Sequence[Mistake] = (),
    hidden: bool = False,
) -> Check:
    """``predicate(result, case)`` returns None when the result is right, else the problem.

    When a case fails and one of ``mistakes`` gives the learner's result on it (by its stored
    results), the message names that mistake.
    """
    predictions = _prediction_refs(name, func, cases, mistakes)

    def run(ctx: Context) -> str:
        for index, case in enumerate(cases):
            got = ctx.call(func, *case.args, what=func, **case.kwargs)
            problem = predicate(got, case)
            if problem is not None:
                failure = CheckFailed(f"{func} on {case.label}: {problem}")
                found = next((mistake for mistake, case_refs in predictions
                              if _reproduced(ctx.expected(case_refs[index]), got, case,
                                             predicate)), None)
                raise _with_diagnosis(failure, found)
        return passed

    refs = tuple(r for _, case_refs in predictions for r in case_refs)
    return Check(name=name, points=points, run=run, refs=refs, hidden=hidden)


def _reproduced(predicted: Any, got: Any, case: Case,
                predicate: Callable[[Any, Case], str | None]) -> bool:
    """Whether a mistake's ``predicted`` result on ``case`` is the learner's and fails too."""
    return (
        not isinstance(predicted, Raised)
        and close_enough(got, predicted, 1e-6, 1e-9)
        and predicate(predicted, case) is not None
    )


#: A probe of a failed check: given the learner's code (``ctx``) and the failure, the mistake
#: it finds by trying the code on fresh objects and the detail to say after its message, or None.
Probe = Callable[[Context, CheckFailed], "tuple[Mistake, str] | None"]


def probing(check: Check, *probes: Probe) -> Check:
    """``check``, whose failure names what the first of ``probes`` finds in the learner's code.

    A failure that cannot come from the code's values (not implemented, a timeout, a crash...)
    is left alone; each probe decides which other failures it may explain (a probe that finds a
    precise cause may replace the general reading of an exception). A probe that itself fails
    on the learner's code finds nothing.
    """

    def run(ctx: Context) -> str:
        try:
            return check.run(ctx)
        except CheckFailed as failure:
            if failure.kind in FATAL_KINDS:
                raise
            for probe in probes:
                try:
                    found = probe(ctx, failure)
                except CheckFailed:
                    found = None
                if found is not None:
                    mistake, detail = found
                    message = f"{mistake.message}. {detail}" if detail else mistake.message
                    raise CheckFailed(message, diagnosis=mistake.name) from None
            raise

    return dataclasses.replace(check, run=run)


def unexplained(failure: CheckFailed) -> bool:
    """Whether ``failure`` names no mistake yet, or only the general reading of an exception
    (which a probe that finds the precise cause may replace)."""
    return failure.diagnosis is None or failure.kind == "exception"


def confirmed_probe(mistake: Mistake, when: Callable[[CheckFailed], bool],
                    confirm: Callable[[Context], bool]) -> Probe:
    """A probe naming ``mistake`` when ``when(failure)`` holds of an ``unexplained`` failure and
    ``confirm(ctx)`` finds the mistake in the learner's code with fresh objects."""

    def probe(ctx: Context, failure: CheckFailed) -> tuple[Mistake, str] | None:
        if unexplained(failure) and when(failure) and confirm(ctx):
            return mistake, failure.plain
        return None

    return probe


def naming_when_raising(check: Check, mistake: Mistake,
                        confirm: Callable[[Context], bool]) -> Check:
    """``check``, naming ``mistake`` when the learner's code raised, the failure names nothing
    yet, and ``confirm(ctx)`` holds: ``confirm`` probes the learner's code with fresh objects
    to tell this mistake from any other exception."""

    def probe(ctx: Context, failure: CheckFailed) -> tuple[Mistake, str] | None:
        if failure.kind == "exception" and failure.diagnosis is None and confirm(ctx):
            return mistake, failure.message
        return None

    return probing(check, probe)
