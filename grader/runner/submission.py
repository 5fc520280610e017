"""Find the learner's files, and turn Jupyter notebooks into plain Python source.

Runs in the grader's process only (the child never imports it). Nothing here executes, compiles
or parses learner code as Python: a notebook is read as bounded JSON (its size and its number of
values are checked before parsing) and its code cells are only split into lines; whether they
compile is checked by the child process, cell by cell (child.py), before it imports them.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

from grader.runner.protocol import json_problem

__all__ = [
    "CellLine",
    "NotebookSyntaxError",
    "SourceFile",
    "Submission",
    "SubmissionError",
    "code_digest",
    "collect_sources",
    "locate",
    "notebook_to_source",
    "other_file",
]

SUFFIXES = (".py", ".ipynb")
EXERCISE_STEM = re.compile(r"ex[0-9]{2}_[A-Za-z0-9_]+")
PYTHON_CELL_MAGICS = frozenset({"time", "capture"})  # %%magics whose body is plain Python, run once
# Largest files read. The course's notebooks are about 30 KB and its solutions 20 KB; a notebook
# with many plots or long training logs stays a few MB.
MAX_NOTEBOOK_BYTES = 16 * 1024**2  # a notebook file, outputs included
MAX_SOURCE_BYTES = 4 * 1024**2  # a .py file, or the code cells of a notebook
MAX_NOTEBOOK_VALUES = 2_000_000  # JSON values in a notebook (a line of output is one)
MAX_CELLS = 10_000  # cells in a notebook
#: The digest of each exercise's untouched stub code (``code_digest``), by module name, written
#: by ``python -m grader.authoring.stubs`` with the stubs themselves.
STUB_DIGESTS = Path(__file__).resolve().parents[1] / "data" / "stubs.json"


class SubmissionError(Exception):
    """One-line, user-facing message: missing path, unknown layout, nothing to grade."""


class NotebookSyntaxError(SubmissionError):
    """A code cell of the graded notebook does not compile. The child process finds out (the
    grader never compiles learner code) and reports it as an import error with the same text."""


@dataclass(frozen=True)
class Submission:
    """What to grade: exercise module name, the file graded as that module, importable siblings."""

    module: str  # module name of the exercise, e.g. "ex01_activations"
    graded_file: Path  # the file being graded (.py or .ipynb)
    search_dir: Path | None  # folder whose exNN_*.py / .ipynb are importable (None: lone file)


@dataclass(frozen=True)
class CellLine:
    """A place in a notebook: ``cell`` is the 1-based index among all cells, ``line`` 1-based."""

    cell: int
    line: int


@dataclass(frozen=True)
class SourceFile:
    """One module to put in front of the learner's import path.

    ``data`` is the Python source as bytes; ``line_map[n - 1]`` is the notebook place of line ``n``
    (None for a .py file, whose lines are its own). ``display`` is the learner's file name.
    ``cells`` lists ``(cell number, first line, line count)`` of each code cell the child must
    compile on its own before importing the module (the graded notebook's), to report a
    SyntaxError by cell as ``"SyntaxError in cell 4, line 2: invalid syntax"``.
    """

    module: str
    display: str
    data: bytes
    line_map: list[CellLine | None] | None
    cells: tuple[tuple[int, int, int], ...] = ()

    @property
    def filename(self) -> str:
        return f"{self.module}.py"


def locate(path: Path, module: str) -> Submission:
    """Find what to grade as ``module`` at ``path`` (a .py/.ipynb file, or a folder).

    A file is graded as ``module`` whatever its name. In a folder the graded file is
    ``<module>.py`` or ``<module>.ipynb``; if both exist, the one with fewer untouched stubs
    wins, then the newer one, then ``.py``.
    Raises SubmissionError with a one-line message when there is nothing to grade.
    """
    if not module.isidentifier():
        raise ValueError(f"not a module name: {module!r}")
    path = Path(path)
    if path.is_dir():
        found = _pick(path, module)
        if found is None:
            raise SubmissionError(f"no {module}.py or {module}.ipynb in {path}/")
        return Submission(module, found.absolute(), path.absolute())
    if path.is_file():
        if path.suffix not in SUFFIXES:
            raise SubmissionError(f"{path} is not a .py file or a .ipynb notebook")
        return Submission(module, path.absolute(), None)
    raise SubmissionError(f"{path} does not exist")


#: The message every generated stub raises: a file with fewer of them is the one worked on.
STUB_MARK = "is not implemented yet"


def _pick(folder: Path, stem: str) -> Path | None:
    """``folder/stem.py`` or ``folder/stem.ipynb``, or None when neither exists.

    When both exist, the one the learner worked on wins: fewer untouched stubs, then the
    newer, then ``.py``. (Opening a notebook to read it can make it newer; stubs tell more.)
    """
    found = [folder / f"{stem}{suffix}" for suffix in SUFFIXES]
    found = [p for p in found if p.is_file()]
    if len(found) < 2:
        return found[0] if found else None

    def preference(rank_path: tuple[int, Path]) -> tuple[int, float, int]:
        rank, path = rank_path
        try:
            with path.open("rb") as f:  # a huge file is not read whole: it loses anyway
                stubs = f.read(MAX_NOTEBOOK_BYTES).count(STUB_MARK.encode())
            mtime = path.stat().st_mtime
        except OSError:
            return (1 << 30, 0.0, rank)
        return (stubs, -mtime, rank)

    return min(enumerate(found), key=preference)[1]


def other_file(submission: Submission) -> Path | None:
    """The file of the same exercise that was *not* graded (``.py`` vs ``.ipynb``), when the
    learner's work in it is not what was graded; else None.

    Nothing is lost by grading one form when the two hold the same code (a fresh checkout: the
    generated ``.py`` and notebook are equivalent), nor when the other form is the untouched
    stub (the learner worked in the graded one only). Code is compared as ``code_digest`` sees
    it; a file that cannot be read counts as changed.
    """
    if submission.search_dir is None:
        return None
    for suffix in SUFFIXES:
        candidate = submission.search_dir / f"{submission.module}{suffix}"
        if candidate != submission.graded_file and candidate.is_file():
            other = _file_digest(candidate)
            if other is not None and other in (_file_digest(submission.graded_file),
                                               _stub_digests().get(submission.module)):
                return None
            return candidate
    return None


def code_digest(source: str) -> str:
    """A digest of the code in ``source``: its lines without trailing spaces, leaving out blank
    and comment-only lines (a ``.py`` stub's ``# %%`` markers and markdown cells), so that a
    ``.py`` file and a notebook holding the same code cells have the same digest."""
    lines = (line.rstrip() for line in source.splitlines())
    code = "\n".join(line for line in lines if line and not line.lstrip().startswith("#"))
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


def _file_digest(path: Path) -> str | None:
    """``code_digest`` of a .py file or of a notebook's code cells (converted as for grading);
    None when it cannot be read."""
    try:
        if path.suffix == ".ipynb":
            text = _convert(path)[0]
        else:
            text = _read(path, MAX_SOURCE_BYTES).decode("utf-8", "surrogateescape")
    except SubmissionError:
        return None
    return code_digest(text)


@functools.cache
def _stub_digests() -> dict[str, str]:
    """``STUB_DIGESTS`` as a dict; empty when the file is missing or unreadable."""
    try:
        data = json.loads(STUB_DIGESTS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def collect_sources(submission: Submission) -> list[SourceFile]:
    """The graded module and, for a folder, every exNN_* sibling, as Python source.

    Raises SubmissionError if the graded file cannot be read or is too large. A sibling that
    cannot be read becomes a module raising ImportError. The graded notebook's code cells are
    listed in ``cells`` for the child's syntax check; a sibling notebook's are not, so a
    SyntaxError in it surfaces when (and only if) it is imported.
    """
    files = {submission.module: submission.graded_file}
    if submission.search_dir is not None:
        stems = {
            p.stem
            for p in _listdir(submission.search_dir)
            if p.suffix in SUFFIXES and EXERCISE_STEM.fullmatch(p.stem)
        }
        for stem in sorted(stems - {submission.module}):
            found = _pick(submission.search_dir, stem)
            if found is not None:
                files[stem] = found
    out = []
    for module, path in files.items():
        graded = module == submission.module
        try:
            out.append(_source_file(module, path, check=graded))
        except SubmissionError as e:
            if graded:
                raise
            stub = f"raise ImportError({str(e)!r})\n".encode()
            out.append(SourceFile(module, path.name, stub, None))
    return out


def _listdir(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError as e:
        raise SubmissionError(f"cannot read {folder}/: {e.strerror}") from None


def _source_file(module: str, path: Path, check: bool) -> SourceFile:
    if path.suffix == ".ipynb":
        text, line_map = _convert(path)
        data = text.encode("utf-8", "surrogatepass")
        if len(data) > MAX_SOURCE_BYTES:
            raise SubmissionError(_too_large(path, len(data), MAX_SOURCE_BYTES, " of code"))
        return SourceFile(module, path.name, data, line_map, _cells(line_map) if check else ())
    return SourceFile(module, path.name, _read(path, MAX_SOURCE_BYTES), None)


def _too_large(path: Path, size: int | None, limit: int, what: str = "") -> str:
    got = f"{size / 1024**2:.1f} MB" if size is not None else "more than that"
    return f"{path.name} is too large to grade: {got}{what} (the limit is {limit // 1024**2} MB)"


def _read(path: Path, limit: int) -> bytes:
    """The bytes of ``path``, refused by size (before reading) when larger than ``limit``."""
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                raise SubmissionError(_too_large(path, size, limit))
            data = f.read(limit + 1)
    except OSError as e:
        raise SubmissionError(f"cannot read {path.name}: {e.strerror}") from None
    if len(data) > limit:  # it grew, or is not a regular file
        raise SubmissionError(_too_large(path, None, limit))
    return data


def _cells(line_map: list[CellLine | None]) -> tuple[tuple[int, int, int], ...]:
    """``(cell, first line, line count)`` of each code cell in the converted source."""
    cells: list[list[int]] = []
    for number, place in enumerate(line_map, start=1):
        if place is None:
            continue
        if cells and cells[-1][0] == place.cell:
            cells[-1][2] += 1
        else:
            cells.append([place.cell, number, 1])
    return tuple((c, first, count) for c, first, count in cells)


def notebook_to_source(path: Path) -> tuple[str, list[CellLine | None]]:
    """The code cells of a notebook as one Python source, and where each line came from.

    Line ``n`` of the source comes from ``line_map[n - 1]``. IPython magics (``%line`` and whole
    ``%%cell`` magics, except ``%%time``/``%%capture`` whose body is kept) and ``!shell`` lines
    become blank lines, so lines keep their numbers. Nothing is compiled here: the child checks
    the cells' syntax (``check_cells`` in child.py). An unreadable or too large notebook raises
    SubmissionError.
    """
    return _convert(Path(path))


def _convert(path: Path) -> tuple[str, list[CellLine | None]]:
    lines: list[str] = []
    line_map: list[CellLine | None] = []
    for number, cell in enumerate(_read_cells(path), start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        if not isinstance(source, str):
            raise SubmissionError(f"{path.name} is not a readable notebook (cell {number})")
        cell_lines = _strip_magics(source.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
        lines.extend(cell_lines)
        line_map.extend(CellLine(number, i) for i in range(1, len(cell_lines) + 1))
    return "\n".join(lines) + "\n", line_map


def _read_cells(path: Path) -> list:
    """The cells of a notebook (format 4, or 3 converted), read as bounded JSON: the file's size
    and its number of values are checked before it is parsed, and no schema is applied (only
    cells' types and sources are used)."""
    raw = _read(path, MAX_NOTEBOOK_BYTES)
    problem = json_problem(raw, MAX_NOTEBOOK_VALUES, depth=False)
    if problem is not None:
        raise SubmissionError(f"{path.name} is too large to grade: {problem}")
    try:
        notebook = json.loads(raw)
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
        reason = type(e).__name__
        raise SubmissionError(f"{path.name} is not a readable notebook ({reason})") from None
    if not isinstance(notebook, dict):
        raise SubmissionError(f"{path.name} is not a readable notebook")
    cells = notebook.get("cells")
    if cells is None and notebook.get("nbformat") == 3:  # cells inside worksheets
        worksheets = notebook.get("worksheets") or [{}]
        cells = worksheets[0].get("cells", []) if isinstance(worksheets[0], dict) else None
        if isinstance(cells, list):
            cells = [{**c, "source": c.get("input", "")} if isinstance(c, dict) else c
                     for c in cells]
    if cells is None:
        cells = []
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        raise SubmissionError(f"{path.name} is not a readable notebook")
    if len(cells) > MAX_CELLS:
        raise SubmissionError(f"{path.name} is too large to grade: {len(cells)} cells "
                              f"(the limit is {MAX_CELLS})")
    return cells


def _strip_magics(lines: list[str]) -> list[str]:
    """Blank out IPython magic and shell lines of one cell (same number of lines back)."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return lines
    head = lines[first].lstrip()
    if head.startswith("%%"):
        words = head[2:].split(maxsplit=1)
        if not words or words[0] not in PYTHON_CELL_MAGICS:
            return [""] * len(lines)
        lines = lines[:first] + [""] + lines[first + 1 :]
    candidates = [i for i, line in enumerate(lines) if line.lstrip().startswith(("%", "!"))]
    if not candidates:
        return lines
    starts = _statement_starts(lines)
    out = list(lines)
    for i in candidates:
        if starts is None or i in starts:
            out[i] = ""
    return out


def _statement_starts(lines: list[str]) -> set[int] | None:
    """0-based indexes of lines that begin a statement (not inside a string, brackets or a
    backslash continuation), with magic/shell lines skipped; None if the cell cannot be tokenized.
    """
    skip = {tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT}
    starts: set[int] = set()
    depth, at_start, magic_row = 0, True, -1
    readline = io.StringIO("\n".join(lines) + "\n").readline
    try:
        for tok in tokenize.generate_tokens(readline):
            row = tok.start[0] - 1
            if tok.type in (tokenize.NEWLINE, tokenize.NL) and (depth == 0 or row == magic_row):
                at_start = True
            if tok.type in skip or tok.type == tokenize.ENDMARKER or row == magic_row:
                continue
            if at_start:
                starts.add(row)
                at_start = False
                if lines[row].lstrip().startswith(("%", "!")):
                    magic_row = row
                    continue
            if tok.type == tokenize.OP and tok.string in ("(", "[", "{"):
                depth += 1
            elif tok.type == tokenize.OP and tok.string in (")", "]", "}"):
                depth = max(depth - 1, 0)
    except (tokenize.TokenError, SyntaxError):
        return None
    return starts
