"""Grading one exercise of one submission: run every check through an isolated session."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from grader.checks.base import BUDGET_KIND, Budget, Check, Context, Exercise, Oracle
from grader.checks.failure import CheckFailed
from grader.expected import StoredOracle, StoreError
from grader.i18n import N_, _
from grader.result import CheckResult, ExerciseResult, fault_of
from grader.runner.limits import Limits
from grader.runner.sandbox import NO_SANDBOX, Sandbox
from grader.runner.session import Session
from grader.runner.submission import Submission, SubmissionError, locate, other_file


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it is below it, else as it is."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def failed_result(
    check: Check, message: str, diagnosis: str | None = None, kind: str | None = None
) -> CheckResult:
    """A failed result (no points) for ``check`` with ``message``."""
    return CheckResult(
        name=check.name,
        score=0.0,
        max_score=check.points,
        status="failed",
        output=message,
        diagnosis=diagnosis,
        hidden=check.hidden,
        kind=kind,
    )


#: What a check says when it did not run because of the result's ``error`` (shown once, above
#: the checks): the learner's file does not import, cannot be read, or was not graded at all.
NOT_RUN_IMPORT = N_("not run: the file does not import (see above)")
NOT_RUN_UNREADABLE = N_("not run: the file cannot be read (see above)")
NOT_RUN = N_("not run (see above)")


def not_run(checks: list[Check], output: str = NOT_RUN) -> list[CheckResult]:
    """``checks`` failed with no points, each saying only ``output``: why is the result's
    ``error``, which the reports show once, above the checks."""
    return [failed_result(c, _(output)) for c in checks]


def ungraded_result(exercise: Exercise, message: str, include_hidden: bool = False
                    ) -> ExerciseResult:
    """The result of ``exercise`` when nothing could be graded (a missing file, a bad entry):
    ``message`` is the result's ``error``, and every check failed without running."""
    result = ExerciseResult(exercise.id, exercise.title, "", error=message)
    result.checks = not_run([c for c in exercise.checks if include_hidden or not c.hidden])
    return result


def _run_check(check: Check, ctx: Context) -> CheckResult:
    """``check``'s result on ``ctx``, with its wall time.

    Once the exercise's time budget is used up, a check fails without running; one that it cut
    short fails too, whatever it made of the refused call (its points were not earned).
    """
    budget = ctx.budget
    if budget is not None and (budget.used_up or budget.left() <= 0):
        return replace(_over_budget(check, budget), seconds=0.0)
    started = time.perf_counter()
    result = _check_outcome(check, ctx)
    if budget is not None and budget.used_up:
        result = _over_budget(check, budget)
    return replace(result, seconds=round(time.perf_counter() - started, 3))


def _over_budget(check: Check, budget: Budget) -> CheckResult:
    failure = budget.failure()
    return failed_result(check, failure.message, kind=BUDGET_KIND)


def _check_outcome(check: Check, ctx: Context) -> CheckResult:
    try:
        message = check.run(ctx)
    except CheckFailed as failure:
        return failed_result(check, failure.message, failure.diagnosis, failure.kind)
    except StoreError:
        raise
    except Exception as error:  # a result the check did not foresee; never crash the run
        return failed_result(check, _("could not check the result ({error})").format(
            error=f"{type(error).__name__}: {error}"))
    return CheckResult(
        name=check.name,
        score=float(check.points),
        max_score=check.points,
        status="passed",
        output=message,
        hidden=check.hidden,
    )


def grade_submission(
    exercise: Exercise,
    submission: Submission,
    *,
    oracle: Oracle | None = None,
    limits: Limits | None = None,
    include_hidden: bool = False,
    prerequisites: bool = True,
    sandbox: Sandbox | None = None,
) -> ExerciseResult:
    """Run every check of ``exercise`` on ``submission``; learner faults become failed checks.

    The learner's code runs inside ``sandbox`` (None: no sandbox), prerequisites included.

    With ``prerequisites`` the exercises it builds on are graded first and any that fall short
    is named in ``notes``. Raises ``StoreError`` only when the grader's own reference values
    are broken.
    """
    started = time.perf_counter()
    oracle = oracle or StoredOracle()
    sandbox = sandbox or NO_SANDBOX
    notes = _prerequisite_notes(exercise, submission, oracle, sandbox) if prerequisites else []
    limits = limits or exercise.limits or Limits()
    checks = [c for c in exercise.checks if include_hidden or not c.hidden]
    result = ExerciseResult(exercise.id, exercise.title, display_path(submission.graded_file))
    twin = other_file(submission)
    result.other_file = display_path(twin) if twin else None
    result.notes = notes
    try:
        session = Session(submission, limits, sandbox)
    except SubmissionError as error:  # e.g. the graded file cannot be read
        result.error = str(error)
        result.checks = not_run(checks, NOT_RUN_UNREADABLE)
        result.seconds = round(time.perf_counter() - started, 3)
        return result
    with session:
        if session.import_error is not None:
            error = session.import_error
            result.error = error.message
            result.checks = not_run(checks, NOT_RUN_IMPORT)
            result.fault = fault_of([error.cause])
            result.learner_output = session.output
        else:
            # The budget starts after the import (bounded by its own timeout) and covers every
            # check, hidden ones included, and any restart of the child.
            ctx = Context(session, oracle, exercise, Budget(limits.budget))
            # Hidden checks run last, and what the code prints meanwhile is kept apart: it may
            # show their inputs, which learners must not see.
            result.checks = [_run_check(check, ctx) for check in checks if not check.hidden]
            shown = session.output
            result.checks += [_run_check(check, ctx) for check in checks if check.hidden]
            result.fault = fault_of([c.kind for c in result.checks])
            output = session.output
            result.hidden_output = output[len(shown):] if output.startswith(shown) else ""
            result.learner_output = shown
    result.seconds = round(time.perf_counter() - started, 3)
    if not include_hidden and submission.search_dir is not None:
        _graded[_identity(exercise, submission)] = result
    return result


#: Results graded in this process, so that `grade all` does not grade ex06 again for ex08.
_graded: dict[tuple, ExerciseResult] = {}


def _identity(exercise: Exercise, submission: Submission) -> tuple:
    """What makes a result reusable: the exercise and the graded file's path, size and mtime."""
    try:
        stat = submission.graded_file.stat()
    except OSError:
        return (exercise.id, str(submission.graded_file), None)
    return (exercise.id, str(submission.graded_file), stat.st_size, stat.st_mtime_ns)


def _prerequisite_notes(
    exercise: Exercise, submission: Submission, oracle: Oracle, sandbox: Sandbox
) -> list[str]:
    """Grade the exercises ``exercise`` builds on (its ``requires``); say which fall short.

    A learner's later exercise imports their earlier ones, so a failure there explains (and
    usually causes) failures here: the learner is told first.
    """
    from grader.registry import load

    notes = []
    for required in exercise.requires:
        prerequisite = load(required)
        if submission.search_dir is None:
            notes.append(_("{exercise} uses your {prerequisite}; grade a folder to check it")
                         .format(exercise=exercise.id, prerequisite=prerequisite.id))
            continue
        try:
            found = locate(submission.search_dir, prerequisite.module)
        except SubmissionError:
            notes.append(_("{exercise} needs your {prerequisite} ({module}.py), which is "
                           "missing").format(exercise=exercise.id, prerequisite=prerequisite.id,
                                             module=prerequisite.module))
            continue
        result = _graded.get(_identity(prerequisite, found)) or grade_submission(
            prerequisite, found, oracle=oracle, sandbox=sandbox
        )
        note = prerequisite_note(exercise.id, result)
        if note:
            notes.append(note)
    return notes


def prerequisite_note(exercise_id: str, prerequisite: ExerciseResult) -> str | None:
    """What to say when ``exercise_id`` builds on ``prerequisite`` and it falls short."""
    if prerequisite.full_marks:
        return None
    return _("{exercise} builds on your {prerequisite}, which scores {score}/{max_score}: fix "
             "it first (grade {prerequisite})").format(
        exercise=exercise_id, prerequisite=prerequisite.exercise,
        score=f"{prerequisite.score:g}", max_score=f"{prerequisite.max_score:g}")


def grade_path(
    exercise: Exercise,
    path: Path,
    *,
    oracle: Oracle | None = None,
    limits: Limits | None = None,
    include_hidden: bool = False,
) -> ExerciseResult:
    """Locate ``exercise``'s file under ``path`` and grade it.

    Raises ``SubmissionError`` (a one-line message) when there is nothing to grade.
    """
    submission = locate(Path(path), exercise.module)
    return grade_submission(
        exercise, submission, oracle=oracle, limits=limits, include_hidden=include_hidden
    )


def with_timeout(limits: Limits, seconds: float | None) -> Limits:
    """``limits`` with the per-call timeout replaced when ``seconds`` is given.

    The exercise's time budget scales with it: by default it is a number of per-call timeouts
    (``BUDGET_CALLS``); a budget of its own is multiplied by ``seconds / call_timeout``.
    """
    if seconds is None:
        return limits
    budget = limits.exercise_seconds
    if budget is not None:
        budget = budget * seconds / limits.call_timeout
    return replace(limits, call_timeout=seconds, exercise_seconds=budget)
