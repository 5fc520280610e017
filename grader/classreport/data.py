"""What the class report shows, gathered from a batch's OUT folder.

``grades.json`` says which students and exercises belong to the last run and what each scored
(the grades of record, as in ``grades.csv``); the gradebook adds every check's result. Without
``grades.json`` (a run killed before writing it) the gradebook alone is used. Nothing here is
escaped or clipped: that is the page's job.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from grader.batch.gradebook import GRADEBOOK, Gradebook, GradebookError, Recorded
from grader.formats import view
from grader.registry import EXERCISE_MODULES
from grader.result import ExerciseResult, fault_of

GRADES = "grades.json"


class ReportError(Exception):
    """The OUT folder cannot be reported on (one line)."""


@dataclass(frozen=True)
class Distribution:
    """One exercise's scores (or the totals) across the class.

    ``max_score`` is the largest maximum among the students (hidden checks raise it);
    ``full_marks`` counts the students at their own maximum.
    """

    key: str
    title: str
    scores: tuple[float, ...]
    max_score: float
    full_marks: int

    @property
    def students(self) -> int:
        return len(self.scores)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.scores) if self.scores else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.scores) if self.scores else None


@dataclass(frozen=True)
class CheckRate:
    """How many graded results of an exercise failed one check."""

    name: str
    hidden: bool
    failed: int
    graded: int

    @property
    def rate(self) -> float:
        return self.failed / self.graded if self.graded else 0.0


@dataclass(frozen=True)
class Mistake:
    """A diagnosed mistake of one exercise, the checks that found it and who made it."""

    exercise: str
    diagnosis: str
    checks: tuple[str, ...]
    students: tuple[str, ...]


@dataclass(frozen=True)
class Failure:
    """A run that timed out or crashed (``exercise`` set) or an entry that could not be graded
    (``exercise`` None, ``what`` "not graded")."""

    student: str
    exercise: str | None
    what: str
    message: str


@dataclass(frozen=True)
class ClassData:
    """Everything the report shows, in display order."""

    out: Path
    grader_version: str | None  # of the run that wrote grades.json
    written_at: str | None
    students: tuple[str, ...]
    exercises: tuple[tuple[str, str], ...]  # (id, title)
    distributions: tuple[Distribution, ...]  # one per exercise, then the total
    check_rates: dict[str, tuple[CheckRate, ...]]  # exercise -> most failed first
    mistakes: tuple[Mistake, ...]  # most students first
    failures: tuple[Failure, ...]
    notes: tuple[str, ...] = field(default=())


@dataclass
class _Row:
    """One student's grades: exercise -> (score, max, fault)."""

    student: str
    problem: str | None = None
    scores: dict[str, tuple[float, float, str | None]] = field(default_factory=dict)


def gather(out: Path) -> ClassData:
    """Read ``out`` (a ``grade batch`` output folder); raises ReportError when it holds no
    gradebook or holds files no batch wrote."""
    if not out.is_dir():
        raise ReportError(f"{out} is not a folder" if out.exists() else f"no such folder: {out}")
    book_path = out / GRADEBOOK
    if not book_path.is_file():
        raise ReportError(f"{out} holds no {GRADEBOOK}: grade the class first with "
                          f"`grade batch SUBMISSIONS --out {out}`")
    grades = _read_grades(out / GRADES)
    try:
        with Gradebook(book_path, read_only=True) as book:
            if grades is None:
                records = book.results()
                problems = book.problems()
            else:
                students = [s["student"] for s in grades["students"]]
                records = book.results(students, [e["id"] for e in grades["exercises"]])
                problems = {}
    except GradebookError as error:
        raise ReportError(str(error)) from None
    if grades is None:
        return _from_gradebook(out, records, problems)
    try:
        return _from_grades(out, grades, records)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ReportError(f"{out / GRADES} is not a batch's grades file "
                          f"({type(error).__name__}: {error})") from None


def _read_grades(path: Path) -> dict | None:
    """The parsed grades.json, or None when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise ReportError(f"cannot read {path}: {error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReportError(f"{path} is not valid JSON: {error}") from None
    if not (isinstance(data, dict) and isinstance(data.get("students"), list)
            and isinstance(data.get("exercises"), list)
            and all(isinstance(s, dict) and isinstance(s.get("student"), str)
                    for s in data["students"])
            and all(isinstance(e, dict) and isinstance(e.get("id"), str)
                    for e in data["exercises"])):
        raise ReportError(f"{path} is not a batch's grades file (no students or exercises)")
    return data


def _from_grades(out: Path, grades: dict, records: list[Recorded]) -> ClassData:
    exercises = tuple((str(e["id"]), str(e.get("title", ""))) for e in grades["exercises"])
    # grades.json gives the faults a learner may see; the gradebook's result of the same grade
    # also says when only a hidden check timed out or crashed.
    recorded = {(r.student, r.exercise): r.result for r in records}
    rows = []
    for entry in grades["students"]:
        row = _Row(entry["student"], entry.get("problem"))
        for exercise, _ in exercises:
            cell = entry["exercises"][exercise]
            score, maximum = float(cell["score"]), float(cell["max_score"])
            fault = cell.get("fault")
            result = recorded.get((entry["student"], exercise))
            if (fault is None and result is not None and cell.get("error") is None
                    and (result.score, result.max_score) == (score, maximum)):
                fault = result.fault
            row.scores[exercise] = (score, maximum, fault)
        rows.append(row)
    problem_students = {row.student for row in rows if row.problem}
    graded = [r for r in records if r.student not in problem_students]
    return _assemble(out, rows, exercises, graded, grades.get("grader_version"),
                     grades.get("written_at"), _isolation_notes(grades))


def _isolation_notes(grades: dict) -> tuple[str, ...]:
    """The isolation the batch used, and what it did not protect (a weaker mode, named)."""
    isolation = grades.get("isolation")
    if not isinstance(isolation, dict) or not isinstance(isolation.get("used"), str):
        return ()
    notes = [f"Isolation: {isolation['used']}"]
    if isinstance(isolation.get("not_protected"), str) and isolation["not_protected"]:
        notes.append(f"These grades were made with weaker isolation: {isolation['not_protected']}")
    return tuple(notes)


def _from_gradebook(out: Path, records: list[Recorded], problems: dict[str, str]) -> ClassData:
    order = {exercise: i for i, exercise in enumerate(EXERCISE_MODULES)}
    titles = {r.exercise: r.result.title for r in records}
    exercises = tuple(sorted(titles.items(), key=lambda item: (order.get(item[0], 99), item[0])))
    by_student: dict[str, _Row] = {}
    for record in records:
        if record.student in problems:
            continue
        row = by_student.setdefault(record.student, _Row(record.student))
        result = record.result
        row.scores[record.exercise] = (result.score, result.max_score, result.fault)
    for student, problem in problems.items():
        by_student[student] = _Row(student, problem)
    rows = sorted(by_student.values(), key=lambda row: row.student)
    graded = [r for r in records if r.student not in problems]
    note = (f"{GRADES} is missing (the batch did not finish?): this report shows every result "
            "in the gradebook; students whose entry could not be graded count in no score.")
    return _assemble(out, rows, exercises, graded, None, None, (note,))


def _assemble(out: Path, rows: list[_Row], exercises: tuple[tuple[str, str], ...],
              records: list[Recorded], version: str | None, written_at: str | None,
              notes: tuple[str, ...]) -> ClassData:
    results = {(r.student, r.exercise): r.result for r in records}
    return ClassData(
        out=out,
        grader_version=version,
        written_at=written_at,
        students=tuple(row.student for row in rows),
        exercises=exercises,
        distributions=_distributions(rows, exercises),
        check_rates=_check_rates(records, exercises),
        mistakes=_mistakes(records),
        failures=_failures(rows, exercises, results),
        notes=notes,
    )


def _distribution(key: str, title: str, pairs: list[tuple[float, float]]) -> Distribution:
    """``pairs`` are (score, max) of each student."""
    return Distribution(
        key=key,
        title=title,
        scores=tuple(score for score, _ in pairs),
        max_score=max((maximum for _, maximum in pairs), default=0.0),
        full_marks=sum(1 for score, maximum in pairs if maximum > 0 and score >= maximum),
    )


def _distributions(rows: list[_Row],
                   exercises: tuple[tuple[str, str], ...]) -> tuple[Distribution, ...]:
    shown = []
    for exercise, title in exercises:
        pairs = [row.scores[exercise][:2] for row in rows if exercise in row.scores]
        shown.append(_distribution(exercise, title, pairs))
    totals = [(round(sum(s for s, _, _ in row.scores.values()), 6),
               round(sum(m for _, m, _ in row.scores.values()), 6))
              for row in rows if row.scores]
    shown.append(_distribution("total", "all exercises", totals))
    return tuple(shown)


def _check_rates(records: list[Recorded], exercises: tuple[tuple[str, str], ...]
                 ) -> dict[str, tuple[CheckRate, ...]]:
    """Per exercise, every check's failures among the results that ran it, most failed first
    (then in the exercise's order)."""
    counts: dict[str, dict[str, list]] = {exercise: {} for exercise, _ in exercises}
    for record in records:
        table = counts.setdefault(record.exercise, {})
        for check in record.result.checks:
            tally = table.setdefault(check.name, [check.hidden, 0, 0])
            tally[1] += not check.passed
            tally[2] += 1
    return {
        exercise: tuple(sorted((CheckRate(name, hidden, failed, graded)
                                for name, (hidden, failed, graded) in table.items()),
                               key=lambda rate: -rate.rate))
        for exercise, table in counts.items()
    }


def _mistakes(records: list[Recorded]) -> tuple[Mistake, ...]:
    """Every diagnosed mistake (not "not implemented"), the most widespread first."""
    found: dict[tuple[str, str], tuple[dict[str, None], set[str]]] = defaultdict(
        lambda: ({}, set()))
    for record in records:
        for check in record.result.checks:
            diagnosis = view.mistake(check)
            if diagnosis:
                checks, students = found[(record.exercise, diagnosis)]
                checks[check.name] = None
                students.add(record.student)
    mistakes = [Mistake(exercise, diagnosis, tuple(checks), tuple(sorted(students)))
                for (exercise, diagnosis), (checks, students) in found.items()]
    return tuple(sorted(mistakes, key=lambda m: (-len(m.students), m.exercise, m.diagnosis)))


def _fault_message(result: ExerciseResult | None, fault: str) -> str:
    """What the grader said about a run that timed out or crashed."""
    if result is None:
        return ""
    failed = view.failed_checks(result)
    for check in failed:
        if fault_of([check.kind]) == fault:
            return f"{check.name}: {check.output}"
    if result.error:
        return result.error
    return f"{failed[0].name}: {failed[0].output}" if failed else ""


def _failures(rows: list[_Row], exercises: tuple[tuple[str, str], ...],
              results: dict[tuple[str, str], ExerciseResult]) -> tuple[Failure, ...]:
    failures = []
    for row in rows:
        if row.problem:
            failures.append(Failure(row.student, None, "not graded", row.problem))
            continue
        for exercise, _ in exercises:
            fault = row.scores.get(exercise, (0, 0, None))[2]
            if fault:
                message = _fault_message(results.get((row.student, exercise)), fault)
                failures.append(Failure(row.student, exercise, fault, message))
    return tuple(failures)
