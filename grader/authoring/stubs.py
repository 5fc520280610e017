"""Generate the learner's stubs and notebooks from the reference solutions.

Each reference solution ``solutions/exNN_<name>.py`` is a Python module in jupytext's "percent"
format: cells start with a ``# %%`` line, markdown cells with ``# %% [markdown]`` followed by
``#``-commented lines. Inside each function the reference code sits between the lines
``### BEGIN SOLUTION`` and ``### END SOLUTION``; in the learner's files that block becomes
``raise NotImplementedError("<name> is not implemented yet")``. Everything else (docstrings,
signatures, explanations) is copied verbatim.

From every solution this writes ``exercises/exNN_<name>.py`` (the percent file, stripped) and
``exercises/exNN_<name>.ipynb`` (the same cells as a notebook). Output is deterministic, so the
generated files are committed and ``--check`` (run by the tests) fails when they are stale.
Run without ``--exercises``, it also writes ``grader/data/stubs.json``: the digest of each
stub's code, by which the grader knows an untouched stub from a learner's work::

    python -m grader.authoring.stubs            # regenerate exercises/
    python -m grader.authoring.stubs --check    # exit 1 if exercises/ is out of date
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import re
import sys
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.runner.submission import STUB_DIGESTS, code_digest

DIGESTS_NAME = "grader/data/stubs.json"

CellKind = Literal["markdown", "code"]

# "# %%", optionally followed by a title and/or a cell type such as "[markdown]".
_CELL_MARKER = re.compile(r"^#\s?%%(?=\s|$)(?P<rest>.*)$")
_CELL_TYPE = re.compile(r"\[(?P<type>[^\]]*)\]")
_MARKDOWN_TYPES = {"markdown", "md"}
# Lenient on the number of '#' and on case, so that a mistyped marker raises an error
# (or is stripped) rather than silently leaking a solution into the learner's file.
_SOLUTION_MARKER = re.compile(r"^#+\s*(?P<which>BEGIN|END)\s+SOLUTION\s*$", re.IGNORECASE)

STUB_HEADER = (
    "# Backprop Lab exercise: implement the functions below, then run `grade {exercise}`.\n"
    "\n"
)
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python"}


@dataclass(frozen=True)
class Cell:
    """One cell of a percent-format file: ``kind`` is "markdown" or "code".

    ``text`` is the cell's content without its ``# %%`` line and without leading or trailing
    blank lines; for markdown the ``# `` comment prefixes are removed.
    """

    kind: CellKind
    text: str


# --------------------------------------------------------------------------- percent format


def parse_percent(source: str) -> list[Cell]:
    """Split a percent-format source into cells, in order.

    Text before the first ``# %%`` line is a code cell when it is not blank. Markdown lines must
    be comments (``# text`` or ``#``) or blank; anything else raises ``ValueError``. Cell types
    other than markdown (``[raw]``...) raise ``ValueError``.
    """
    cells: list[Cell] = []
    kind: CellKind = "code"
    body: list[tuple[int, str]] = []
    explicit = False  # whether the current cell was opened by a "# %%" line

    def flush() -> None:
        lines = [line for _, line in body]
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        if not explicit and not lines:
            return
        if kind == "markdown":
            start = next((n for n, line in body if line.strip()), 0)
            text = "\n".join(_uncomment(line, start + i) for i, line in enumerate(lines))
        else:
            text = "\n".join(lines)
        cells.append(Cell(kind, text))

    for lineno, line in enumerate(source.splitlines(), start=1):
        match = _CELL_MARKER.match(line)
        if match is None:
            body.append((lineno, line))
            continue
        flush()
        kind = _cell_kind(match.group("rest"), lineno)
        body = []
        explicit = True
    flush()
    return cells


def _cell_kind(rest: str, lineno: int) -> CellKind:
    match = _CELL_TYPE.search(rest)
    if match is None:
        return "code"
    if match.group("type").strip().lower() in _MARKDOWN_TYPES:
        return "markdown"
    raise ValueError(f"line {lineno}: unsupported cell type [{match.group('type')}]")


def _uncomment(line: str, lineno: int) -> str:
    if not line.strip():
        return ""
    if line.startswith("# "):
        return line[2:]
    if line.startswith("#"):
        return line[1:]
    raise ValueError(f"line {lineno}: a markdown cell's lines must start with '#': {line!r}")


# --------------------------------------------------------------------------- solution blocks


@dataclass(frozen=True)
class _Marker:
    lineno: int  # 1-based
    which: str  # "BEGIN" or "END"
    indent: str


@dataclass(frozen=True)
class _Function:
    qualname: str  # "name", or "Class.name" for a method
    lineno: int
    end_lineno: int
    col: int


def strip_solutions(code: str) -> str:
    """Replace every solution block of ``code`` by a ``raise NotImplementedError``.

    A block runs from a ``### BEGIN SOLUTION`` line to the next ``### END SOLUTION`` line
    (markers included) and becomes one line, at the indentation of its BEGIN marker:
    ``raise NotImplementedError("<name> is not implemented yet")``, where ``<name>`` is the
    innermost function enclosing the block, prefixed by its class for a method
    ("Affine.backward"). All other lines are kept verbatim.

    Raises ``ValueError`` (with the line number) when ``code`` is not valid Python, a marker is
    not alone on its line, markers are unbalanced or nested, or a block is not inside a function.
    """
    markers = _find_markers(code)
    if not markers:
        return code
    blocks = _pair_markers(markers)
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise ValueError(f"line {exc.lineno}: not valid Python: {exc.msg}") from exc
    functions = _functions(tree)
    lines = code.splitlines(keepends=True)

    out: list[str] = []
    pos = 0  # index of the next line of `lines` to copy
    for begin, end in blocks:
        function = _enclosing_function(functions, lines, begin)
        if function is None:
            raise ValueError(f"line {begin.lineno}: solution block is not inside a function")
        end_line = lines[end.lineno - 1]
        newline = end_line[len(end_line.rstrip("\r\n")) :]  # keep the file's line endings
        message = f"{function.qualname} is not implemented yet"
        out.extend(lines[pos : begin.lineno - 1])
        out.append(f'{begin.indent}raise NotImplementedError("{message}"){newline}')
        pos = end.lineno
    out.extend(lines[pos:])
    result = "".join(out)
    try:
        ast.parse(result)
    except SyntaxError as exc:  # e.g. a block that spanned part of a statement
        raise ValueError(f"stripping the solutions gives invalid Python: {exc}") from exc
    return result


def _find_markers(code: str) -> list[_Marker]:
    markers = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type != tokenize.COMMENT:
                continue
            match = _SOLUTION_MARKER.match(token.string)
            if match is None:
                continue
            lineno, col = token.start
            if token.line[:col].strip():
                raise ValueError(f"line {lineno}: a solution marker must be alone on its line")
            markers.append(_Marker(lineno, match.group("which").upper(), token.line[:col]))
    except (tokenize.TokenError, SyntaxError) as exc:  # IndentationError is a SyntaxError
        raise ValueError(f"not valid Python: {exc}") from exc
    return markers


def _pair_markers(markers: list[_Marker]) -> list[tuple[_Marker, _Marker]]:
    blocks = []
    begin: _Marker | None = None
    for marker in markers:
        if marker.which == "BEGIN":
            if begin is not None:
                raise ValueError(
                    f"line {marker.lineno}: BEGIN SOLUTION inside the block opened at line "
                    f"{begin.lineno}"
                )
            begin = marker
        else:
            if begin is None:
                raise ValueError(f"line {marker.lineno}: END SOLUTION without BEGIN SOLUTION")
            blocks.append((begin, marker))
            begin = None
    if begin is not None:
        raise ValueError(f"line {begin.lineno}: BEGIN SOLUTION without END SOLUTION")
    return blocks


def _functions(tree: ast.Module) -> list[_Function]:
    """Every function and method in ``tree``, named by its enclosing classes (if any)."""
    found: list[_Function] = []

    def visit(node: ast.AST, classes: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, [*classes, child.name])
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                qualname = ".".join([*classes, child.name])
                end = child.end_lineno if child.end_lineno is not None else child.lineno
                found.append(_Function(qualname, child.lineno, end, child.col_offset))
                visit(child, [])  # a class defined inside a function starts afresh
            else:
                visit(child, classes)

    visit(tree, [])
    return found


def _enclosing_function(
    functions: list[_Function], lines: list[str], begin: _Marker
) -> _Function | None:
    """The innermost function whose body holds the BEGIN marker, or None.

    The marker is in a function's body when it is indented deeper than the ``def`` and either
    lies within the function's lines or follows them with only blank or comment lines between
    (an empty block at the end of a function, after its docstring).
    """
    inside = []
    for function in functions:
        if function.lineno >= begin.lineno or len(begin.indent) <= function.col:
            continue
        if begin.lineno <= function.end_lineno or all(
            not line.strip() or line.lstrip().startswith("#")
            for line in lines[function.end_lineno : begin.lineno - 1]
        ):
            inside.append(function)
    return max(inside, key=lambda function: function.lineno, default=None)


# --------------------------------------------------------------------------- stubs


def stub_module(solution_source: str, exercise: str | None = None) -> str:
    """The learner's ``.py`` file: the solution with every solution block stripped.

    A short header comment tells the learner to edit the file and run ``grade <exercise>``;
    ``exercise`` ("ex01") defaults to the ``exNN`` that starts the module docstring.
    """
    if exercise is None:
        exercise = _exercise_from_docstring(solution_source)
    return STUB_HEADER.format(exercise=exercise) + strip_solutions(solution_source)


def _exercise_from_docstring(source: str) -> str:
    try:
        docstring = ast.get_docstring(ast.parse(source)) or ""
    except SyntaxError:
        docstring = ""
    match = re.match(r"\s*(ex\d+)\b", docstring)
    return match.group(1) if match else "<exercise>"


def stub_notebook(solution_source: str) -> nbformat.NotebookNode:
    """The learner's notebook (nbformat v4): the solution's cells, with solutions stripped.

    Markdown cells lose their comment prefixes; code cells have no outputs. Cell ids are
    "cell-1", "cell-2"... so that the notebook is the same every time it is generated.
    """
    cells = []
    for number, cell in enumerate(parse_percent(strip_solutions(solution_source)), start=1):
        make = new_markdown_cell if cell.kind == "markdown" else new_code_cell
        cells.append(make(cell.text, id=f"cell-{number}"))
    notebook = new_notebook(
        cells=cells,
        metadata={"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)},
    )
    nbformat.validate(notebook)
    return notebook


def render_notebook(notebook: nbformat.NotebookNode) -> str:
    """The text ``nbformat.write`` gives for ``notebook``: indented JSON ending in a newline."""
    text = nbformat.writes(notebook)
    return text if text.endswith("\n") else text + "\n"


def _outputs(
    solutions_dir: Path, exercises_dir: Path, only: Sequence[str] = ()
) -> dict[Path, str]:
    outputs: dict[Path, str] = {}
    for solution in sorted(solutions_dir.glob("ex*.py")):
        if only and solution.stem.split("_", 1)[0] not in only:
            continue
        source = solution.read_text(encoding="utf-8")
        exercise = solution.stem.split("_", 1)[0]
        try:
            outputs[exercises_dir / solution.name] = stub_module(source, exercise)
            outputs[exercises_dir / f"{solution.stem}.ipynb"] = render_notebook(
                stub_notebook(source)
            )
        except ValueError as exc:
            raise ValueError(f"{solution}: {exc}") from exc
    return outputs


def stub_digests(solutions_dir: Path) -> str:
    """The JSON of every exercise's stub code digest (``code_digest``), by module name: what
    lets the grader tell an untouched stub from a learner's work (``other_file``)."""
    digests = {}
    for solution in sorted(Path(solutions_dir).glob("ex*.py")):
        source = solution.read_text(encoding="utf-8")
        try:
            digests[solution.stem] = code_digest(stub_module(source))
        except ValueError as exc:
            raise ValueError(f"{solution}: {exc}") from exc
    return json.dumps(digests, indent=2, sort_keys=True) + "\n"


def generate(
    solutions_dir: Path, exercises_dir: Path, check: bool = False, only: Sequence[str] = (),
    digests: Path | None = None,
) -> list[Path]:
    """Write ``<name>.py`` and ``<name>.ipynb`` in ``exercises_dir`` for each ``ex*.py`` solution
    (or only those of the exercise ids in ``only``, e.g. ``["ex03"]``), and the ``stub_digests``
    of all of them to ``digests`` when given.

    Returns every file generated. With ``check=True`` nothing is written and the result is the
    files that are missing or differ from what generation would produce (``[]``: up to date).
    Raises ``ValueError`` naming the solution file when a solution cannot be stripped.
    """
    outputs = _outputs(Path(solutions_dir), Path(exercises_dir), only)
    if digests is not None:
        outputs[Path(digests)] = stub_digests(Path(solutions_dir))
    if check:
        return [path for path, text in outputs.items() if _read(path) != text]
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if _read(path) != text:
            path.write_text(text, encoding="utf-8", newline="\n")
    return list(outputs)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    """Command line: regenerate exercises/, or with ``--check`` exit 1 if it is out of date."""
    parser = argparse.ArgumentParser(
        prog="python -m grader.authoring.stubs",
        description="Generate learner stubs and notebooks from the reference solutions.",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any file is out of date"
    )
    parser.add_argument("--solutions", type=Path, default=Path("solutions"), metavar="DIR")
    parser.add_argument("--exercises", type=Path, default=None, metavar="DIR",
                        help="default: exercises")
    parser.add_argument("--digests", type=Path, default=None, metavar="FILE",
                        help="where the stubs' code digests go (default: the grader's "
                             f"{DIGESTS_NAME} when --exercises is not given)")
    parser.add_argument("only", nargs="*", metavar="EXERCISE", help="e.g. ex03 (default: all)")
    args = parser.parse_args(argv)
    digests = args.digests
    if args.exercises is None:  # the repository's own exercises: the grader's digests too
        args.exercises = Path("exercises")
        digests = digests or STUB_DIGESTS

    if not any(args.solutions.glob("ex*.py")):
        print(f"error: no solutions (ex*.py) in {args.solutions}", file=sys.stderr)
        return 2
    try:
        paths = generate(args.solutions, args.exercises, check=args.check, only=args.only,
                         digests=digests)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if paths:
            print("out of date (run `python -m grader.authoring.stubs`):", file=sys.stderr)
            for path in paths:
                print(f"  {path}", file=sys.stderr)
            return 1
        print(f"{args.exercises} is up to date")
        return 0
    for path in paths:
        print(f"generated {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
