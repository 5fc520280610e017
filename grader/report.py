"""Showing results: a table for people (colour on a terminal, plain when piped) and JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import IO

from grader.formats import view
from grader.i18n import _
from grader.result import ExerciseResult
from grader.text import for_rich

OUTPUT_LINES_SHOWN = 20


def _points(x: float) -> str:
    return f"{x:g}"


def make_console(file: IO[str] | None = None):
    """A rich Console: colour on a terminal; plain and wide enough not to wrap when piped.
    No emoji codes: a learner's ``:skull:`` shows as typed."""
    from rich.console import Console

    file = file or sys.stdout
    terminal = file.isatty()
    return Console(file=file, highlight=False, soft_wrap=not terminal, emoji=False)


def render_text(result: ExerciseResult, console) -> None:
    """Print one exercise: what was graded, the learner's own output, the checks, the total.

    Every string that may hold learner text is shown as typed (grader.text.for_rich): no rich
    markup, control characters escaped, one line each. Outside the table such a line is never
    folded at a terminal's width either (it is cut with an ellipsis; the checks' rows carry
    the messages in full): folded, a long message would start a line of its own choosing at the
    left edge ("Total for ex01: 25/25")."""
    from rich import box
    from rich.table import Table

    escape = for_rich
    result = result.redacted()  # hidden checks: their name and points only

    def line(text: str) -> None:
        _line(console, text)

    graded = _("graded {file}").format(file=escape(result.graded_file))
    line(f"[bold]{result.exercise} {escape(view.exercise_title(result))}[/bold] "
         f"[dim]{graded}[/dim]")
    if result.other_file:
        other = _("({file} also exists and was not graded; --path chooses)").format(
            file=escape(result.other_file))
        line(f"[dim]{other}[/dim]")
    for note in result.notes:
        line(f"[yellow]{escape(note)}[/yellow]")
    if result.error:
        line(f"[red]{escape(result.error)}[/red]")
    if result.learner_output.strip():
        lines = result.learner_output.rstrip("\n").splitlines()
        caption = (_("Your code printed {count} line(s); the first {shown}:")
                   if len(lines) > OUTPUT_LINES_SHOWN else _("Your code printed {count} line(s):"))
        console.print(f"[dim]{caption.format(count=len(lines), shown=OUTPUT_LINES_SHOWN)}[/dim]")
        for shown in lines[:OUTPUT_LINES_SHOWN]:
            line(f"[dim]  | {escape(shown[:200])}[/dim]")
    rows = []
    label = f"{_(view.MISTAKE_LABEL)} "
    for check, said in zip(result.checks, view.check_messages(result), strict=True):
        if check.hidden:
            message = _("hidden check")
        elif view.mistake(check) and said.startswith(label):
            message = f"[yellow]{_(view.MISTAKE_LABEL)}[/yellow] {escape(said[len(label):])}"
        else:
            message = escape(said)
        mark = "[green]PASS[/green]" if check.passed else "[red]FAIL[/red]"
        points = f"{_points(check.score)}/{_points(check.max_score)}"
        rows.append((mark, points, escape(view.check_title(check)), message))
    if console.is_terminal:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for title, justify in (("", "left"), (_("points"), "right"), (_("check"), "left"),
                               (_("result"), "left")):
            table.add_column(title, justify=justify, no_wrap=justify == "right" or not title)
        for row in rows:
            table.add_row(*row)
        console.print(table)
    else:  # piped: one plain line per check, easy to grep and to read in a CI log
        for mark, points, name, message in rows:
            console.print(f"{mark} {points:>7}  {name}: {message}")
    colour = "green" if result.full_marks else "red"
    total = _("Total for {exercise}: {score}/{max_score}").format(
        exercise=result.exercise, score=_points(result.score), max_score=_points(result.max_score))
    console.print(f"[bold {colour}]{total}[/bold {colour}]")


def _line(console, text: str) -> None:
    """Print ``text`` as one line: on a terminal, cut with an ellipsis at its width rather than
    folded; piped, whole (the console does not wrap)."""
    if console.is_terminal:
        console.print(text, no_wrap=True, overflow="ellipsis", crop=True)
    else:
        console.print(text)


def render_summary(results: Sequence[ExerciseResult], console) -> None:
    """One line per exercise and the overall total (for ``grade all``)."""
    console.print()
    total = max_total = 0.0
    for result in results:
        total += result.score
        max_total += result.max_score
        colour = "green" if result.full_marks else "red"
        note = f" [dim]({for_rich(result.error)})[/dim]" if result.error else ""
        _line(console, f"[{colour}]{result.exercise}[/{colour}] "
                       f"{for_rich(view.exercise_title(result))}: "
                       f"{_points(result.score)}/{_points(result.max_score)}{note}")
    colour = "green" if total >= max_total else "red"
    line = _("Total: {score}/{max_score}").format(score=_points(total),
                                                  max_score=_points(max_total))
    console.print(f"[bold {colour}]{line}[/bold {colour}]")


def to_json(results: Sequence[ExerciseResult], single: bool) -> str:
    """One exercise's object, or for several ``{"score", "max_score", "exercises": [...]}``.

    Each test's ``output`` is worded as in the table (``view.check_messages``): a known mistake
    after "Likely mistake:", explained once; its ``diagnosis`` names it.
    """
    if single:
        return json.dumps(_exercise_json(results[0]), indent=2)
    return json.dumps(
        {
            "score": round(sum(r.score for r in results), 6),
            "max_score": round(sum(r.max_score for r in results), 6),
            "exercises": [_exercise_json(r) for r in results],
        },
        indent=2,
    )


def _exercise_json(result: ExerciseResult) -> dict:
    data = result.to_json()
    for test, message in zip(data["tests"], view.check_messages(result), strict=True):
        test["output"] = message
    return data
