"""Grading in a Jupyter kernel: ``from grader import check; check("ex03")``, or ``%grade ex03``
after ``%load_ext grader``.

- ``history``: the kernel's cells, turned into the module to grade;
- ``grading``: ``check``, run in the kernel, grading in a fresh ``python -I`` process;
- ``run``: that process (collects, grades with the engine, renders);
- ``display``: ``NotebookResult``, shown as an HTML table or as text;
- ``magic``: the IPython extension.

Importing this package imports only the standard library.
"""

from __future__ import annotations

from typing import Any

__all__ = ["check", "load_ipython_extension"]


def check(exercise: str, lang: str | None = None, timeout: float | None = None) -> Any:
    """``grader.check``: see ``grader.notebook.grading.check``."""
    import grader

    return grader.check(exercise, lang=lang, timeout=timeout)


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%grade`` (see ``grader.notebook.magic``)."""
    from grader.notebook.magic import load_ipython_extension as load

    load(ipython)
