"""What a batch writes, always from the gradebook: the class's grades and each student's feedback.

    OUT/grades.csv     one row per student: student, one column per exercise, total, max_total, note
    OUT/grades.json    the same, with titles, maxima and what went wrong per exercise

The note and the faults in these two files are those a learner may see (a fault met only in
hidden checks is left out), since grades are often passed on to students; the class report
takes the full story from the gradebook.
    OUT/feedback/<student>/feedback.md, feedback.html, results.json (Gradescope), junit.xml

Feedback is what a student may see: hidden checks show their name and points only. Every file
is written to a temporary name and renamed, so a run killed while writing leaves the previous
version whole.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import time
from pathlib import Path

import grader
from grader.batch.entries import Entry
from grader.batch.gradebook import Gradebook
from grader.batch.worker import missing_message
from grader.engine import prerequisite_note, ungraded_result
from grader.formats.gradescope import gradescope
from grader.formats.html import html
from grader.formats.junit import junit
from grader.formats.markdown import markdown
from grader.registry import load
from grader.result import ExerciseResult

NOT_GRADED = "not graded yet: run the batch again"
#: Characters that make a spreadsheet read a cell as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temporary file in the same folder, renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _with_prerequisite_notes(results: dict[str, ExerciseResult]) -> None:
    """Say, before an exercise's checks, which exercise it builds on falls short."""
    for exercise_id, result in results.items():
        notes = [
            note for required in load(exercise_id).requires
            if required in results and (note := prerequisite_note(exercise_id, results[required]))
        ]
        result.notes = [*notes, *(n for n in result.notes if n not in notes)]


def student_results(book: Gradebook, entries: list[Entry], exercises: list[str],
                    current: dict[str, tuple[str, str]] | None = None,
                    ) -> dict[str, dict[str, ExerciseResult]]:
    """Student -> exercise -> result, for every entry; an entry that could not be graded gets
    a failed result per exercise saying why.

    ``current`` maps each student to the (content hash, grader hash) of this run: a result
    recorded for other files or another grader (an interrupted run did not regrade it) shows as
    not graded yet, never as the current grade. None: every stored result counts.
    """
    graded: dict[str, dict[str, ExerciseResult]] = {}
    students = [e.student for e in entries if e.problem is None]
    for recorded in book.results(students, exercises):
        if current is not None and current.get(recorded.student) != (
                recorded.content_hash, recorded.grader_hash):
            continue
        graded.setdefault(recorded.student, {})[recorded.exercise] = recorded.result
    table = {}
    for entry in entries:
        if entry.problem:
            message = f"your submission could not be graded: {entry.problem}"
            table[entry.student] = {e: ungraded_result(load(e), message) for e in exercises}
            continue
        mine = graded.get(entry.student, {})
        results = {
            exercise: mine.get(exercise) or ungraded_result(load(exercise), NOT_GRADED)
            for exercise in exercises
        }
        _with_prerequisite_notes(results)
        table[entry.student] = results
    return table


def _note(entry: Entry, results: dict[str, ExerciseResult]) -> str:
    """What went wrong for one student, in a few words (empty when nothing did)."""
    if entry.problem:
        return entry.problem
    said = []
    for exercise, result in results.items():
        if result.fault == "timeout":
            said.append(f"{exercise} timed out")
        elif result.fault == "crashed":
            said.append(f"{exercise} crashed")
        elif result.error == missing_message(load(exercise).module):
            said.append(f"{exercise} missing")
        elif result.error == NOT_GRADED:
            said.append(f"{exercise} not graded yet")
        elif result.error:
            said.append(f"{exercise} could not be imported")
    return "; ".join(said)


def write_outputs(out: Path, book: Gradebook, entries: list[Entry], exercises: list[str],
                  current: dict[str, tuple[str, str]] | None = None,
                  errors: list[str] | None = None) -> list[Path]:
    """Write grades.csv, grades.json and every student's feedback folder (only results valid
    for ``current``, as in :func:`student_results`); returns the paths of the class-wide files
    and of the feedback folder.

    A student whose feedback cannot be written costs only that student's feedback: the reason
    is added to ``errors`` (raised when ``errors`` is None) and the others are written.
    """
    table = student_results(book, entries, exercises, current)
    rows = []
    for entry in entries:
        results = table[entry.student]
        scores = {e: results[e].score for e in exercises}
        max_total = sum(results[e].max_score for e in exercises)
        rows.append({
            "student": entry.student,
            "scores": scores,
            "total": round(sum(scores.values()), 6),
            "max_total": round(max_total, 6),
            # What went wrong as a learner may see it: a fault met only in hidden checks
            # ("ex03 timed out") would tell a student what their code did with hidden inputs
            # (the class report reads it from the gradebook instead).
            "note": _note(entry, {e: r.redacted() for e, r in results.items()}),
            "problem": entry.problem,
            "results": results,
        })
    written = [out / "grades.csv", out / "grades.json", out / "feedback"]
    write_text(written[0], _csv(rows, exercises))
    write_text(written[1], _json(rows, exercises, _isolation(book)))
    for row in rows:
        try:
            _write_feedback(out / "feedback" / row["student"], row)
        except (OSError, ValueError) as error:
            if errors is None:
                raise
            errors.append(f"{row['student']}: cannot write the feedback ({error})")
    return written


def _csv(rows: list[dict], exercises: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # csv quotes a cell holding a character of the line terminator only: a row with a "\r" in
    # a cell (a student id can hold one) ends in "\r\n", so that its cells are quoted too.
    carriage = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["student", *exercises, "total", "max_total", "note"])
    for row in rows:
        cells = [_cell(row["student"]), *(f"{row['scores'][e]:g}" for e in exercises),
                 f"{row['total']:g}", f"{row['max_total']:g}", _cell(row["note"])]
        (carriage if any("\r" in cell for cell in cells) else writer).writerow(cells)
    return buffer.getvalue()


def _isolation(book: Gradebook) -> dict[str, str] | None:
    """The isolation of the last run, from the gradebook's runs table: ``used`` (the line the
    summary printed) and ``not_protected`` (what a weaker mode leaves open; "" for bubblewrap)."""
    used = book.last_isolation()
    if used is None:
        return None
    _, marker, rest = used.partition("NOT protected: ")
    return {"used": used, "not_protected": rest if marker else ""}


def _json(rows: list[dict], exercises: list[str], isolation: dict[str, str] | None = None) -> str:
    data = {
        "grader_version": grader.__version__,
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "isolation": isolation,
        "exercises": [{"id": e, "title": load(e).title, "max_score": load(e).max_score}
                      for e in exercises],
        "students": [],
    }
    for row in rows:
        results = row["results"]
        data["students"].append({
            "student": row["student"],
            "total": row["total"],
            "max_total": row["max_total"],
            "problem": row["problem"],
            "exercises": {
                e: {"score": r.score, "max_score": r.max_score, "fault": shown.fault,
                    "error": shown.error}
                for e, r in results.items() for shown in [r.redacted()]
            },
        })
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _write_feedback(folder: Path, row: dict) -> None:
    """The four feedback files of one student; hidden checks show their name and points only."""
    student = row["student"]
    results = [r.redacted() for r in row["results"].values()]
    write_text(folder / "feedback.md", markdown(results, student))
    write_text(folder / "feedback.html", html(results, student))
    write_text(folder / "results.json",
               json.dumps(gradescope(results), indent=2, ensure_ascii=False) + "\n")
    write_text(folder / "junit.xml", junit(results, student))
