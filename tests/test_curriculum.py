"""Every exercise: the solutions get full marks (as .py files and as notebooks), and the
untouched stubs get zero, every check saying "not implemented yet"."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from conftest import EXERCISES, SOLUTIONS, grade
from grader.authoring.stubs import parse_percent
from grader.registry import EXERCISE_MODULES, load
from grader.runner.limits import Limits

IDS = list(EXERCISE_MODULES)


def limits_of(exercise_id: str) -> Limits:
    """The exercise's own limits (ex08 trains for a while), else the tests' short ones."""
    from conftest import TEST_LIMITS

    return load(exercise_id).limits or TEST_LIMITS


@pytest.mark.parametrize("exercise_id", IDS)
def test_solutions_get_full_marks(exercise_id):
    result = grade(exercise_id, SOLUTIONS, limits_of(exercise_id))
    assert result.error is None and result.notes == []
    assert [(c.name, c.output) for c in result.checks if not c.passed] == []
    assert result.score == result.max_score > 0


@pytest.mark.parametrize("exercise_id", IDS)
def test_untouched_stubs_get_zero_and_say_not_implemented(exercise_id):
    result = grade(exercise_id, EXERCISES, limits_of(exercise_id))
    assert result.error is None
    assert result.score == 0
    assert all("not implemented yet" in c.output for c in result.checks), [
        c.output for c in result.checks if "not implemented yet" not in c.output]


@pytest.mark.parametrize("exercise_id", IDS)
def test_solutions_written_as_notebooks_get_full_marks(tmp_path, exercise_id):
    """Every solution, one notebook cell per percent cell, beside its .py siblings."""
    module = load(exercise_id).module
    for sibling in SOLUTIONS.glob("ex*.py"):
        if sibling.stem != module:
            shutil.copy(sibling, tmp_path)
    cells = parse_percent((SOLUTIONS / f"{module}.py").read_text())
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(c.text) if c.kind == "code"
        else nbformat.v4.new_markdown_cell(c.text)
        for c in cells
    ]
    nbformat.write(notebook, tmp_path / f"{module}.ipynb")
    result = grade(exercise_id, tmp_path, limits_of(exercise_id))
    assert result.graded_file.endswith(".ipynb")
    assert [(c.name, c.output) for c in result.checks if not c.passed] == []
