"""The public grader holds no solution code: nothing from which a solution can be read back.

Students receive ``grader/`` without ``solutions/``. A function of ``grader/`` whose syntax tree
equals a solution's once names are replaced by placeholders (and docstrings and annotations
dropped) is a solution in disguise; so is a ``lambda`` whose expression is a solution's
``return``. Buggy re-implementations of known mistakes belong in ``solutions/mistakes/``, whose
results only are stored.
"""

from __future__ import annotations

import ast
import copy
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import REPO, SOLUTIONS

GRADER = REPO / "grader"
#: Instructor-only folders of solutions/ whose code the grader may mirror: hidden checks. (The
#: buggy variants of mistakes/ count as solutions: their code reads back as one, nearly.)
NOT_SOLUTIONS = ("hidden",)
#: Functions this small (``return x``, ``self.x = None``...) say nothing about a solution.
MIN_NODES = 8

Function = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


class _Placeholders(ast.NodeTransformer):
    """Replaces every identifier by ``_0``, ``_1``... in order of first appearance."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def _rename(self, name: str) -> str:
        return self.names.setdefault(name, f"_{len(self.names)}")

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self._rename(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg, node.annotation = self._rename(node.arg), None
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.Attribute:
        self.generic_visit(node)
        node.attr = self._rename(node.attr)
        return node

    def visit_keyword(self, node: ast.keyword) -> ast.keyword:
        self.generic_visit(node)
        if node.arg is not None:
            node.arg = self._rename(node.arg)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.name, node.returns, node.decorator_list = self._rename(node.name), None, []
        node.body = _without_docstring(node.body)
        self.generic_visit(node)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    first = body[0] if body else None
    if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        return body[1:] or [ast.Pass()]
    return body


def normalised(function: Function) -> tuple[str, int]:
    """A function's shape, names and docstrings aside, and its size in nodes."""
    function = copy.deepcopy(function)
    body = ([ast.Return(function.body)] if isinstance(function, ast.Lambda)
            else _without_docstring(function.body))
    shape = ast.FunctionDef(name="f", args=function.args, body=body, decorator_list=[],
                            returns=None, type_params=[])
    shape = _Placeholders().visit(shape)
    size = sum(1 for node in ast.walk(ast.Module(body=shape.body, type_ignores=[]))
               if not isinstance(node, ast.expr_context))
    return ast.dump(shape, annotate_fields=False), size


def functions(path: Path) -> Iterator[tuple[str, Function]]:
    """Every function, method and lambda in ``path``, with a label ``file:line``."""
    label = path.relative_to(REPO if path.is_relative_to(REPO) else path.parents[1])
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, Function):
            yield f"{label}:{node.lineno}", node


def solution_files(solutions: Path = SOLUTIONS) -> list[Path]:
    return [p for p in sorted(solutions.rglob("*.py"))
            if not set(p.relative_to(solutions).parts[:-1]) & set(NOT_SOLUTIONS)]


def solution_shapes(solutions: Path = SOLUTIONS) -> dict[str, str]:
    """The shape of every non-trivial function of the reference solutions -> where it is."""
    shapes = {}
    for path in solution_files(solutions):
        for where, function in functions(path):
            shape, size = normalised(function)
            if size >= MIN_NODES:
                shapes.setdefault(shape, where)
    return shapes


def copies_in(path: Path, shapes: dict[str, str]) -> list[str]:
    """``"<file:line> is <solution file:line>"`` for each function of ``path`` in ``shapes``."""
    found = []
    for where, function in functions(path):
        shape, _ = normalised(function)
        if shape in shapes:
            found.append(f"{where} is {shapes[shape]}")
    return found


def imports_of(path: Path) -> set[str]:
    """The top-level names of the modules ``path`` imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.fixture(scope="module")
def shapes() -> dict[str, str]:
    return solution_shapes()


def grader_files() -> list[Path]:
    return sorted(GRADER.rglob("*.py"))


def test_no_grader_function_is_a_solution_function(shapes):
    assert len(shapes) > 40  # every exercise's functions and methods were read
    found = [where for path in grader_files() for where in copies_in(path, shapes)]
    assert found == []


def test_a_planted_copy_of_a_known_mistake_is_caught(tmp_path, shapes):
    """Buggy variants stay in solutions/mistakes/: the grader stores their results only."""
    tree = ast.parse((SOLUTIONS / "mistakes" / "ex01_activations.py").read_text())
    variant = next(node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
                   and node.name == "softmax_without_max")
    variant = _Rename({"x": "scores"}).visit(variant)
    variant.name, variant.args.args[0].arg = "_unstable", "scores"
    planted = tmp_path / "grader" / "planted.py"
    planted.parent.mkdir()
    planted.write_text("import numpy as np\n\n\n" + ast.unparse(variant))
    found = copies_in(planted, shapes)
    assert [f.split(" is ")[1] for f in found] == [
        f"solutions/mistakes/ex01_activations.py:{variant.lineno}"], found


def test_grader_never_imports_the_solutions():
    forbidden = {"solutions"} | {p.stem for p in SOLUTIONS.glob("*.py")}
    found = {f"{path.relative_to(REPO)} imports {name}" for path in grader_files()
             for name in imports_of(path) & forbidden}
    assert found == set()


def mistakes_with_code(path: Path, root: Path = REPO) -> list[str]:
    """Calls of the check library's ``Mistake`` in ``path`` that pass an implementation."""
    tree = ast.parse(path.read_text())
    if not any(isinstance(node, ast.ImportFrom) and (node.module or "").startswith("grader.checks")
               and any(alias.name == "Mistake" for alias in node.names)
               for node in ast.walk(tree)):
        return []  # another Mistake (a class report's, say)
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Mistake"
                and (len(node.args) > 2 or any(k.arg == "impl" for k in node.keywords))):
            found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_no_known_mistake_of_the_grader_carries_code(tmp_path):
    assert [where for path in grader_files() for where in mistakes_with_code(path)] == []
    planted = tmp_path / "planted.py"
    calls = ("M = Mistake('a', 'b', lambda x: x)\n"
             "N = Mistake('a', 'b', impl=abs)\n"
             "O = Mistake('a', 'b', variant={'f': 'g'}, derive=lambda e: e)\n")
    planted.write_text("from grader.checks import Mistake\n" + calls)
    assert mistakes_with_code(planted, tmp_path) == ["planted.py:2", "planted.py:3"]
    planted.write_text("from grader.classreport.data import Mistake\n" + calls)
    assert mistakes_with_code(planted, tmp_path) == []


PLANTED = '''
import numpy as np

from solutions.ex01_activations import softmax as reference_softmax


def stable_probabilities(scores: np.ndarray) -> np.ndarray:
    """Renamed, annotated and documented: still the solution's softmax."""
    {softmax_body}


STEP = lambda v: {step_expression}  # noqa: E731
ALMOST_STEP = lambda v: {almost_step}  # noqa: E731
'''


class _Rename(ast.NodeTransformer):
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.names.get(node.id, node.id)
        return node


def _solution_function(name: str) -> ast.FunctionDef:
    tree = ast.parse((SOLUTIONS / "ex01_activations.py").read_text())
    return next(node for node in ast.walk(tree)
                if isinstance(node, ast.FunctionDef) and node.name == name)


def test_a_planted_copy_and_import_are_caught(tmp_path, shapes):
    names = {"x": "scores", "e": "exps", "shifted": "centred"}
    softmax = _Rename(names).visit(_solution_function("softmax"))
    step = _Rename({"x": "v"}).visit(_solution_function("step_function")).body[-1]
    assert isinstance(step, ast.Return)
    planted = tmp_path / "grader" / "planted.py"
    planted.parent.mkdir()
    planted.write_text(PLANTED.format(
        softmax_body=textwrap.indent(ast.unparse(_without_docstring(softmax.body)),
                                     "    ").lstrip(),
        step_expression=ast.unparse(step.value),
        almost_step=ast.unparse(step.value).replace(">", ">="),
    ))
    found = copies_in(planted, shapes)
    assert {f.split(" is ")[1] for f in found} == {
        f"solutions/ex01_activations.py:{_solution_function(name).lineno}"
        for name in ("softmax", "step_function")}, found
    assert "solutions" in imports_of(planted)
    # The same file without the copies: nothing found.
    planted.write_text("import numpy as np\n\n\ndef double(x):\n    return 2 * np.asarray(x)\n")
    assert copies_in(planted, shapes) == []
    assert "solutions" not in imports_of(planted)
