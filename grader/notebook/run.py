"""The grading subprocess of ``check``: ``python -I -c <boot> REQUEST.json RESPONSE.json``.

Started afresh by each ``check`` in a notebook, so that nothing of the kernel's memory (where
the learner may have changed the grader) takes part in the verdict. The request holds the
exercise, the kernel's raw cells (or None outside IPython), its working directory, the language
and the per-call timeout; the response holds ``{"result", "notes", "html", "text"}`` or
``{"error"}`` (one line). The learner's code runs in the engine's own child process, as for
``grade exNN``.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from grader.i18n import _
from grader.notebook import history


def main(argv: list[str] | None = None) -> int:
    """Read the request, grade, write the response; 0 when a response was written."""
    request_path, response_path = (argv if argv is not None else sys.argv[1:])[:2]
    request = json.loads(Path(request_path).read_text(encoding="utf-8"))
    try:
        response = respond(request)
    except Exception as error:  # never a traceback in the learner's notebook
        response = {"error": f"grader error: {type(error).__name__}: {error}"}
    Path(response_path).write_text(json.dumps(response), encoding="utf-8")
    return 0


def respond(request: dict) -> dict:
    """The response to ``request`` (see the module's docstring)."""
    from grader import i18n
    from grader.registry import UnknownExercise

    try:
        lang = i18n.normalise(request["lang"]) if request.get("lang") else None
    except i18n.UnknownLanguage as error:
        return {"error": str(error)}
    with i18n.use(lang):
        try:
            return grade(request)
        except UnknownExercise as error:
            return {"error": str(error)}


def grade(request: dict) -> dict:
    """Grade the request's code (see ``respond``) in the active language."""
    from grader.engine import grade_submission, with_timeout
    from grader.registry import load
    from grader.runner.limits import Limits
    from grader.runner.submission import SubmissionError, locate

    exercise = load(str(request["exercise"]))
    limits = with_timeout(exercise.limits or Limits(), request.get("timeout"))
    cwd = Path(request["cwd"])
    folder = Path(tempfile.mkdtemp(prefix="bpl-notebook-"))
    try:
        if request.get("cells") is None:
            notes, graded = _files_outside_kernel(exercise, cwd, folder)
            if graded is None:
                return {"error": _("not in a Jupyter kernel, and no {module}.py or "
                                   "{module}.ipynb in {cwd} or its exercises/ folder").format(
                                       module=exercise.module, cwd=cwd)}
        else:
            notes, graded = _kernel_modules(exercise, request["cells"], cwd, folder), None
        try:
            submission = locate(folder, exercise.module)
        except SubmissionError as error:
            return {"error": str(error)}
        result = grade_submission(exercise, submission, limits=limits).redacted()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result.graded_file = graded or _("this kernel")
    result.other_file = None
    notes = notes + result.notes
    from grader.notebook.display import render_html, render_text

    return {"result": result.to_json(), "notes": notes,
            "html": render_html(result, notes), "text": render_text(result, notes)}


def _requirements(exercise) -> list:
    """The exercises ``exercise`` builds on, transitively, earliest first."""
    from grader.registry import load

    found: dict[str, object] = {}

    def visit(ex) -> None:
        for required in ex.requires:
            prerequisite = load(required)
            if prerequisite.id not in found:
                visit(prerequisite)
                found[prerequisite.id] = prerequisite

    visit(exercise)
    return list(found.values())


def _kernel_modules(exercise, cells: list[str], cwd: Path, folder: Path) -> list[str]:
    """Write the kernel's code as ``exercise``'s module in ``folder``, and each earlier
    exercise it builds on from the kernel (when the kernel defines the names imported from
    it) or from the learner's files beside the notebook. Returns notes saying which."""
    first = history.collect(cells)
    notes = []
    if first.skipped:
        notes.append(_("{count} cell(s) left out: they do not compile").format(
            count=first.skipped))
    from_kernel, from_files = [], {}
    for prerequisite in _requirements(exercise):
        module = prerequisite.module
        names = history.imported_names(first.code, module)
        found = _learner_file(cwd, module)
        if names and names <= first.defined or (not names and found is None):
            from_kernel.append(module)
        elif found is not None:
            from_files[module] = found
        else:
            notes.append(_("{module}: not defined in this kernel and no {module}.py beside "
                           "the notebook").format(module=module))
    code = history.collect(cells, frozenset(from_kernel)).code
    for module in [exercise.module, *from_kernel]:
        (folder / f"{module}.py").write_text(code, encoding="utf-8", errors="surrogatepass")
    for module in from_kernel:
        notes.append(_("{module}: taken from this kernel").format(module=module))
    for module, path in from_files.items():
        shutil.copyfile(path, folder / f"{module}{path.suffix}")
        notes.append(_("{module}: from {path}").format(module=module, path=_shown(path, cwd)))
    return notes


def _files_outside_kernel(exercise, cwd: Path, folder: Path) -> tuple[list[str], str | None]:
    """Outside IPython: copy the learner's files of ``exercise`` and its prerequisites."""
    notes = []
    graded = None
    for ex in [exercise, *_requirements(exercise)]:
        found = _learner_file(cwd, ex.module)
        if found is None:
            continue
        shutil.copyfile(found, folder / f"{ex.module}{found.suffix}")
        if ex is exercise:
            graded = _shown(found, cwd)
            notes.append(_("Not in a Jupyter kernel: graded {path}").format(path=graded))
        else:
            notes.append(_("{module}: from {path}").format(module=ex.module,
                                                            path=_shown(found, cwd)))
    return notes, graded


def _learner_file(cwd: Path, module: str) -> Path | None:
    """The learner's ``module`` beside the notebook: in ``cwd`` or ``cwd/exercises``, a .py
    or .ipynb file as ``grade`` picks it (``locate``)."""
    from grader.runner.submission import SubmissionError, locate

    for place in (cwd, cwd / "exercises"):
        try:
            return locate(place, module).graded_file
        except SubmissionError:
            continue
    return None


def _shown(path: Path, cwd: Path) -> str:
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
