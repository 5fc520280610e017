"""A Markdown summary of results, for ``$GITHUB_STEP_SUMMARY`` and a ``feedback.md``.

Learner-controlled text (check messages, printed output, names) is escaped so that it shows as
written and cannot end a table, open a code span, inject HTML or start math.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from grader.formats import view
from grader.i18n import _
from grader.result import CheckResult, ExerciseResult

# Characters that start Markdown (GitHub flavour) syntax anywhere in a line; "_" only at a word
# edge, since an underscore inside a word ("sigmoid_grad") never emphasises.
_SPECIAL = re.compile(r"[\\`*\[\]<>|~$&#]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")


def inline(text: str, limit: int = view.MESSAGE_CHARS) -> str:
    """``text`` clipped and escaped for a table cell or a list item; newlines become ``<br>``."""
    escaped = _SPECIAL.sub(lambda m: "\\" + m.group(), view.clip(text, limit))
    return "<br>".join(escaped.split("\n"))


def fenced(text: str) -> str:
    """``text`` in a fenced code block whose fence no line of ``text`` can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _failed_check(check: CheckResult, message: str) -> str:
    return (f"- **{inline(view.check_title(check))}** ({view.points(check.score)}/"
            f"{view.points(check.max_score)}): {inline(message)}")


def _exercise_section(result: ExerciseResult) -> str:
    """The exercise's heading, then its notes, error, failed checks and printed output."""
    blocks = [f"## {inline(result.exercise)} {inline(view.exercise_title(result))}: "
              f"{view.points(result.score)}/{view.points(result.max_score)}"]
    if result.graded_file:
        blocks.append(_("Graded {file}.").format(file=inline(result.graded_file)))
    blocks += [f"> {inline(note)}" for note in result.notes]
    if result.error:
        blocks.append(f"**{_('Error:')}** {inline(result.error)}")
    failed = view.failed_messages(result)
    if failed:
        blocks += [_("Failed checks:"), "\n".join(_failed_check(*pair) for pair in failed)]
    output = view.learner_output(result)
    if output:
        blocks += [inline(output.caption), fenced(output.text)]
    return "\n\n".join(blocks)


def markdown(results: Sequence[ExerciseResult], student: str | None = None) -> str:
    """The summary: a headline, a table of exercises, then what went wrong in each that failed."""
    results = view.learner_view(results)
    lines = [f"# {inline(view.title(student))}", "", f"**{inline(view.headline(results))}**", "",
             "| " + " | ".join(view.columns()) + " |", "| --- | --- | ---: | ---: | --- |"]
    for result in results:
        lines.append(f"| {inline(result.exercise)} | {inline(view.exercise_title(result))} | "
                     f"{view.points(result.score)} | {view.points(result.max_score)} | "
                     f"{view.status_word(result)} |")
    sections = [_exercise_section(r) for r in results if view.needs_details(r)]
    return "\n\n".join(["\n".join(lines), *sections]) + "\n"
