"""``check("exNN")`` and ``%grade`` in a real Jupyter kernel (ipykernel + jupyter_client).

The kernel runs in a temporary folder with no notebook or exercise file anywhere, so what is
graded is only what its cells defined. One kernel serves the module; each test starts by
emptying its namespace (``%reset -f``) and its input history.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import SOLUTIONS, grade, replace_functions
from grader.formats import view
from grader.result import ExerciseResult

jupyter_client = pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

EX01 = (SOLUTIONS / "ex01_activations.py").read_text()
WRONG_SIGMOID = """
def sigmoid(x):
    return 1 / (1 + np.exp(x))
"""
SOFTMAX_WITHOUT_MAX = """
def softmax(x):
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)
"""


class Kernel:
    """A running kernel: ``run(code)`` executes one cell and returns what it showed."""

    def __init__(self, cwd: Path) -> None:
        self.manager, self.client = jupyter_client.manager.start_new_kernel(
            kernel_name="python3", cwd=str(cwd))

    def run(self, code: str, timeout: float = 120, store: bool = True) -> dict:
        """Execute ``code`` as a cell (not kept in the input history unless ``store``)."""
        out: dict = {"stdout": "", "stderr": "", "html": None, "plain": None, "error": None}

        def hook(message: dict) -> None:
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                out[content["name"]] += content["text"]
            elif kind in ("execute_result", "display_data"):
                out["html"] = content["data"].get("text/html", out["html"])
                out["plain"] = content["data"].get("text/plain", out["plain"])
            elif kind == "error":
                out["error"] = content["ename"] + ": " + content["evalue"]
                out["traceback"] = content["traceback"]

        self.client.execute_interactive(code, output_hook=hook, timeout=timeout,
                                        store_history=store)
        return out

    def value(self, expression: str):
        """The JSON value of ``expression`` in the kernel (the cell is not kept in the history:
        it uses ``r``, the result, which the graded code does not define)."""
        shown = self.run(f"import json as _j; print('VALUE=' + _j.dumps({expression}))",
                         store=False)
        assert shown["error"] is None, shown
        line = [x for x in shown["stdout"].splitlines() if x.startswith("VALUE=")][-1]
        return json.loads(line[len("VALUE="):])

    def result(self, call: str = 'check("ex01")') -> ExerciseResult:
        """Run ``r = <call>`` in a cell of its own; the result it returned."""
        shown = self.run(f"from grader import check\nr = {call}")
        assert shown["error"] is None, shown
        return ExerciseResult.from_json(self.value("r.result"))

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def kernel(tmp_path_factory) -> Kernel:
    cwd = tmp_path_factory.mktemp("kernel-cwd")
    k = Kernel(cwd)
    try:
        assert k.value("__import__('sys').executable") == sys.executable, (
            "the python3 kernelspec is not this venv's python")
        yield k
    finally:
        k.stop()


@pytest.fixture
def fresh(kernel: Kernel) -> Kernel:
    """The kernel with an empty namespace and input history."""
    reset = ("%reset -f\n_h = get_ipython().history_manager\n"
             "del _h.input_hist_raw[1:], _h.input_hist_parsed[1:], _h")
    shown = kernel.run(reset, store=False)
    assert shown["error"] is None, shown
    return kernel


def cells(source: str) -> list[str]:
    """``source`` split into cells at its ``# %%`` markers."""
    parts = source.split("\n# %%")
    return [parts[0], *("# %%" + p for p in parts[1:])]


def run_all(kernel: Kernel, source: str) -> None:
    for cell in cells(source):
        shown = kernel.run(cell)
        assert shown["error"] is None, shown


def file_result(tmp_path: Path, source: str) -> ExerciseResult:
    folder = tmp_path / "file"
    folder.mkdir()
    (folder / "ex01_activations.py").write_text(source)
    return grade("ex01", folder)


def statuses(result: ExerciseResult) -> dict[str, str]:
    return {c.name: c.status for c in result.checks}


def test_solution_in_cells_gets_full_marks_like_the_file(fresh: Kernel, tmp_path: Path):
    assert len(cells(EX01)) > 3
    run_all(fresh, EX01)
    result = fresh.result()
    assert result.full_marks and result.score == result.max_score > 0
    assert statuses(result) == statuses(file_result(tmp_path, EX01))
    assert fresh.value("r.score") == result.score
    assert fresh.value("r.max_score") == result.max_score
    assert fresh.value("[c.status for c in r.checks]") == [c.status for c in result.checks]


def test_buggy_definition_is_diagnosed_like_the_file(fresh: Kernel, tmp_path: Path):
    buggy = replace_functions(EX01, {"softmax": SOFTMAX_WITHOUT_MAX})
    run_all(fresh, buggy)
    result = fresh.result()
    expected = file_result(tmp_path, buggy)
    assert not result.full_marks
    assert statuses(result) == statuses(expected)
    assert view.check_messages(result) == view.check_messages(expected)
    assert any(m.startswith(view.MISTAKE_LABEL) for m in view.check_messages(result))
    assert view.MISTAKE_LABEL in fresh.run("r", store=False)["html"]


def test_redefinition_after_a_check_is_graded_in_its_new_form(fresh: Kernel):
    run_all(fresh, replace_functions(EX01, {"sigmoid": WRONG_SIGMOID}))
    first = fresh.result()
    assert statuses(first)["sigmoid matches the reference"] == "failed"
    sigmoid = replace_functions(EX01, {}).split("def sigmoid(x):")[1].split("\n# %%")[0]
    fresh.run("def sigmoid(x):" + sigmoid)
    second = fresh.result()
    assert second.full_marks, [c for c in second.checks if not c.passed]


def test_patching_the_grader_in_the_kernel_changes_nothing(fresh: Kernel):
    run_all(fresh, replace_functions(EX01, {"sigmoid": WRONG_SIGMOID}))
    honest = fresh.result()
    patch = textwrap.dedent("""
        import grader, grader.engine, grader.result, grader.notebook, grader.notebook.grading
        from grader.notebook import display, run, history
        grader.engine.grade_submission = lambda *a, **k: 1 / 0
        grader.result.CheckResult.passed = property(lambda self: True)
        grader.result.ExerciseResult.score = property(lambda self: 999)
        grader.notebook.check = lambda *a, **k: 'fake'
        grader.notebook.grading.check = lambda *a, **k: 'fake'
        grader.notebook.grading._run = lambda *a, **k: {'error': 'fake'}
        history.collect = lambda *a, **k: 1 / 0
        display.NotebookResult._repr_html_ = lambda self: 'all passed'
        run.grade = lambda request: 1 / 0
    """)
    assert fresh.run(patch)["error"] is None
    patched = fresh.result()
    assert patched.score == honest.score < patched.max_score
    assert statuses(patched) == statuses(honest)
    assert fresh.value("r.score") == honest.score
    html = fresh.run("r", store=False)["html"]
    assert "all passed" not in html and "FAIL" in html


@pytest.mark.slow
def test_endless_loop_costs_points_and_the_kernel_lives(fresh: Kernel):
    run_all(fresh, EX01)
    fresh.run("def relu(x):\n    while True:\n        pass\n")
    result = fresh.result('check("ex01", timeout=1.0)')
    failed = [c for c in result.checks if not c.passed]
    assert failed and all("relu" in c.name or c.kind in ("timeout", "budget") for c in failed)
    assert any(c.kind == "timeout" for c in failed)
    assert fresh.run("1+1")["plain"] == "2"


def test_magics_and_shell_lines_do_not_break_grading(fresh: Kernel):
    parts = cells(EX01)
    fresh.run("%load_ext grader")
    fresh.run("%%capture\n!echo hello")
    fresh.run("%%time\n" + parts[0])
    for part in parts[1:]:
        fresh.run("%matplotlib inline\n!echo shell\n" + part + "\n%who")
    fresh.run("def broken(:\n    pass")  # a SyntaxError IPython records in its history
    shown = fresh.run("%grade ex01")
    assert shown["error"] is None, shown
    assert "Total for ex01: 25/25" in shown["plain"], shown["plain"]
    assert "<table" in shown["html"]


def test_html_table_names_each_check_and_escapes_learner_output(fresh: Kernel):
    run_all(fresh, EX01)
    fresh.run("print('<script>alert(1)</script>')")
    html = fresh.run('from grader import check\ncheck("ex01")')["html"]
    result = fresh.result()
    assert "<table" in html
    for c in result.checks:
        assert view.clip(c.name).replace("<", "&lt;").replace(">", "&gt;") in html
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_unknown_exercise_is_one_line(fresh: Kernel):
    shown = fresh.run('from grader import check\ncheck("ex99")')
    assert shown["error"].startswith("NotebookCheckError: unknown exercise 'ex99'")
    assert len(shown["traceback"]) == 1
    assert "unknown exercise" in fresh.run("%grade ex99")["stdout"]


def test_outside_ipython_grades_the_exercises_folder(tmp_path: Path):
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "ex01_activations.py").write_text(EX01)
    code = ("import grader, sys; r = grader.check('ex01'); print(r.score, r.max_score); "
            "print(r.notes[0]); print('IPython' in sys.modules, 'numpy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, check=True)
    lines = done.stdout.splitlines()
    assert lines[0] == "25.0 25.0"
    assert "exercises/ex01_activations.py" in lines[1]
    assert lines[2] == "False False"
    done = subprocess.run([sys.executable, "-c", "import grader; grader.check('ex01')"],
                          cwd=tmp_path / "exercises" / "..", capture_output=True, text=True)
    empty = subprocess.run([sys.executable, "-c", "import grader; grader.check('ex02')"],
                           cwd=tmp_path, capture_output=True, text=True)
    assert empty.returncode == 1 and "no ex02_losses.py" in empty.stderr.splitlines()[-1]


@pytest.mark.slow
def test_ex06_uses_earlier_exercises_defined_in_the_kernel(fresh: Kernel):
    for module in ("ex01_activations", "ex03_gradient", "ex05_layers"):
        run_all(fresh, (SOLUTIONS / f"{module}.py").read_text())
    ex06 = (SOLUTIONS / "ex06_two_layer_net.py").read_text()
    # In a kernel alone these imports fail (no files); the names are defined above.
    ex06 = ex06.replace("from ex03_gradient import", "# from ex03_gradient import")
    ex06 = ex06.replace("from ex05_layers import", "# from ex05_layers import")
    run_all(fresh, ex06)
    fresh.result('check("ex06")')
    notes = fresh.value("r.notes")
    assert "ex03_gradient: taken from this kernel" in notes
    assert "ex05_layers: taken from this kernel" in notes
    assert fresh.value("r.score") == fresh.value("r.max_score")
