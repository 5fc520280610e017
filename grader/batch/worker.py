"""One unit of batch work, run in a grader worker process: one exercise of one student.

Workers are the grader's own processes (they never run learner code themselves: every grading
starts its own contained child). A task goes in as a small frozen dataclass and its result comes
back as JSON text, so nothing a learner's code produced is ever pickled.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.checks.base import Exercise
from grader.engine import ungraded_result, with_timeout
from grader.i18n import use
from grader.runner.limits import Limits
from grader.runner.sandbox import Sandbox
from grader.runner.session import kill_all_runs


@dataclass(frozen=True)
class HiddenSpec:
    """Hidden checks to add: the instructor's secret seed and solutions folder."""

    seed: str
    solutions: Path


@dataclass(frozen=True)
class ResampleSpec:
    """Public value checks to run again on fresh inputs (``grader.replay``): the batch's seed,
    the instructor's solutions that judge them, and the names of the checks to resample per
    exercise (``calibrate``d once by the batch), as ``((exercise id, names), ...)``."""

    seed: str
    solutions: Path
    checks: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def names(self, exercise_id: str) -> tuple[str, ...]:
        """The checks of ``exercise_id`` to resample."""
        return dict(self.checks).get(exercise_id, ())


@dataclass(frozen=True)
class Task:
    """Grade ``exercise`` of ``student`` from the staged ``folder``."""

    student: str
    exercise: str
    folder: Path
    content_hash: str
    timeout: float | None
    sandbox: Sandbox
    hidden: HiddenSpec | None = None
    resample: ResampleSpec | None = None
    lang: str = "en"  # the language of the result's messages (grader.i18n)

    @property
    def key(self) -> tuple[str, str]:
        """(student, exercise): what the gradebook records one result for."""
        return self.student, self.exercise


def _terminate(*_: object) -> None:
    """SIGTERM: kill the learner's child of a running task and remove its scratch, then exit.
    Done in the handler itself: an exception raised into the interrupted code could land
    where Python swallows it (a fork hook, a finaliser) and leave the worker running."""
    kill_all_runs()
    os._exit(143)


_started: Any = None  # where a worker says which task it starts (see init_worker)


def init_worker(started: Any = None) -> None:
    """Set up a worker: Ctrl-C is the batch's to handle; SIGTERM, or the batch process dying,
    ends the worker, killing its learner child on the way out. ``started`` (a multiprocessing
    queue) hears ``(pid, task.key)`` as each task starts, so that the batch knows which runs a
    worker that died was grading."""
    global _started
    _started = started
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminate)
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: SIGTERM when the batch process dies


#: What a worker loads once and reuses for every task: the stored reference values, the live
#: solutions, and each exercise prepared with its hidden and resampled checks.
_cache: dict[object, object] = {}


def _live(solutions: Path):
    from grader.expected import LiveOracle

    return _cache.setdefault(("live", solutions), LiveOracle(solutions))


def _exercise_and_oracle(task: Task):
    """The exercise to grade (with hidden checks when asked, its public value checks also run
    on fresh inputs when asked) and its reference values."""
    from grader.expected import StoredOracle
    from grader.registry import load

    key = (task.exercise, task.hidden, task.resample)
    if key in _cache:
        return _cache[key]
    exercise = load(task.exercise)
    oracle = _cache.setdefault("stored", StoredOracle())
    if task.hidden is not None:
        from grader.hidden import prepare

        exercise, oracle = prepare(exercise, task.hidden.solutions, task.hidden.seed,
                                   public=oracle, live=_live(task.hidden.solutions))
    if task.resample is not None and task.resample.names(task.exercise):
        from grader.replay import resampled

        exercise = resampled(exercise, _live(task.resample.solutions), task.resample.seed,
                             only=task.resample.names(task.exercise))
    _cache[key] = exercise, oracle
    return _cache[key]


def limits_for(exercise: Exercise, timeout: float | None) -> Limits:
    """The exercise's limits with the batch's ``--timeout`` per call; an exercise that sets a
    longer budget of its own (training: ex08 to ex10) keeps it. The exercise's time budget
    follows the per-call timeout (see ``with_timeout``)."""
    own = exercise.limits or Limits()
    if timeout is None:
        return own
    return with_timeout(own, max(timeout, own.call_timeout) if exercise.limits else timeout)


#: Seconds one run may take beyond its import timeout and its time budget: starting the child
#: and the sandbox, the grace a dying child gets (2 s), killing it and removing its scratch.
RUN_OVERHEAD = 5.0


def worst_case_seconds(exercise: Exercise, timeout: float | None) -> float:
    """The longest one run of ``exercise`` can take: its import timeout, its time budget
    (which also bounds restarts of the child) and ``RUN_OVERHEAD``."""
    limits = limits_for(exercise, timeout)
    return limits.import_timeout + limits.budget + RUN_OVERHEAD


def missing_message(module: str) -> str:
    """The error of an exercise whose file the student did not hand in."""
    return f"{module}.py (or .ipynb) is missing from the submission"


def grade_task(task: Task) -> str:
    """Grade one task; returns JSON: ``{"student", "exercise", "content_hash", "seconds",
    "result"}``, or ``{"student", "exercise", "grader_error"}`` when the grader itself failed."""
    if _started is not None:
        _started.put((os.getpid(), task.key))
    with use(task.lang):
        return _grade(task)


def _grade(task: Task) -> str:
    from grader.engine import grade_submission
    from grader.runner.submission import SubmissionError, locate

    start = time.monotonic()
    try:
        exercise, oracle = _exercise_and_oracle(task)
        limits = limits_for(exercise, task.timeout)
        try:
            submission = locate(task.folder, exercise.module)
        except SubmissionError:
            result = ungraded_result(exercise, missing_message(exercise.module),
                                     include_hidden=task.hidden is not None)
        else:
            result = grade_submission(
                exercise, submission, oracle=oracle, limits=limits,
                include_hidden=task.hidden is not None, prerequisites=False,
                sandbox=task.sandbox,
            )
            result.graded_file = submission.graded_file.name
            result.other_file = Path(result.other_file).name if result.other_file else None
    except Exception as error:  # a fault of the grader, not the learner: reported, never recorded
        return json.dumps({"student": task.student, "exercise": task.exercise,
                           "grader_error": f"{type(error).__name__}: {error}"})
    return json.dumps({
        "student": task.student,
        "exercise": task.exercise,
        "content_hash": task.content_hash,
        "seconds": round(time.monotonic() - start, 3),
        "result": result.to_json(),
    })
