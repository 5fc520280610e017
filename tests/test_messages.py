"""Messages a learner reads to the end (issue 11, section 5): an error that stops the grading is
said once; the ungraded twin (.py or .ipynb) is named only when it holds the learner's other
work; "Likely mistake:" in every format; one mistake explained once across its checks."""

from __future__ import annotations

import ast
import io
import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest

from conftest import EXERCISES, SOLUTIONS, grade, write_variant
from grader import engine, report
from grader.batch.outputs import _write_feedback
from grader.engine import NOT_RUN_IMPORT, NOT_RUN_UNREADABLE, ungraded_result
from grader.formats import view
from grader.formats.gradescope import gradescope
from grader.formats.html import html
from grader.formats.junit import junit
from grader.formats.markdown import markdown
from grader.registry import load
from grader.result import CheckResult, ExerciseResult
from grader.runner.submission import (
    STUB_DIGESTS,
    SubmissionError,
    code_digest,
    locate,
    notebook_to_source,
    other_file,
)

MODULE = "ex01_activations"


def text_report(result: ExerciseResult) -> str:
    """The plain text report (as piped) of one exercise."""
    buffer = io.StringIO()
    report.render_text(result, report.make_console(buffer))
    return buffer.getvalue()


def every_format(result: ExerciseResult) -> dict[str, str]:
    """The reports of ``result`` that a learner reads, by name."""
    return {
        "text": text_report(result),
        "markdown": markdown([result]),
        "html": html([result]),
        "junit": "\n".join(ET.fromstring(junit([result])).itertext()),  # what a viewer shows
        "gradescope": json.dumps(gradescope([result])),
        "json": report.to_json([result], single=True),
    }


# --- 1. an import error is said once ------------------------------------------------------------

@pytest.fixture(scope="module")
def import_error(tmp_path_factory) -> ExerciseResult:
    folder = tmp_path_factory.mktemp("syntax")
    (folder / f"{MODULE}.py").write_text("import numpy as np\nMARKER_LINE = (\n")
    return grade("ex01", folder / f"{MODULE}.py")


def test_an_import_error_fails_every_check_without_points_and_each_check_only_refers_to_it(
        import_error):
    assert "SyntaxError" in import_error.error
    assert import_error.score == 0 and import_error.max_score == load("ex01").max_score
    assert len(import_error.checks) == len([c for c in load("ex01").checks if not c.hidden])
    assert all(not c.passed and c.score == 0 for c in import_error.checks)
    assert {c.output for c in import_error.checks} == {NOT_RUN_IMPORT}


@pytest.mark.parametrize("name", ["text", "markdown", "html", "junit", "gradescope", "json"])
def test_every_format_shows_the_import_error_once(import_error, name):
    document = every_format(import_error)[name]
    assert document.count("SyntaxError") == 1, document
    assert document.count("not run: the file does not import") == len(import_error.checks)


def test_the_text_report_says_the_error_before_the_checks(import_error):
    lines = text_report(import_error).splitlines()
    error_line = next(i for i, line in enumerate(lines) if "SyntaxError" in line)
    first_check = next(i for i, line in enumerate(lines) if line.startswith("FAIL"))
    assert error_line < first_check


def test_gradescope_has_the_error_in_its_output_and_short_tests(import_error):
    data = gradescope([import_error])
    assert "SyntaxError" in data["output"] and data["output"].count("SyntaxError") == 1
    assert all(test["output"] == NOT_RUN_IMPORT for test in data["tests"])
    assert data["score"] == 0 and data["max_score"] == load("ex01").max_score


def test_junit_has_the_error_once_in_the_suites_system_err(import_error):
    suite = ET.fromstring(junit([import_error])).find("testsuite")
    assert "SyntaxError" in suite.find("system-err").text
    messages = {case.find("failure").get("message") for case in suite.findall("testcase")}
    assert messages == {NOT_RUN_IMPORT}


def test_an_unreadable_notebook_is_said_once_too(tmp_path):
    path = tmp_path / f"{MODULE}.ipynb"
    path.write_text("{ this is not json")
    result = grade("ex01", path)
    assert "not a readable notebook" in result.error
    assert {c.output for c in result.checks} == {NOT_RUN_IMPORT}
    assert text_report(result).count("not a readable notebook") == 1


def test_a_file_the_session_cannot_read_is_said_once(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise SubmissionError(f"cannot read {MODULE}.py: Permission denied")

    monkeypatch.setattr(engine, "Session", refuse)
    result = grade("ex01", SOLUTIONS / f"{MODULE}.py")
    assert result.error == f"cannot read {MODULE}.py: Permission denied" and result.score == 0
    assert {c.output for c in result.checks} == {NOT_RUN_UNREADABLE}
    assert text_report(result).count("Permission denied") == 1


def test_a_notebook_syntax_error_is_said_once_with_its_cell(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import numpy as np"),
                      nbformat.v4.new_code_cell("def softmax(x):\n    return np.exp(x) /")]
    path = tmp_path / f"{MODULE}.ipynb"
    nbformat.write(notebook, path)
    result = grade("ex01", path)
    shown = text_report(result)
    assert shown.count("cell 2, line 2") == 1 and shown.count("SyntaxError") == 1, shown


def test_the_batch_feedback_files_say_the_error_once(import_error, tmp_path):
    missing = ungraded_result(load("ex02"), "no ex02_losses.py or ex02_losses.ipynb in work/")
    _write_feedback(tmp_path, {"student": "alice",
                               "results": {"ex01": import_error, "ex02": missing}})
    for name in ("feedback.md", "feedback.html", "junit.xml", "results.json"):
        text = (tmp_path / name).read_text()
        assert text.count("SyntaxError") == 1, name
        assert text.count("no ex02_losses.py or ex02_losses.ipynb") == 1, name


def test_a_correct_file_shows_no_error_and_no_not_run():
    result = grade("ex02", SOLUTIONS / "ex02_losses.py")
    assert result.full_marks and result.error is None
    assert "not run" not in text_report(result)


# --- 2. the twin that was not graded --------------------------------------------------------------

def fresh_copy(folder: Path) -> Path:
    """``folder`` holding the untouched ex01 stub and notebook, as a fresh checkout has them."""
    folder.mkdir()
    for suffix in (".py", ".ipynb"):
        shutil.copyfile(EXERCISES / f"{MODULE}{suffix}", folder / f"{MODULE}{suffix}")
    return folder


def stub_line(name: str) -> str:
    return f'raise NotImplementedError("{name} is not implemented yet")'


def edit_py(folder: Path, name: str, body: str) -> None:
    path = folder / f"{MODULE}.py"
    text = path.read_text()
    assert stub_line(name) in text
    path.write_text(text.replace(stub_line(name), body))


def edit_notebook(folder: Path, name: str, body: str) -> None:
    path = folder / f"{MODULE}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    cells = [cell for cell in notebook.cells if stub_line(name) in cell.source]
    assert len(cells) == 1
    cells[0].source = cells[0].source.replace(stub_line(name), body)
    nbformat.write(notebook, path)


def set_mtime(folder: Path, suffix: str, seconds: int) -> None:
    os.utime(folder / f"{MODULE}{suffix}", (seconds, seconds))


def twin(folder: Path) -> Path | None:
    return other_file(locate(folder, MODULE))


def test_the_stored_stub_digests_are_those_of_the_exercises_folder():
    stored = json.loads(STUB_DIGESTS.read_text())
    assert set(stored) == {p.stem for p in EXERCISES.glob("ex*.py")}
    for module, digest in stored.items():
        py = code_digest((EXERCISES / f"{module}.py").read_text())
        notebook = code_digest(notebook_to_source(EXERCISES / f"{module}.ipynb")[0])
        assert py == notebook == digest, \
            f"{module}: run `python -m grader.authoring.stubs` to update {STUB_DIGESTS.name}"


def test_a_fresh_checkout_names_no_twin(tmp_path):
    folder = fresh_copy(tmp_path / "exercises")
    assert twin(folder) is None
    result = grade("ex01", folder)
    assert result.other_file is None and "also exists" not in text_report(result)
    assert "other_file" not in result.to_json()


def test_work_in_the_graded_file_only_names_no_twin(tmp_path):
    py_only = fresh_copy(tmp_path / "py")
    edit_py(py_only, "identity_function", "return x")
    set_mtime(py_only, ".ipynb", 2_000_000_000)  # the notebook opened (saved) later
    assert locate(py_only, MODULE).graded_file.suffix == ".py"
    assert twin(py_only) is None
    notebook_only = fresh_copy(tmp_path / "notebook")
    edit_notebook(notebook_only, "identity_function", "return x")
    assert locate(notebook_only, MODULE).graded_file.suffix == ".ipynb"
    assert twin(notebook_only) is None


def test_work_in_the_notebook_while_the_newer_py_is_graded_names_the_notebook(tmp_path):
    folder = fresh_copy(tmp_path / "exercises")
    edit_notebook(folder, "identity_function", "return x")
    edit_py(folder, "relu", "return np.maximum(0, x)")
    set_mtime(folder, ".ipynb", 1_000_000_000)
    set_mtime(folder, ".py", 2_000_000_000)
    assert locate(folder, MODULE).graded_file.suffix == ".py"
    assert twin(folder) == (folder / f"{MODULE}.ipynb").absolute()
    result = grade("ex01", folder)
    assert result.other_file and result.other_file.endswith(f"{MODULE}.ipynb")
    assert "also exists and was not graded; --path chooses" in text_report(result)


def test_an_edited_notebook_beside_an_untouched_newer_py_is_named(tmp_path):
    """A notebook cell of experiments (no stub finished) ties on stubs; the newer .py wins."""
    folder = fresh_copy(tmp_path / "exercises")
    edit_notebook(folder, "identity_function",
                  'print("trying")\n    ' + stub_line("identity_function"))
    set_mtime(folder, ".ipynb", 1_000_000_000)
    set_mtime(folder, ".py", 2_000_000_000)
    assert locate(folder, MODULE).graded_file.suffix == ".py"
    assert twin(folder) is not None


def test_the_same_code_in_both_forms_names_no_twin(tmp_path):
    folder = fresh_copy(tmp_path / "exercises")
    edit_py(folder, "identity_function", "return x  # done")
    edit_notebook(folder, "identity_function", "return x  # done")
    assert twin(folder) is None


def test_an_unreadable_twin_counts_as_changed(tmp_path):
    folder = fresh_copy(tmp_path / "exercises")
    stubs = (folder / f"{MODULE}.py").read_text().count("is not implemented yet")
    (folder / f"{MODULE}.ipynb").write_text("{ broken " + "is not implemented yet " * (stubs + 1))
    assert locate(folder, MODULE).graded_file.suffix == ".py"
    assert twin(folder) == (folder / f"{MODULE}.ipynb").absolute()


def test_a_lone_file_has_no_twin():
    assert other_file(locate(EXERCISES / f"{MODULE}.py", MODULE)) is None


def test_code_digest_ignores_comments_blank_lines_and_trailing_spaces_only():
    assert code_digest("# %%\nx = 1   \n\n# note\n") == code_digest("x = 1\n")
    assert code_digest("x = 1\n") != code_digest("x = 2\n")
    assert code_digest("x = 1  # a\n") != code_digest("x = 1\n")  # an edited line is code


# --- 3. "Likely mistake:" in every format ---------------------------------------------------------

EXPLANATION = ("mean_squared_error sums the squared errors where it must average them: "
               "divide by the number of elements, as Keras' mse does")


def diagnosed(name: str, detail: str, diagnosis: str = "mse not averaged",
              explanation: str = EXPLANATION, hidden: bool = False) -> CheckResult:
    return CheckResult(name, 0.0, 1.0, "failed", f"{explanation}. {detail}",
                       diagnosis=diagnosis, hidden=hidden)


def one_mistake() -> ExerciseResult:
    return ExerciseResult("ex02", "Loss functions", "ex02_losses.py", checks=[
        diagnosed("mean_squared_error matches the reference", "largest error 3 at index (1,)"),
        CheckResult("sum_squared_error matches the reference", 1.0, 1.0, "passed", "ok"),
    ])


@pytest.mark.parametrize("name", ["text", "markdown", "html", "junit", "gradescope", "json"])
def test_every_format_says_likely_mistake_before_the_explanation(name):
    document = every_format(one_mistake())[name]
    assert "Likely mistake: mean_squared_error sums the squared errors" in \
        document.replace("\\_", "_").replace("&#x27;", "'"), document


def test_gradescope_and_json_outputs_are_the_tables_words():
    result = one_mistake()
    table = [line for line in text_report(result).splitlines() if line.startswith("FAIL")]
    assert table == ["FAIL     0/1  mean_squared_error matches the reference: Likely mistake: "
                     f"{EXPLANATION}. largest error 3 at index (1,)"]
    said = table[0].split("reference: ", 1)[1]
    assert gradescope([result])["tests"][0]["output"] == said
    assert json.loads(report.to_json([result], single=True))["tests"][0]["output"] == said
    assert gradescope([result])["tests"][0]["extra_data"]["diagnosis"] == "mse not averaged"


def test_not_implemented_and_undiagnosed_failures_get_no_label():
    result = ExerciseResult("ex02", "Loss functions", "ex02_losses.py", checks=[
        CheckResult("a", 0.0, 1.0, "failed", "a is not implemented yet",
                    diagnosis="not implemented"),
        CheckResult("b", 0.0, 1.0, "failed", "Likely mistake: typed by the learner"),
    ])
    assert view.check_messages(result) == ["a is not implemented yet",
                                           "Likely mistake: typed by the learner"]


def test_a_real_diagnosis_reads_alike_in_the_table_and_gradescope(tmp_path):
    path = write_variant(tmp_path, "ex02_losses", {"mean_squared_error": """
        def mean_squared_error(y, t):
            return 0.5 * np.sum((y - t) ** 2)
    """})
    result = grade("ex02", path)
    named = [c for c in result.checks if view.mistake(c)]
    assert named, [(c.name, c.output) for c in result.checks if not c.passed]
    tests = {t["name"]: t["output"] for t in gradescope([result])["tests"]}
    table = text_report(result)
    for check in named:
        message = tests[f"ex02: {check.name}"]
        assert message.startswith(("Likely mistake: ", "same mistake as above: "))
        assert f"{check.name}: {message}" in table


# --- 4. one mistake, explained once ---------------------------------------------------------------

def repeated_mistake() -> ExerciseResult:
    return ExerciseResult("ex02", "Loss functions", "ex02_losses.py", checks=[
        diagnosed("mse on a batch", "largest error 3 at index (1,)"),
        CheckResult("sse on a batch", 1.0, 1.0, "passed", "ok"),
        diagnosed("mse on one sample", "largest error 0.5 at index (0,)"),
        diagnosed("mse is a scalar", "largest error 0.5 at index (0,)"),
        diagnosed("mse keeps its input", "", explanation=EXPLANATION),
    ])


def test_later_checks_with_the_same_mistake_refer_to_the_first():
    messages = view.check_messages(repeated_mistake())
    assert messages[0] == f"Likely mistake: {EXPLANATION}. largest error 3 at index (1,)"
    assert messages[1] == "ok"
    assert messages[2] == "same mistake as above: mse not averaged. largest error 0.5 at index (0,)"
    assert messages[3] == messages[2]
    assert messages[4] == "same mistake as above: mse not averaged"


@pytest.mark.parametrize("name", ["text", "markdown", "html", "junit", "gradescope", "json"])
def test_every_format_explains_a_repeated_mistake_once(name):
    document = every_format(repeated_mistake())[name].replace("\\_", "_").replace("&#x27;", "'")
    assert document.count(EXPLANATION) == 1, document
    assert document.count("same mistake as above: mse not averaged") == 3


def test_the_explanation_is_shared_at_the_end_too():
    """Some checks put their own finding first: "loss curve: <explanation>"."""
    result = ExerciseResult("ex08", "Training", "ex08_training.py", checks=[
        CheckResult(name, 0.0, 1.0, "failed", f"{what}: {EXPLANATION}", diagnosis="same batch")
        for name, what in (("losses", "the loss never falls"), ("accuracy", "accuracy is flat"))
    ])
    assert view.check_messages(result) == [
        f"Likely mistake: the loss never falls: {EXPLANATION}",
        "same mistake as above: same batch. accuracy is flat"]


def test_different_mistakes_or_explanations_are_each_said_in_full():
    other = "cross_entropy_error takes the log of 0: add a small delta such as 1e-7 inside"
    result = ExerciseResult("ex02", "Loss functions", "ex02_losses.py", checks=[
        diagnosed("mse", "largest error 3"),
        diagnosed("cee", "largest error 9", diagnosis="no delta", explanation=other),
        diagnosed("mse again", "largest error 4", explanation="mean_squared_error halves: "
                  "the book's 0.5 belongs to sum_squared_error, not here"),
    ])
    messages = view.check_messages(result)
    assert all(m.startswith("Likely mistake: ") for m in messages), messages
    assert other in messages[1]


def test_a_short_common_start_is_not_an_explanation():
    result = ExerciseResult("ex02", "Loss functions", "ex02_losses.py", checks=[
        CheckResult("a", 0.0, 1.0, "failed", "wrong. largest error 3", diagnosis="d"),
        CheckResult("b", 0.0, 1.0, "failed", "wrong. largest error 4", diagnosis="d"),
    ])
    assert view.check_messages(result) == ["Likely mistake: wrong. largest error 3",
                                           "Likely mistake: wrong. largest error 4"]


def test_hidden_checks_never_refer_to_or_serve_as_the_explanation():
    result = ExerciseResult("ex02", "Loss functions", "ex02_losses.py", checks=[
        diagnosed("hidden mse", "secret input", hidden=True),
        diagnosed("mse", "largest error 3"),
        diagnosed("hidden mse 2", "secret input 2", hidden=True),
    ])
    messages = view.check_messages(result)
    assert messages[1] == f"Likely mistake: {EXPLANATION}. largest error 3"  # said in full
    assert messages[2].startswith("Likely mistake: ")  # instructors see hidden ones whole
    learner = view.check_messages(result.redacted())
    assert learner == ["hidden check failed", f"Likely mistake: {EXPLANATION}. largest error 3",
                       "hidden check failed"]


def without_bias_correction(source: str) -> str:
    """The reference ex07 with Adam's bias-corrected ``lr_t = ...`` replaced by ``lr_t = self.lr``
    (found in the syntax tree, so that the reference's wording of it does not matter)."""
    adam = next(node for node in ast.parse(source).body
                if isinstance(node, ast.ClassDef) and node.name == "Adam")
    line = next(node for node in ast.walk(adam) if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "lr_t" for t in node.targets))
    lines = source.splitlines(keepends=True)
    indent = " " * line.col_offset
    lines[line.lineno - 1 : line.end_lineno] = [f"{indent}lr_t = self.lr\n"]
    return "".join(lines)


def test_a_real_mistake_failing_two_checks_is_explained_once(tmp_path):
    path = tmp_path / "ex07_optimizers.py"
    path.write_text(without_bias_correction((SOLUTIONS / "ex07_optimizers.py").read_text()))
    result = grade("ex07", path)
    adam = [c for c in result.checks if not c.passed]
    assert len(adam) >= 2 and {c.diagnosis for c in adam} == {"Adam without bias correction"}
    explanation = adam[0].output.split(". ")[0]
    assert len(explanation) > 50 and all(c.output.startswith(explanation) for c in adam)
    shown = text_report(result)  # the checks repeat the explanation, the report does not
    assert shown.count(explanation) == 1, shown
    assert shown.count("same mistake as above: Adam without bias correction") == len(adam) - 1
