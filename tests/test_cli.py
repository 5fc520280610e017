"""The `grade` command as a user runs it: output, exit status, one-line usage errors."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from conftest import REPO, SOLUTIONS
from grader.registry import EXERCISE_MODULES


def grade(*args: str, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def test_list_shows_every_exercise_with_title_and_points():
    done = grade("list")
    assert done.returncode == 0
    assert "ex01  Activation functions" in done.stdout
    assert "ex02  Loss functions" in done.stdout
    assert "points" in done.stdout


def test_solutions_get_full_marks_and_exit_0_with_plain_text_when_piped():
    done = grade("ex01", "--path", str(SOLUTIONS))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "\x1b[" not in done.stdout  # no colour codes in a pipe
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("Total for ex01: ") and last.split()[-1].split("/")[0] == \
        last.split()[-1].split("/")[1]
    assert "PASS" in done.stdout and "FAIL" not in done.stdout


def test_stubs_score_zero_exit_1_and_say_not_implemented():
    done = grade("ex02")  # default path: ./exercises
    assert done.returncode == 1
    assert "not implemented yet" in done.stdout
    assert "Total for ex02: 0/" in done.stdout


def test_json_output_has_the_gradescope_fields():
    done = grade("ex02", "--path", str(SOLUTIONS), "--format", "json")
    assert done.returncode == 0
    data = json.loads(done.stdout)
    assert {"exercise", "score", "max_score", "tests"} <= data.keys()
    assert data["exercise"] == "ex02" and data["score"] == data["max_score"]
    for test in data["tests"]:
        assert {"name", "score", "max_score", "status", "output"} <= test.keys()
        assert test["status"] == "passed"


@pytest.mark.slow  # grades or recomputes every exercise, Keras ones included
def test_all_grades_every_exercise_and_names_missing_files(tmp_path):
    (tmp_path / "ex01_activations.py").write_text((SOLUTIONS / "ex01_activations.py").read_text())
    done = grade("all", "--path", str(tmp_path))
    assert done.returncode == 1
    assert "ex01 Activation functions" in done.stdout
    assert "no ex02_losses.py or ex02_losses.ipynb" in done.stdout
    full = grade("all", "--path", str(SOLUTIONS), "--format", "json")
    assert full.returncode == 0
    data = json.loads(full.stdout)
    assert [e["exercise"] for e in data["exercises"]] == list(EXERCISE_MODULES)
    assert data["score"] == data["max_score"]


@pytest.mark.parametrize(("args", "needle"), [
    (("ex99",), "unknown exercise 'ex99'"),
    (("ex01", "--path", "no/such/file.py"), "no such file or folder"),
    (("ex01", "--format", "xml"), "xml"),
    (("ex01", "--path", "{empty}"), "no ex01_activations.py or ex01_activations.ipynb"),
])
def test_usage_errors_are_one_line_exit_2_and_no_traceback(tmp_path, args, needle):
    args = tuple(a.replace("{empty}", str(tmp_path)) for a in args)
    done = grade(*args)
    assert done.returncode == 2
    assert needle in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_notebook_with_syntax_error_names_cell_and_line(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# my work"),
        nbformat.v4.new_code_cell("import numpy as np"),
        nbformat.v4.new_code_cell("def softmax(x):\n    return np.exp(x) /"),
    ]
    path = tmp_path / "ex01_activations.ipynb"
    nbformat.write(notebook, path)
    done = grade("ex01", "--path", str(path))
    assert done.returncode == 1
    assert "SyntaxError" in done.stdout and "cell 3, line 2" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_notebook_solution_with_magics_gets_full_marks(tmp_path):
    source = (SOLUTIONS / "ex01_activations.py").read_text()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("%matplotlib inline\n!pip list\nimport numpy as np"),
        nbformat.v4.new_code_cell("%%time\nprint('a timed cell still runs')"),
        nbformat.v4.new_code_cell(source),
    ]
    path = tmp_path / "ex01_activations.ipynb"
    nbformat.write(notebook, path)
    done = grade("ex01", "--path", str(path))
    assert done.returncode == 0, done.stdout


def test_inside_the_exercises_folder_the_default_path_is_the_working_directory(tmp_path):
    (tmp_path / "ex02_losses.py").write_text((SOLUTIONS / "ex02_losses.py").read_text())
    done = grade("ex02", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "graded ex02_losses.py" in done.stdout
