"""A self-contained HTML page of results: inline CSS, no scripts, no external resources.

Every piece of text goes through ``html.escape``, so a learner's ``<script>`` shows as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from grader.formats import view
from grader.i18n import _, current
from grader.result import ExerciseResult

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }
td.num { text-align: right; }
.passed { color: #1a7f37; } .failed { color: #cf222e; }
.note { border-left: 4px solid #d4a72c; padding-left: 0.6rem; }
.error { color: #cf222e; font-weight: bold; }
pre { background: #f6f8fa; padding: 0.6rem; overflow-x: auto; white-space: pre-wrap; }
li, .note, .error { margin: 0.3rem 0; white-space: pre-line; }
"""


def _text(text: str, limit: int = view.MESSAGE_CHARS) -> str:
    return escape(view.clip(text, limit))


def _exercise_section(result: ExerciseResult) -> list[str]:
    parts = [f"<section><h2>{_text(result.exercise)} {_text(view.exercise_title(result))}: "
             f"{view.points(result.score)}/{view.points(result.max_score)}</h2>"]
    if result.graded_file:
        graded = _("Graded {file}.").format(file=f"<code>{_text(result.graded_file)}</code>")
        parts.append(f"<p>{graded}</p>")
    parts += [f'<p class="note">{_text(note)}</p>' for note in result.notes]
    if result.error:
        parts.append(f'<p class="error">{escape(_("Error:"))} {_text(result.error)}</p>')
    failed = view.failed_messages(result)
    if failed:
        parts.append(f"<p>{escape(_('Failed checks:'))}</p><ul>")
        for check, message in failed:
            parts.append(f"<li><strong>{_text(view.check_title(check))}</strong> "
                         f"({view.points(check.score)}/{view.points(check.max_score)}): "
                         f"{_text(message)}</li>")
        parts.append("</ul>")
    output = view.learner_output(result)
    if output:
        parts.append(f"<p>{escape(output.caption)}</p><pre>{escape(output.text)}</pre>")
    return [*parts, "</section>"]


def html(results: Sequence[ExerciseResult], student: str | None = None) -> str:
    """The page: a headline, a table of exercises, then what went wrong in each that failed."""
    results = view.learner_view(results)
    title = escape(view.title(student))
    verdict = "passed" if view.totals(results).passed else "failed"
    parts = ["<!DOCTYPE html>", f'<html lang="{current()}">', "<head>",
             '<meta charset="utf-8">',
             f"<title>{title}</title>", f"<style>{_STYLE}</style>", "</head>", "<body>",
             f"<h1>{title}</h1>",
             f'<p class="{verdict}"><strong>{escape(view.headline(results))}</strong></p>',
             "<table><thead><tr>" + "".join(f"<th>{escape(c)}</th>" for c in view.columns())
             + "</tr></thead><tbody>"]
    for result in results:
        state = view.status(result)
        parts.append(f"<tr><td>{_text(result.exercise)}</td>"
                     f"<td>{_text(view.exercise_title(result))}</td>"
                     f'<td class="num">{view.points(result.score)}</td>'
                     f'<td class="num">{view.points(result.max_score)}</td>'
                     f'<td class="{state}">{escape(view.status_word(result))}</td></tr>')
    parts.append("</tbody></table>")
    for result in results:
        if view.needs_details(result):
            parts += _exercise_section(result)
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"
