"""What every report format shows of results: learner-safe text, clipping, totals, wording.

The renderers in this package share these rules so that Markdown, HTML and JUnit XML say the
same thing: hidden checks redacted, control characters gone, long learner text clipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from grader.result import CheckResult, ExerciseResult

#: Lines of the learner's printed output shown, and characters per line.
OUTPUT_LINES = 20
OUTPUT_LINE_CHARS = 200
#: Characters of one check's message shown (a learner's exception message can be huge).
MESSAGE_CHARS = 1000

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
# What XML 1.0 forbids (C0 controls but tab and newline, surrogates, U+FFFE/F) and C1 controls.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Totals:
    """Points and exercise counts over a set of results."""

    score: float
    max_score: float
    exercises: int
    full_marks: int

    @property
    def passed(self) -> bool:
        return self.exercises > 0 and self.full_marks == self.exercises


def learner_view(results: Sequence[ExerciseResult]) -> list[ExerciseResult]:
    """The results as a learner may see them: hidden checks reduced to name and points."""
    return [result.redacted() for result in results]


def totals(results: Sequence[ExerciseResult]) -> Totals:
    """The summed points and how many exercises have full marks."""
    return Totals(
        score=round(sum(r.score for r in results), 6),
        max_score=round(sum(r.max_score for r in results), 6),
        exercises=len(results),
        full_marks=sum(r.full_marks for r in results),
    )


def title(student: str | None) -> str:
    """The report's title: ``"Feedback for alice"``, or a generic one without a student."""
    return f"Feedback for {clean(student)}" if student else "Backprop Lab grading report"


def points(x: float) -> str:
    """``3.0`` -> ``"3"``, ``0.5`` -> ``"0.5"``."""
    return f"{x:g}"


def status(result: ExerciseResult) -> str:
    """``"passed"`` at full marks, else ``"failed"``."""
    return "passed" if result.full_marks else "failed"


def headline(results: Sequence[ExerciseResult]) -> str:
    """One line: the total points, passed or failed, and how many exercises have full marks."""
    total = totals(results)
    verdict = "passed" if total.passed else "failed"
    return (f"{points(total.score)}/{points(total.max_score)} points, {verdict}: "
            f"{total.full_marks} of {total.exercises} exercise(s) with full marks")


def failed_checks(result: ExerciseResult) -> list[CheckResult]:
    """The checks that did not pass, in order."""
    return [check for check in result.checks if not check.passed]


def needs_details(result: ExerciseResult) -> bool:
    """Whether an exercise gets its own section: a failure, an error or a note to show."""
    return bool(failed_checks(result) or result.error or result.notes)


def mistake(check: CheckResult) -> str | None:
    """The known mistake a failed check matches, worth naming (not "not implemented")."""
    if check.passed or not check.diagnosis or check.diagnosis == "not implemented":
        return None
    return check.diagnosis


def clean(text: str) -> str:
    """``text`` without terminal colour codes and characters XML 1.0 forbids; ``\\n`` newlines."""
    text = _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return _FORBIDDEN.sub("", text)


def clip(text: str, limit: int = MESSAGE_CHARS) -> str:
    """``text`` cleaned and cut to ``limit`` characters, saying how much was left out."""
    text = clean(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


@dataclass(frozen=True)
class Output:
    """The start of what the learner's code printed, and a line saying how much that is."""

    text: str
    caption: str


def learner_output(result: ExerciseResult) -> Output | None:
    """The first lines the learner's code printed (each clipped), or None when it printed none."""
    if not result.learner_output.strip():
        return None
    lines = clean(result.learner_output).rstrip("\n").splitlines()
    shown = [line if len(line) <= OUTPUT_LINE_CHARS else line[:OUTPUT_LINE_CHARS] + "..."
             for line in lines[:OUTPUT_LINES]]
    caption = f"Your code printed {len(lines)} line(s)"
    caption += f"; the first {OUTPUT_LINES}:" if len(lines) > OUTPUT_LINES else ":"
    return Output("\n".join(shown), caption)
