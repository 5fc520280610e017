"""The result of ``check`` in a notebook: a rich HTML table in Jupyter, plain text elsewhere.

``render_html`` and ``render_text`` run in the grading subprocess (``grader.notebook.run``),
which sends both with the result; ``NotebookResult`` in the kernel only shows them, so nothing
patched in the kernel's memory changes what is shown. Importing this module imports only the
standard library (the kernel loads it); each message comes from ``view.check_messages``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

_STYLE = (
    "<style>.bpl-result td,.bpl-result th{text-align:left;vertical-align:top;"
    "padding:2px 8px}.bpl-result .passed{color:#1a7f37;font-weight:bold}"
    ".bpl-result .failed{color:#cf222e;font-weight:bold}.bpl-result pre{white-space:pre-wrap;"
    "margin:0;font-family:inherit}</style>"
)


@dataclass
class NotebookResult:
    """One graded exercise as ``check`` returns it.

    ``score``/``max_score`` are the points; ``checks`` the per-check ``CheckResult``s (or the
    JSON dicts they were sent as, when the grader's classes are not importable); ``notes``
    say where the code came from and what prerequisites fall short; ``result`` is the whole
    ``ExerciseResult.to_json()``. Shown through the HTML and text rendered by the grader.
    """

    exercise: str
    score: float
    max_score: float
    checks: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    result: dict = field(default_factory=dict)
    html: str = ""
    text: str = ""

    @property
    def full_marks(self) -> bool:
        """Whether every check passed."""
        return self.score >= self.max_score

    def _repr_html_(self) -> str:
        return self.html or f"<pre>{escape(self.text)}</pre>"

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def _points(x: float) -> str:
    return f"{x:g}"


def render_html(result: Any, notes: list[str]) -> str:
    """``result`` (an ExerciseResult, as a learner may see it) as an HTML table; every text
    escaped (learner output included)."""
    from grader.formats import view
    from grader.i18n import _

    def text(value: str) -> str:
        return escape(view.clip(value))

    parts = [_STYLE, '<div class="bpl-result">']
    total = _("Total for {exercise}: {score}/{max_score}").format(
        exercise=result.exercise, score=_points(result.score),
        max_score=_points(result.max_score))
    verdict = "passed" if result.full_marks else "failed"
    parts.append(f'<h4 class="{verdict}">{text(total)}</h4>')
    parts += [f"<p>{text(note)}</p>" for note in notes]
    if result.error:
        parts.append('<p class="failed">{}</p>'.format(
            text(_("Error: {error}").format(error=result.error))))
    parts.append("<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
                 "<tbody>".format(text(_("result")), text(_("points")), text(_("check")),
                                  text(_("message"))))
    for check, message in zip(result.checks, view.check_messages(result), strict=True):
        status = "passed" if check.status == "passed" else "failed"
        word = _("PASS") if status == "passed" else _("FAIL")
        points = f"{_points(check.score)}/{_points(check.max_score)}"
        parts.append(f'<tr><td class="{status}">{text(word)}</td><td>{points}</td>'
                     f"<td>{text(_(check.name))}</td><td><pre>{text(message)}</pre></td></tr>")
    parts.append("</tbody></table>")
    output = view.learner_output(result)
    if output is not None:
        parts.append(f"<p>{text(output.caption)}</p><pre>{text(output.text)}</pre>")
    parts.append("</div>")
    return "".join(parts)


def render_text(result: Any, notes: list[str]) -> str:
    """``result`` as plain text for a console: notes, one line per check, the total."""
    from grader.formats import view
    from grader.i18n import _

    lines = [view.clean(note) for note in notes]
    if result.error:
        lines.append(_("Error: {error}").format(error=view.clip(result.error)))
    for check, message in zip(result.checks, view.check_messages(result), strict=True):
        word = _("PASS") if check.status == "passed" else _("FAIL")
        points = f"{_points(check.score)}/{_points(check.max_score)}"
        lines.append(f"{word:<5} {points:>7}  {_(check.name)}")
        if check.status != "passed" and message:
            lines += ["              " + line for line in view.clip(message).splitlines()]
    output = view.learner_output(result)
    if output is not None:
        lines += [output.caption, output.text]
    lines.append(_("Total for {exercise}: {score}/{max_score}").format(
        exercise=result.exercise, score=_points(result.score),
        max_score=_points(result.max_score)))
    return "\n".join(lines)
