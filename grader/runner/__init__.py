"""Run untrusted learner code in an isolated child process and call into it from the grader.

Import names from here lazily (``from grader.runner import Session``): this package is also imported
by the child process, which must stay light, so nothing heavy is imported at package import time.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.runner.limits import Limits
    from grader.runner.session import Handle, LearnerError, Reply, Session
    from grader.runner.submission import (
        CellLine,
        NotebookSyntaxError,
        Submission,
        SubmissionError,
        locate,
        notebook_to_source,
    )

_EXPORTS = {
    "Limits": "limits",
    "Handle": "session",
    "LearnerError": "session",
    "Reply": "session",
    "Session": "session",
    "CellLine": "submission",
    "NotebookSyntaxError": "submission",
    "Submission": "submission",
    "SubmissionError": "submission",
    "locate": "submission",
    "notebook_to_source": "submission",
}

__all__ = [
    "CellLine",
    "Handle",
    "LearnerError",
    "Limits",
    "NotebookSyntaxError",
    "Reply",
    "Session",
    "Submission",
    "SubmissionError",
    "locate",
    "notebook_to_source",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
