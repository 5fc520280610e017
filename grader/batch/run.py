"""A batch run: stage every student's entry, grade what is new in parallel, record, write out.

    run_batch(BatchOptions(submissions, out, exercises, jobs, ...), progress) -> BatchSummary

Each exercise of each student is graded in its own contained run (a learner child process inside
the sandbox), by a pool of ``jobs`` grader worker processes. Results are recorded in the
gradebook the moment they arrive; what the gradebook already holds for the same content and the
same grader is reused. The outputs (CSV, JSON, per-student feedback) are rewritten from the
gradebook at the end, also after Ctrl-C.
"""

from __future__ import annotations

import concurrent.futures as futures
import dataclasses
import json
import multiprocessing
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grader.batch.entries import Entry, discover
from grader.batch.fingerprint import grader_hash, submission_hash
from grader.batch.gradebook import GRADEBOOK, Gradebook
from grader.batch.outputs import write_outputs
from grader.batch.worker import (
    HiddenSpec,
    ResampleSpec,
    Task,
    grade_task,
    init_worker,
    worst_case_seconds,
)
from grader.engine import ungraded_result
from grader.result import ExerciseResult
from grader.runner.sandbox import Sandbox
from grader.runner.session import remove_stale_runs

_STAGING = ".staging"
_IDLE_BREAKS = 3  # pools broken with no run in flight before the batch gives up
#: Why a run is recorded as crashed when its grader worker died even while grading it alone.
KILLED_WORKER = ("the grader's process died while it graded this exercise, even when run alone: "
                 "your code killed it (os.kill of its parent?) or used up the machine's memory")


@dataclass(frozen=True)
class BatchOptions:
    """What to grade and how. ``exercises`` are ids (``["ex01", "ex02"]``)."""

    submissions: Path
    out: Path
    exercises: list[str]
    jobs: int
    sandbox: Sandbox
    timeout: float | None = None
    hidden: HiddenSpec | None = None
    #: Run every public value check on fresh inputs too (``grader.replay``) when the solutions
    #: are at hand: ``hidden.solutions`` with hidden checks, else ``solutions``, by default
    #: the ``solutions/`` beside the grader (the instructor's repository; students have none).
    resample: bool = True
    solutions: Path | None = None
    #: The language of the feedback (``grader.i18n``): part of the grader hash, since the
    #: gradebook keeps each result's messages as they were worded.
    lang: str = "en"


@dataclass
class BatchSummary:
    """How a run went. ``failed`` counts runs that timed out, crashed or could not be graded;
    ``worst_case`` is how long grading the whole class could take (see :func:`worst_case`)."""

    students: int = 0
    problems: int = 0
    graded: int = 0
    reused: int = 0
    failed: int = 0
    grader_errors: list[str] = field(default_factory=list)
    isolation: str = ""
    seconds: float = 0.0
    interrupted: bool = False
    outputs: list[Path] = field(default_factory=list)
    worst_case: float = 0.0
    killed_workers: int = 0


def worst_case(exercises: list[str], timeout: float | None, students: int, jobs: int) -> float:
    """Seconds ``students`` × ``exercises`` runs take on ``jobs`` workers when every run uses
    its whole time budget: students × the sum over exercises of (import timeout + budget +
    overhead, see ``worst_case_seconds``) / jobs."""
    from grader.registry import load

    per_student = sum(worst_case_seconds(load(e), timeout) for e in exercises)
    runs = students * len(exercises)
    return students * per_student / max(1, min(jobs, runs)) if runs else 0.0


class Progress:
    """What a run reports as it goes; the default reports nothing."""

    def start(self, total: int, reused: int) -> None:
        """``total`` gradings to do now; ``reused`` results taken from the gradebook."""

    def expect(self, student: str, runs: int) -> None:
        """``student`` has ``runs`` gradings to do in this run."""

    def advance(self, student: str, exercise: str, failed: bool) -> None:
        """One grading finished."""

    def stop(self) -> None:
        """The run is over (finished or interrupted)."""


def _is_failure(result: ExerciseResult) -> bool:
    return result.fault is not None or result.error is not None


def run_batch(options: BatchOptions, progress: Progress | None = None) -> BatchSummary:
    """Grade ``options.submissions`` into ``options.out``; see the module docstring.

    Ctrl-C stops the run: what was recorded stays, the outputs are written, and
    ``summary.interrupted`` is set. Raises GradebookError when the gradebook cannot be used.
    """
    progress = progress or Progress()
    started = time.monotonic()
    summary = BatchSummary(isolation=options.sandbox.description)
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    staging = out / _STAGING
    shutil.rmtree(staging, ignore_errors=True)  # left by a run that was killed
    remove_stale_runs()  # scratch folders, processes and cgroups of killed runs
    staging.mkdir(mode=0o700)
    try:
        with Gradebook(out / GRADEBOOK) as book:
            entries = discover(options.submissions, staging)
            book.record_entries([(e.student, e.shown_source, e.problem) for e in entries])
            summary.students = len(entries)
            summary.problems = sum(1 for e in entries if e.problem)
            solutions = _resampling_solutions(options)
            seed = book.resample_seed() if solutions is not None else None
            hidden = options.hidden
            version = grader_hash(options.timeout, hidden.seed if hidden else None,
                                  hidden.solutions if hidden else solutions, seed,
                                  lang=options.lang)
            current = {entry.student: (submission_hash(entry.folder), version)
                       for entry in entries if entry.folder is not None}
            tasks, summary.reused = _plan(options, entries, book, current)
            if tasks and seed is not None and solutions is not None:
                tasks = _resampling(tasks, seed, solutions, summary)
            summary.worst_case = worst_case(options.exercises, options.timeout, len(current),
                                            options.jobs)
            run = book.start_run(summary.isolation, options.jobs, options.exercises,
                                 options.hidden is not None)
            status = "finished"
            try:
                _grade(tasks, options.jobs, book, version, progress, summary)
            except KeyboardInterrupt:
                summary.interrupted, status = True, "interrupted"
            finally:
                progress.stop()
                book.finish_run(run, summary.graded, summary.reused, status)
            summary.outputs = write_outputs(out, book, entries, options.exercises, current,
                                            errors=summary.grader_errors)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    summary.seconds = time.monotonic() - started
    return summary


def _resampling_solutions(options: BatchOptions) -> Path | None:
    """The solutions that judge the public checks on fresh inputs, or None (not asked for, or
    no solutions: a student's copy of the grader)."""
    if not options.resample:
        return None
    from grader import SOLUTIONS_DIR

    folder = (options.hidden.solutions if options.hidden
              else options.solutions or SOLUTIONS_DIR)
    return Path(folder) if Path(folder).is_dir() else None


def _resampling(tasks: list[Task], seed: str, solutions: Path, summary: BatchSummary
                ) -> list[Task]:
    """``tasks`` with their public value checks resampled: which ones, per exercise, is
    calibrated here once (``grader.replay.calibrate``: the solution must pass them). An
    exercise whose solution cannot be graded is not graded in this run (a grader error):
    without the solutions' fresh values its grades could be bought with the stored ones."""
    from grader.expected import LiveOracle, StoreError
    from grader.registry import load
    from grader.replay import calibrate

    live, checks, broken = LiveOracle(solutions), [], set()
    for exercise_id in sorted({task.exercise for task in tasks}):
        try:
            checks.append((exercise_id, calibrate(load(exercise_id), live, seed)))
        except StoreError as error:
            broken.add(exercise_id)
            summary.grader_errors.append(f"{exercise_id} was not graded: checks on fresh "
                                         f"inputs need the reference solution ({error})")
    spec = ResampleSpec(seed, solutions.resolve(), tuple(checks))
    return [dataclasses.replace(task, resample=spec) for task in tasks
            if task.exercise not in broken]


def _plan(options: BatchOptions, entries: list[Entry], book: Gradebook,
          current: dict[str, tuple[str, str]]) -> tuple[list[Task], int]:
    """The tasks whose result is not in the gradebook for this content and grader
    (``current``: student -> (content hash, grader hash)), and how many results are reused."""
    stored = book.hashes()
    tasks, reused = [], 0
    for entry in entries:
        if entry.folder is None:
            continue
        for exercise in options.exercises:
            if stored.get((entry.student, exercise)) == current[entry.student]:
                reused += 1
                continue
            tasks.append(Task(entry.student, exercise, entry.folder, current[entry.student][0],
                              options.timeout, options.sandbox, options.hidden,
                              lang=options.lang))
    return tasks, reused


def _grade(tasks: list[Task], jobs: int, book: Gradebook, version: str,
           progress: Progress, summary: BatchSummary) -> None:
    """Run ``tasks`` on ``jobs`` worker processes, recording each result as it arrives.

    A worker that dies (killed by the learner code it was grading, where that code can reach
    it, or from outside) breaks the pool. Then each run it was grading is tried again alone, in
    a pool of its own: one that breaks that pool too is recorded as that student's crash (the
    batch does not stop, and the same student cannot stop it again on the next run); the others
    are graded as usual, and the rest of the class goes on in a fresh pool.
    """
    progress.start(len(tasks), summary.reused)
    if not tasks:
        return
    _decode_datasets()
    for student, runs in Counter(task.student for task in tasks).items():
        progress.expect(student, runs)

    def record(task: Task, reply: object) -> None:
        progress.advance(task.student, task.exercise,
                         _record(task, reply, book, version, summary))

    remaining, idle_breaks = tasks, 0
    while remaining:
        in_flight, remaining = _run_pool(remaining, jobs, record)
        if remaining and not in_flight:  # a worker died between runs: not any learner's doing
            idle_breaks += 1
            if idle_breaks == _IDLE_BREAKS:
                summary.grader_errors.append(
                    f"grader workers died {idle_breaks} times while idle; {len(remaining)} "
                    "run(s) were not graded: run the same command again")
                return
        for task in in_flight:
            alone, _ = _run_pool([task], 1, record)
            if alone:
                record(task, _killed_worker_reply(task))
                summary.killed_workers += 1


def _run_pool(tasks: list[Task], jobs: int, record: Callable[[Task, object], None]
              ) -> tuple[list[Task], list[Task]]:
    """Grade ``tasks`` on a fresh pool of ``jobs`` workers, passing each reply to ``record``.
    Returns ([], []) when every task was graded; when a worker died, the tasks that workers
    were grading then and those not started yet."""
    context = multiprocessing.get_context("spawn")
    started = context.SimpleQueue()  # (pid, task key) from each worker as a task starts
    pool = futures.ProcessPoolExecutor(max_workers=max(1, min(jobs, len(tasks))),
                                       mp_context=context, initializer=init_worker,
                                       initargs=(started,))
    pending: dict[futures.Future, Task] = {}
    try:
        pending = {pool.submit(grade_task, task): task for task in tasks}
        for future in futures.as_completed(pending):
            try:
                reply = json.loads(future.result())
            except futures.process.BrokenProcessPool:
                break
            except Exception as error:  # a fault of the grader, reported
                reply = {"grader_error": f"{type(error).__name__}: {error}"}
            record(pending.pop(future), reply)
    except BaseException:
        _stop_workers(pool)
        raise
    if not pending:
        pool.shutdown(wait=True)
        return [], []
    _stop_workers(pool)
    last: dict[int, tuple[str, str]] = {}
    while not started.empty():
        pid, key = started.get()
        last[pid] = tuple(key)
    running = set(last.values())
    unfinished = list(pending.values())
    return ([t for t in unfinished if t.key in running],
            [t for t in unfinished if t.key not in running])


def _killed_worker_reply(task: Task) -> dict[str, object]:
    """The worker reply recorded for a run whose grader worker died while grading it alone."""
    from grader.registry import load

    result = ungraded_result(load(task.exercise), KILLED_WORKER,
                             include_hidden=task.hidden is not None)
    result.fault = "crashed"
    return {"result": result.to_json(), "seconds": 0.0}


def _record(task: Task, reply: object, book: Gradebook, version: str,
            summary: BatchSummary) -> bool:
    """Record one worker reply; returns whether the run failed. A reply that cannot be
    decoded or recorded (whatever the reason) is the grader's failure for this student and
    exercise: reported in ``summary.grader_errors``, not recorded, graded again next time,
    and the batch goes on."""
    try:
        if type(reply) is not dict:
            raise TypeError("the worker's reply is not a JSON object")
        if "grader_error" in reply:
            summary.grader_errors.append(
                f"{task.student} {task.exercise}: {reply['grader_error']}")
            return True
        result = ExerciseResult.from_json(reply["result"])
        book.record(task.student, task.content_hash, version, result,
                    float(reply["seconds"]))
    except Exception as error:
        summary.grader_errors.append(
            f"{task.student} {task.exercise}: the result could not be recorded "
            f"({type(error).__name__}: {error})")
        return True
    summary.graded += 1
    failed = _is_failure(result)
    summary.failed += failed
    return failed


def _decode_datasets() -> None:
    """Decode MNIST into its cache once, before any run: inside the sandbox the data folder is
    read-only, and every training exercise would decode it again (about a second each)."""
    from dataset.mnist import DatasetError, ensure_cache

    try:
        ensure_cache()
    except DatasetError:
        pass  # the exercises that need MNIST say so in their own results


def _stop_workers(pool: futures.ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the workers now (their children die with them)."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        # terminate() and kill() tolerate a worker that is already gone: the pool's own
        # thread may reap a killed worker between is_alive() and the signal.
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + 10
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
