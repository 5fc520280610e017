"""Gradescope's ``results.json`` for results: one test per check, named after its exercise.

Each test's output is worded as in the text table (``view.check_messages``: "Likely mistake:",
each explanation once); an error that stopped the grading (the file does not import) is in the
top-level ``output``, once, and each test only refers to it.
Hidden checks keep ``visibility: "after_published"``, so Gradescope shows their output to
students only once grades are published. This renderer does not redact them itself: what goes
to students (a batch's feedback) is redacted first, hidden checks then carrying their name and
points only, no wall time. Fields Gradescope does not know (``diagnosis``, ``kind``,
``seconds``) travel in each test's ``extra_data``; the total wall time is ``execution_time``.
"""

from __future__ import annotations

from collections.abc import Sequence

from grader.formats import view
from grader.result import CheckResult, ExerciseResult

_EXTRA = ("diagnosis", "kind", "seconds")


def _test(exercise: str, check: CheckResult, message: str) -> dict:
    test = check.to_json()
    test["name"] = f"{exercise}: {view.check_title(check)}"
    test["output"] = view.clean(message)
    extra = {key: test.pop(key) for key in _EXTRA if key in test}
    if extra:
        test["extra_data"] = extra
    return test


def _output(results: Sequence[ExerciseResult]) -> str:
    """The top-level text: per exercise, its notes, its error and what the learner's code printed.

    Nothing from a hidden check appears here.
    """
    blocks = []
    for result in results:
        lines = [view.clean(note) for note in result.notes]
        if result.error:
            lines.append(f"Error: {view.clean(result.error)}")
        output = view.learner_output(result)
        if output:
            lines += [output.caption, output.text]
        if lines:
            blocks.append("\n".join([f"{result.exercise} {result.title}", *lines]))
    return "\n\n".join(blocks)


def gradescope(results: Sequence[ExerciseResult]) -> dict:
    """``{"score", "max_score", "tests": [...]}``, plus ``"output"`` when there is more to say."""
    total = view.totals(results)
    data: dict = {
        "score": total.score,
        "max_score": total.max_score,
        "tests": [_test(r.exercise, check, message) for r in results
                  for check, message in zip(r.checks, view.check_messages(r), strict=True)],
    }
    measured = [r.seconds for r in results if r.seconds is not None]
    if measured:
        data["execution_time"] = round(sum(measured), 3)
    output = _output(results)
    if output:
        data["output"] = output
    return data
