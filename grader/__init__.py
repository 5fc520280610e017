"""Backprop Lab grader."""

from pathlib import Path

__version__ = "0.1.0"

#: Where the instructor's reference solutions are in a checkout of the course (the student
#: bundle has none).
SOLUTIONS_DIR = Path(__file__).resolve().parent.parent / "solutions"


def check(exercise: str, lang: str | None = None, timeout: float | None = None) -> object:
    """Grade ``exercise`` (``"ex03"``) on the code the Jupyter kernel ran so far and return the
    result (an HTML table in Jupyter). See ``grader.notebook.grading.check``.

    The grading module is loaded afresh from its file on each call, and grades in a fresh
    process: changes a learner makes to the grader's modules in the kernel do not reach it.
    """
    import importlib.util

    path = Path(__file__).resolve().parent / "notebook" / "grading.py"
    spec = importlib.util.spec_from_file_location("_bpl_notebook_grading", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.check(exercise, lang=lang, timeout=timeout)


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext grader``: register the ``%grade`` line magic."""
    from grader.notebook.magic import load_ipython_extension as load

    load(ipython)
