"""The learner's code as the kernel ran it: IPython's input history, turned into one module.

Two halves, run in two processes. ``kernel_cells`` runs in the kernel and only copies the raw
text of the cells run so far (nothing else of the kernel is used). ``collect`` runs in the
grading subprocess (``grader.notebook.run``): it drops magics and ``!`` shell lines (the same
rule as for notebook files, ``_strip_magics``), the grader's own calls (``check(...)``,
``from grader import check``, ``%grade``, ``%load_ext grader``, and any later statement that
uses a name they bound, such as ``print(r.score)`` after ``r = check("ex01")``) and cells that
do not compile (IPython records a cell that raised a SyntaxError, though it ran nothing), and
joins the rest in execution order, so that a later definition wins as it did in the kernel.

What the history misses: code the kernel ran without a cell of its own (``exec``, ``%run``,
``%load`` of a file as a later cell is seen, though), and the effect of cells run in an earlier
session before a kernel restart. A cell that raised at run time is kept: what ran before the
error is defined in the kernel, but importing it raises the same error again.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

#: Characters of code collected at most (the engine refuses larger sources anyway).
MAX_CODE_CHARS = 4 * 1024**2


def kernel_cells(shell: Any) -> list[str]:
    """The raw text of every cell ``shell`` (an IPython InteractiveShell) ran in this session,
    in execution order, the running cell included (IPython stores it before running it)."""
    history = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None)
    if history is None:
        history = shell.user_ns.get("In", [])
    return [cell for cell in list(history)[1:] if isinstance(cell, str)]


@dataclass
class Collected:
    """The code to grade and what was left out of it: ``skipped`` counts cells that do not
    compile; ``cells`` is how many cells are in ``code``."""

    code: str
    cells: int = 0
    skipped: int = 0
    defined: set[str] = field(default_factory=set)


def collect(cells: list[str], drop_imports: frozenset[str] = frozenset()) -> Collected:
    """``cells`` (raw IPython inputs) as one Python source, see the module's docstring.

    Top-level ``from M import ...`` statements of a module in ``drop_imports`` are left out:
    its names are defined by this very code (the kernel's earlier exercises).
    ``defined`` lists the names the code binds at top level (functions, classes, assignments).
    """
    from grader.runner.submission import _strip_magics

    kept: list[str] = []
    out = Collected("")
    grader_names: set[str] = set()  # names bound to the grader or to a check's result
    for raw in cells:
        lines = _strip_magics(raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
        source = "\n".join(lines)
        if not source.strip():
            continue
        try:
            tree = compile(source, "<cell>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            out.skipped += 1
            continue
        drop = []
        for node in tree.body:
            if _grader_statement(node) or _uses(node, grader_names):
                grader_names |= set(_bound(node))  # r = check("ex01"), import grader as g
                drop.append(node)
            elif _import_from(node, drop_imports):
                drop.append(node)
            else:
                grader_names -= set(_bound(node))
        for node in drop:
            for i in range(node.lineno - 1, node.end_lineno or node.lineno):
                lines[i] = ""
        kept_nodes = [node for node in tree.body if node not in drop]
        if not kept_nodes:
            continue
        out.defined |= {name for node in kept_nodes for name in _bound(node)}
        kept.append("\n".join(lines).rstrip() + "\n")
        out.cells += 1
    out.code = "\n\n".join(kept)[:MAX_CODE_CHARS]
    return out


def _grader_statement(node: ast.stmt) -> bool:
    """An import of the grader, or a call of ``check``/``grader.check`` (as a statement or
    assigned): the learner checking, not the learner's code."""
    if isinstance(node, ast.Import):
        return all(alias.name.split(".")[0] == "grader" for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] == "grader"
    if isinstance(node, ast.Expr | ast.Assign | ast.AnnAssign):
        call = node.value
        if isinstance(call, ast.Call):
            func = call.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            return name == "check" and (isinstance(func, ast.Name) or _is_grader(func))
    return False


def _uses(node: ast.stmt, names: set[str]) -> bool:
    """Whether ``node`` reads one of ``names`` (the grader, a check's result): code about the
    grader (``print(r.score)``, patching ``grader.engine``), not the learner's exercise."""
    return bool(names) and any(isinstance(n, ast.Name) and n.id in names
                               for n in ast.walk(node))


def _is_grader(func: ast.expr) -> bool:
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and (
        func.value.id in ("grader", "notebook"))


def _import_from(node: ast.stmt, modules: frozenset[str]) -> bool:
    return isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in modules


def imported_names(code: str, module: str) -> set[str]:
    """The names ``code`` imports from ``module`` at top level (``from module import a, b``)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    return {alias.name for node in tree.body if _import_from(node, frozenset({module}))
            for alias in node.names}


def _bound(node: ast.stmt) -> list[str]:
    """The top-level names ``node`` defines."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Import | ast.ImportFrom):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
