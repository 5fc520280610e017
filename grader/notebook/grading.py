"""``check("ex03")``: grade what the Jupyter kernel defines now, in a fresh grader process.

Runs in the kernel and imports only the standard library. It copies the raw text of the cells
run so far (``history.kernel_cells``) into a request file and starts ``grader.notebook.run``
with ``python -I``; that process collects the code, grades it with the engine (the learner's
code runs in the engine's isolated child, never in the kernel), renders the result and sends it
back as JSON. ``grader.check`` loads this module afresh from its file on each call, so that a
learner's changes to the grader's modules in the kernel take no part in the verdict.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
_ROOT = str(_HERE.parent.parent)
_BOOT = (f"import sys; sys.path.insert(0, {_ROOT!r}); "
         "from grader.notebook.run import main; sys.exit(main())")
#: Seconds the grading process may take beyond the exercise's own limits, before it is killed.
GRACE_SECONDS = 600.0


class NotebookCheckError(ValueError):
    """A one-line reason why nothing was graded (unknown exercise, no code to grade...).

    IPython shows only its message, not a traceback (``_render_traceback_``).
    """

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


def _private(name: str) -> Any:
    """A private copy of ``grader/notebook/<name>.py``, loaded from its file now."""
    spec = importlib.util.spec_from_file_location(f"_bpl_notebook_{name}", _HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _shell() -> Any:
    """The running IPython shell, or None outside IPython."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    try:
        return ipython.get_ipython()
    except Exception:
        return None


def check(exercise: str, lang: str | None = None, timeout: float | None = None) -> Any:
    """Grade ``exercise`` (``"ex03"``) on the code this kernel ran so far; return the result
    (a ``NotebookResult``: rich HTML in Jupyter, text in a console).

    ``lang`` is the language of the messages (default: the active one), ``timeout`` the
    seconds one call of the learner's code may take. Outside IPython it grades
    ``exercises/<module>.py`` (or ``.ipynb``) in the working directory instead. Raises
    ``NotebookCheckError`` (a ValueError) with a one-line message when nothing can be graded.
    """
    if not isinstance(exercise, str) or not exercise.strip():
        raise NotebookCheckError(f"give the exercise as a string, e.g. check('ex01'), "
                                 f"not {exercise!r}")
    if timeout is not None and not (isinstance(timeout, int | float) and timeout > 0):
        raise NotebookCheckError(f"timeout must be a positive number of seconds, not {timeout!r}")
    shell = _shell()
    cells = _private("history").kernel_cells(shell) if shell is not None else None
    if lang is None:
        from grader import i18n

        lang = i18n.current()
    request = {"exercise": exercise, "cells": cells, "cwd": os.getcwd(), "lang": lang,
               "timeout": timeout}
    response = _run(request, GRACE_SECONDS + 40 * (timeout or 10.0))
    if "error" in response:
        raise NotebookCheckError(response["error"])
    data = response["result"]
    return _private("display").NotebookResult(
        exercise=str(data["exercise"]), score=float(data["score"]),
        max_score=float(data["max_score"]), checks=_checks(data), notes=list(response["notes"]),
        error=data.get("error"), result=data, html=str(response["html"]),
        text=str(response["text"]))


def _checks(data: dict) -> list[Any]:
    """The per-check results as CheckResults (the dicts themselves if that fails)."""
    try:
        from grader.result import CheckResult

        return [CheckResult.from_json(test) for test in data.get("tests", [])]
    except Exception:
        return list(data.get("tests", []))


def _run(request: dict, limit: float) -> dict:
    """Run the grading process on ``request``; its response (``{"error": ...}`` on failure)."""
    with tempfile.TemporaryDirectory(prefix="bpl-check-") as scratch:
        request_path = Path(scratch) / "request.json"
        response_path = Path(scratch) / "response.json"
        request_path.write_text(json.dumps(request), encoding="utf-8")
        try:
            done = subprocess.run(
                [sys.executable, "-I", "-c", _BOOT, str(request_path), str(response_path)],
                cwd=scratch, stdin=subprocess.DEVNULL, capture_output=True, timeout=limit,
            )
        except subprocess.TimeoutExpired:
            return {"error": f"grading took more than {limit:g} s and was stopped"}
        try:
            return json.loads(response_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
            last = lines[-1] if lines else f"exit status {done.returncode}"
            return {"error": f"the grader failed: {last}"}
