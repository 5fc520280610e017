"""The class report of a batch: ``grade report OUT`` writes ``OUT/report.html``.

data (what the gradebook and grades.json say about the class), plots (the histograms), page (the
self-contained HTML). The report is the instructor's: hidden checks are shown in full.
"""

from __future__ import annotations

from pathlib import Path

from grader.classreport.data import ReportError, gather

REPORT = "report.html"

__all__ = ["REPORT", "ReportError", "write_report"]


def write_report(out: Path) -> Path:
    """Write ``out/report.html`` for the batch output folder ``out``; returns its path.

    Raises ReportError (one line) when ``out`` is not a batch's output folder.
    """
    from grader.batch.outputs import write_text
    from grader.classreport import page

    data = gather(out)
    path = out / REPORT
    try:
        write_text(path, page.render(data))
    except OSError as error:
        raise ReportError(f"cannot write {path}: {error.strerror or error}") from None
    return path
