"""The class report as one self-contained HTML page: inline CSS, figures as ``data:`` PNGs.

This is the instructor's view (hidden checks included). Every piece of text that a student or a
submission could influence goes through ``html.escape`` after ``view.clip``; a Content Security
Policy forbids scripts and any resource but inline images, so the page stays inert even if one
slipped through.
"""

from __future__ import annotations

import base64
import time
from html import escape

from grader import __version__
from grader.classreport import plots
from grader.classreport.data import CheckRate, ClassData, Distribution
from grader.formats import view

TITLE = "Backprop Lab class report"
POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
#: Characters shown of a student id and of a message in a table cell.
NAME_CHARS, MESSAGE_CHARS = 120, 400

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.4; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.2rem; }
table { border-collapse: collapse; margin: 0.6rem 0 1.2rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f4f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.message { max-width: 40rem; overflow-wrap: anywhere; white-space: pre-line; }
td.rate { min-width: 9rem; }
.bar { display: inline-block; height: 0.7rem; background: #c44e52; margin-right: 0.4rem; }
.tag { font-size: 0.75rem; background: #eef; border-radius: 0.2rem; padding: 0 0.3rem; }
.meta, .note { color: #555; }
.note { border-left: 4px solid #d4a72c; padding-left: 0.6rem; }
.figures { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; border: 1px solid #ddd; padding: 0.4rem; }
figcaption { font-size: 0.85rem; max-width: 400px; }
"""


def _text(text: object, limit: int = MESSAGE_CHARS) -> str:
    """``text`` cleaned, clipped and escaped for HTML."""
    return escape(view.clip(str(text), limit))


def _number(x: float | None) -> str:
    return "–" if x is None else f"{x:.3g}"


def _table(headers: list[str], rows: list[list[str]], css: str) -> str:
    """A table; ``headers`` and ``rows`` are HTML already (cells escaped by the caller), a cell
    starting with ``<td`` is kept as it is."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _num(x: str) -> str:
    return f'<td class="num">{x}</td>'


def _header(data: ClassData) -> str:
    when = time.strftime("%Y-%m-%d %H:%M %Z")
    graded = ""
    if data.written_at or data.grader_version:
        graded = (f"; grades written {_text(data.written_at or '?')} by grader "
                  f"{_text(data.grader_version or '?')}")
    parts = [f"<h1>{TITLE}</h1>",
             f'<p class="meta">Written {escape(when)} from <code>{_text(data.out)}</code> by '
             f"grader {escape(__version__)}{graded}.</p>",
             f'<p class="meta"><strong>{len(data.students)}</strong> student(s), '
             f"<strong>{len(data.exercises)}</strong> exercise(s): "
             + ", ".join(_text(e) for e, _ in data.exercises) + ".</p>"]
    parts += [f'<p class="note">{_text(note)}</p>' for note in data.notes]
    parts.append('<p>Sections: <a href="#scores">scores</a> · <a href="#checks">checks</a> · '
                 '<a href="#mistakes">mistakes</a> · <a href="#failures">timeouts, crashes and '
                 "entries not graded</a>.</p>")
    return "\n".join(parts)


def _caption(d: Distribution) -> str:
    return (f"<strong>{_text(d.key)}</strong> {_text(d.title)}: {d.students} student(s), "
            f"mean {_number(d.mean)}, median {_number(d.median)}, full marks {d.full_marks}")


def _scores(data: ClassData) -> str:
    rows = [[_text(d.key), _text(d.title), _num(str(d.students)), _num(_number(d.mean)),
             _num(_number(d.median)), _num(str(d.full_marks)), _num(view.points(d.max_score))]
            for d in data.distributions]
    table = _table(["exercise", "title", "students", "mean", "median", "full marks",
                    "max points"], rows, "stats")
    figures = []
    total = data.distributions[-1]
    for d in (total, *data.distributions[:-1]):  # the total first, drawn wider
        png = base64.b64encode(plots.histogram(d, wide=d is total)).decode("ascii")
        figures.append(f'<figure><img src="data:image/png;base64,{png}" '
                       f'alt="histogram of the scores of {_text(d.key)}">'
                       f"<figcaption>{_caption(d)}</figcaption></figure>")
    return ('<section id="scores"><h2>Scores</h2>' + table
            + '<div class="figures">' + "".join(figures) + "</div></section>")


def _rate_row(rate: CheckRate) -> list[str]:
    name = _text(rate.name) + (' <span class="tag">hidden</span>' if rate.hidden else "")
    percent = round(100 * rate.rate)
    bar = f'<span class="bar" style="width: {percent * 0.06:.2f}rem"></span>'
    return [name, _num(str(rate.failed)), _num(str(rate.graded)),
            f'<td class="rate">{bar}{percent}%</td>']


def _checks(data: ClassData) -> str:
    parts = ['<section id="checks"><h2>Checks by failure rate</h2>',
             "<p>Per exercise, how many graded results failed each check, hidden checks "
             "included; most failed first.</p>"]
    for exercise, title in data.exercises:
        rates = data.check_rates.get(exercise, ())
        parts.append(f"<h3>{_text(exercise)} {_text(title)}</h3>")
        if not rates:
            parts.append("<p>No graded result.</p>")
            continue
        parts.append(_table(["check", "failed", "graded", "failure rate"],
                            [_rate_row(rate) for rate in rates], "rates"))
    return "\n".join(parts) + "</section>"


def _mistakes(data: ClassData) -> str:
    parts = ['<section id="mistakes"><h2>Diagnosed mistakes</h2>']
    if not data.mistakes:
        parts.append("<p>No known mistake was diagnosed.</p>")
    else:
        rows = [[_num(str(len(m.students))), _text(m.exercise), _text(m.diagnosis),
                 ", ".join(_text(c) for c in m.checks),
                 '<td class="message">' + ", ".join(_text(s, NAME_CHARS) for s in m.students)
                 + "</td>"]
                for m in data.mistakes]
        parts.append(_table(["students", "exercise", "mistake", "found by", "who"], rows,
                            "mistakes"))
    return "".join(parts) + "</section>"


def _failures(data: ClassData) -> str:
    parts = ['<section id="failures"><h2>Timeouts, crashes and entries not graded</h2>']
    if not data.failures:
        parts.append("<p>Every run finished and every entry was graded.</p>")
    else:
        rows = [[_text(f.student, NAME_CHARS), _text(f.exercise or "–"), _text(f.what),
                 f'<td class="message">{_text(f.message)}</td>'] for f in data.failures]
        parts.append(_table(["student", "exercise", "what", "message"], rows, "failures"))
    return "".join(parts) + "</section>"


def render(data: ClassData) -> str:
    """The page for ``data``."""
    body = "\n".join([_header(data), _scores(data), _checks(data), _mistakes(data),
                      _failures(data)])
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
            f"<title>{TITLE}</title><style>{_STYLE}</style></head>\n"
            f"<body>\n{body}\n</body></html>\n")
