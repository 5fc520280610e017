"""locate(), notebook conversion and the files put in front of the learner's import path."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from grader.runner.child import check_cells
from grader.runner.submission import (
    CellLine,
    NotebookSyntaxError,
    SubmissionError,
    collect_sources,
    locate,
    notebook_to_source,
    other_file,
)

Writer = Callable[[Path, str, str], Path]


def notebook(folder: Path, name: str, cells: list[tuple[str, str]]) -> Path:
    """Write a notebook of ("code" | "markdown", source) cells."""
    nb = nbformat.v4.new_notebook()
    for kind, source in cells:
        new = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        nb.cells.append(new(source))
    path = folder / name
    nbformat.write(nb, str(path))
    return path


def set_mtime(path: Path, mtime: float) -> None:
    os.utime(path, (mtime, mtime))


def test_a_file_is_graded_as_the_module_whatever_its_name(tmp_path: Path, write: Writer) -> None:
    path = write(tmp_path, "my attempt.py", "x = 1\n")
    sub = locate(path, "ex01_activations")
    assert (sub.module, sub.graded_file, sub.search_dir) == ("ex01_activations", path, None)
    nb = notebook(tmp_path, "draft.ipynb", [("code", "x = 1")])
    assert locate(nb, "ex01_activations").graded_file == nb


def test_a_folder_gives_the_module_file(tmp_path: Path, write: Writer) -> None:
    write(tmp_path, "ex01_activations.py", "")
    write(tmp_path, "ex02_losses.py", "")
    sub = locate(tmp_path, "ex02_losses")
    assert sub.graded_file == tmp_path / "ex02_losses.py"
    assert sub.search_dir == tmp_path


@pytest.mark.parametrize(
    ("py_time", "nb_time", "winner"),
    [(100, 200, ".ipynb"), (200, 100, ".py"), (150, 150, ".py")],
)
def test_newer_of_py_and_ipynb_wins_ties_go_to_py(
    tmp_path: Path, write: Writer, py_time: int, nb_time: int, winner: str
) -> None:
    set_mtime(write(tmp_path, "ex01_activations.py", ""), py_time)
    set_mtime(notebook(tmp_path, "ex01_activations.ipynb", []), nb_time)
    assert locate(tmp_path, "ex01_activations").graded_file.suffix == winner


STUB = 'def f(x):\n    raise NotImplementedError("f is not implemented yet")\n'


@pytest.mark.parametrize(("py_source", "nb_source", "winner"), [
    ("def f(x):\n    return x\n", STUB, ".py"),  # worked in the .py, notebook opened later
    (STUB, "def f(x):\n    return x\n", ".ipynb"),
])
def test_the_file_with_fewer_untouched_stubs_wins_over_a_newer_one(
    tmp_path: Path, write: Writer, py_source: str, nb_source: str, winner: str
) -> None:
    set_mtime(write(tmp_path, "ex01_activations.py", py_source), 100 if winner == ".py" else 200)
    set_mtime(notebook(tmp_path, "ex01_activations.ipynb", [("code", nb_source)]),
              200 if winner == ".py" else 100)
    submission = locate(tmp_path, "ex01_activations")
    assert submission.graded_file.suffix == winner
    other = other_file(submission)
    assert other is not None and other.suffix != winner


def test_locate_error_messages(
    tmp_path: Path, write: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exercises").mkdir()
    with pytest.raises(SubmissionError) as info:
        locate(Path("exercises"), "ex01_activations")
    assert str(info.value) == "no ex01_activations.py or ex01_activations.ipynb in exercises/"
    with pytest.raises(SubmissionError, match="^missing.py does not exist$"):
        locate(Path("missing.py"), "ex01_activations")
    write(tmp_path, "notes.txt", "")
    with pytest.raises(SubmissionError, match=r"^notes.txt is not a .py file or a .ipynb"):
        locate(Path("notes.txt"), "ex01_activations")


CELLS = [
    ("markdown", "# Exercise 1"),  # cell 1
    ("code", "%matplotlib inline\nimport numpy as np\n!pip install numpy"),  # cell 2
    ("markdown", "Write softmax."),  # cell 3
    ("code", "%%bash\necho hi\n"),  # cell 4: a shell cell, dropped whole
    ("code", "def f(x):\n    %time y = 1\n    return x + 1\n"),  # cell 5
    ("code", '%%time\nDOC = """\n%d items\n!not a shell line\n"""\n'),  # cell 6
    ("code", "total = (1\n        % 2)\n"),  # cell 7: % continues an expression
]


def test_notebook_conversion_drops_magics_and_maps_lines(tmp_path: Path) -> None:
    source, line_map = notebook_to_source(notebook(tmp_path, "nb.ipynb", CELLS))
    lines = source.splitlines()
    assert len(lines) == len(line_map)
    placed = {(c.cell, c.line): text for c, text in zip(line_map, lines, strict=True)}
    assert placed[(2, 1)] == "" and placed[(2, 3)] == ""
    assert placed[(2, 2)] == "import numpy as np"
    assert placed[(4, 1)] == "" and placed[(4, 2)] == ""
    assert placed[(5, 2)] == "" and placed[(5, 3)] == "    return x + 1"
    assert placed[(6, 1)] == "" and placed[(6, 3)] == "%d items"
    assert placed[(6, 4)] == "!not a shell line"
    assert placed[(7, 2)] == "        % 2)"
    assert all(c is None or isinstance(c, CellLine) for c in line_map)
    namespace: dict = {}
    exec(compile(source, "nb", "exec"), namespace)  # test-only: our own notebook
    assert namespace["f"](1) == 2 and namespace["DOC"] == "\n%d items\n!not a shell line\n"
    assert namespace["total"] == 1


def test_notebook_syntax_error_names_cell_and_line(tmp_path: Path) -> None:
    cells = [("markdown", "m"), ("code", "x = 1"), ("markdown", "m"), ("code", "y = 2\nz = = 3")]
    path = notebook(tmp_path, "nb.ipynb", cells)
    source, _ = notebook_to_source(path)  # converting never compiles: the child checks
    [graded] = collect_sources(locate(path, "ex01_activations"))
    assert graded.cells == ((2, 1, 1), (4, 2, 2))
    assert check_cells(source, graded.cells) == "SyntaxError in cell 4, line 2: invalid syntax"
    assert issubclass(NotebookSyntaxError, SubmissionError)


def test_unreadable_notebook_is_a_submission_error(tmp_path: Path, write: Writer) -> None:
    path = write(tmp_path, "nb.ipynb", "{ not json")
    with pytest.raises(SubmissionError, match=r"^nb.ipynb is not a readable notebook"):
        notebook_to_source(path)


def test_collect_sources_takes_exercise_siblings_only(tmp_path: Path, write: Writer) -> None:
    write(tmp_path, "ex01_activations.py", "A = 1\n")
    set_mtime(write(tmp_path, "ex02_losses.py", "OLD = 1\n"), 100)
    set_mtime(notebook(tmp_path, "ex02_losses.ipynb", [("code", "NEW = 1")]), 200)
    write(tmp_path, "helpers.py", "")
    write(tmp_path, "ex03_broken.ipynb", "{ not json")
    files = {f.module: f for f in collect_sources(locate(tmp_path, "ex01_activations"))}
    assert sorted(files) == ["ex01_activations", "ex02_losses", "ex03_broken"]
    assert files["ex02_losses"].data == b"NEW = 1\n" and files["ex02_losses"].line_map
    assert files["ex03_broken"].data.startswith(b"raise ImportError(")
    assert files["ex01_activations"].line_map is None


def test_collect_sources_of_a_lone_file_has_no_siblings(tmp_path: Path, write: Writer) -> None:
    write(tmp_path, "ex02_losses.py", "")
    path = write(tmp_path, "mine.py", "x = 1\n")
    [only] = collect_sources(locate(path, "ex01_activations"))
    assert (only.module, only.display, only.filename) == (
        "ex01_activations",
        "mine.py",
        "ex01_activations.py",
    )
