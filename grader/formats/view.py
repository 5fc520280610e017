"""What every report format shows of results: learner-safe text, clipping, totals, wording.

The renderers in this package and the text table (``grader.report``) share these rules so that
they say the same thing: hidden checks redacted, control characters gone, long learner text
clipped, each check's message worded alike (``check_messages``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from os.path import commonprefix

from grader.i18n import N_, _
from grader.result import CheckResult, ExerciseResult

#: Lines of the learner's printed output shown, and characters per line.
OUTPUT_LINES = 20
OUTPUT_LINE_CHARS = 200
#: Characters of one check's message shown (a learner's exception message can be huge).
MESSAGE_CHARS = 1000
#: What starts the message of a check that names a known mistake, in every report.
MISTAKE_LABEL = N_("Likely mistake:")
#: What a later check naming the same mistake says instead of its explanation.
SAME_MISTAKE = N_("same mistake as above: {name}")
#: Characters two messages must share, in whole sentences, to count as one explanation.
SHARED_CHARS = 30

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
    if student:
        return _("Feedback for {student}").format(student=clean(student))
    return _("Backprop Lab grading report")


def points(x: float) -> str:
    """``3.0`` -> ``"3"``, ``0.5`` -> ``"0.5"``."""
    return f"{x:g}"


def status(result: ExerciseResult) -> str:
    """``"passed"`` at full marks, else ``"failed"``."""
    return "passed" if result.full_marks else "failed"  # a CSS class and a JUnit word


def headline(results: Sequence[ExerciseResult]) -> str:
    """One line: the total points, passed or failed, and how many exercises have full marks."""
    total = totals(results)
    text = (_("{score}/{max_score} points, passed: {full} of {count} exercise(s) with full "
              "marks") if total.passed else
            _("{score}/{max_score} points, failed: {full} of {count} exercise(s) with full "
              "marks"))
    return text.format(score=points(total.score), max_score=points(total.max_score),
                       full=total.full_marks, count=total.exercises)


def failed_checks(result: ExerciseResult) -> list[CheckResult]:
    """The checks that did not pass, in order."""
    return [check for check in result.checks if not check.passed]


def failed_messages(result: ExerciseResult) -> list[tuple[CheckResult, str]]:
    """The checks that did not pass, in order, each with its message (``check_messages``)."""
    return [(check, message)
            for check, message in zip(result.checks, check_messages(result), strict=True)
            if not check.passed]


def needs_details(result: ExerciseResult) -> bool:
    """Whether an exercise gets its own section: a failure, an error or a note to show."""
    return bool(failed_checks(result) or result.error or result.notes)


def mistake(check: CheckResult) -> str | None:
    """The known mistake a failed check matches, worth naming (not "not implemented")."""
    if check.passed or not check.diagnosis or check.diagnosis == "not implemented":
        return None
    return check.diagnosis


def check_messages(result: ExerciseResult) -> list[str]:
    """What each of ``result``'s checks says, in order, as every report shows it.

    A failed check that names a known mistake starts with ``MISTAKE_LABEL`` (its output starts
    with the mistake's explanation). When later visible checks name the same mistake with the
    same explanation, only the first shows it: the others say ``same mistake as above: <name>``
    and what is their own (which input, how far off).
    """
    explained: dict[str, str] = {}  # mistake -> output of the first visible check naming it
    messages = []
    for check in result.checks:
        name = mistake(check)
        if name is None:
            messages.append(check.output)
            continue
        first = explained.get(name)
        rest = None if first is None or check.hidden else _unshared(first, check.output)
        if rest is None:
            messages.append(f"{_(MISTAKE_LABEL)} {check.output}")
            if not check.hidden:
                explained.setdefault(name, check.output)
        else:
            messages.append(_(SAME_MISTAKE).format(name=_(name)) + (f". {rest}" if rest else ""))
    return messages


def _unshared(first: str, later: str) -> str | None:
    """The part of ``later`` that ``first`` does not say, when the two share whole sentences
    (at least ``SHARED_CHARS`` characters) at their start or at their end: ``""`` when they are
    the same; None when they share no explanation."""
    if later == first:
        return ""
    a, b = first + ". ", later + ". "  # a sentence ends where either message does
    common = len(commonprefix([a, b]))
    end = b.rfind(". ", 0, common)
    if end + 1 >= SHARED_CHARS:
        return later[end + 2:]
    a, b = ". " + first, ". " + later
    common = len(commonprefix([a[::-1], b[::-1]]))
    starts = [i for i in (b.find(". ", len(b) - common), b.find(": ", len(b) - common)) if i >= 0]
    if starts and len(b) - min(starts) - 2 >= SHARED_CHARS:
        return b[2:min(starts)]
    return None


def clean(text: str) -> str:
    """``text`` without terminal colour codes and characters XML 1.0 forbids; ``\\n`` newlines."""
    text = _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return _FORBIDDEN.sub("", text)


def clip(text: str, limit: int = MESSAGE_CHARS) -> str:
    """``text`` cleaned and cut to ``limit`` characters, saying how much was left out."""
    text = clean(text)
    if len(text) <= limit:
        return text
    return _("{text}... ({count} more characters)").format(text=text[:limit],
                                                           count=len(text) - limit)


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
    caption = (_("Your code printed {count} line(s); the first {shown}:")
               if len(lines) > OUTPUT_LINES else _("Your code printed {count} line(s):"))
    caption = caption.format(count=len(lines), shown=OUTPUT_LINES)
    return Output("\n".join(shown), caption)


def check_title(check: CheckResult) -> str:
    """A check's name as shown: translated (the stored name is the gradebook's English key)."""
    return _(check.name)


def exercise_title(result: ExerciseResult) -> str:
    """An exercise's title as shown, translated."""
    return _(result.title)


def columns() -> tuple[str, str, str, str, str]:
    """The headings of the exercises' table: exercise, title, score, max, status."""
    return _("exercise"), _("title"), _("score"), _("max"), _("status")


def status_word(result: ExerciseResult) -> str:
    """``status`` as shown to a reader."""
    return _("passed") if result.full_marks else _("failed")
