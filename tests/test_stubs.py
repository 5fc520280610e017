"""The learner's stubs and notebooks in exercises/ are generated correctly from solutions/."""

import ast
import importlib.util
import inspect
import re
import sys
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
if importlib.util.find_spec("grader") is None:
    sys.path.insert(0, str(REPO))

from grader.authoring import stubs  # noqa: E402

SOLUTIONS = REPO / "solutions"
EXERCISES = REPO / "exercises"

# The names the spec (EXERCISES.md) lists for each exercise (the grader looks them up).
SPEC_NAMES = {
    "ex01_activations": [
        "identity_function",
        "step_function",
        "sigmoid",
        "sigmoid_grad",
        "tanh",
        "tanh_grad",
        "relu",
        "relu_grad",
        "leaky_relu",
        "leaky_relu_grad",
        "elu",
        "elu_grad",
        "softmax",
    ],
    "ex02_losses": [
        "sum_squared_error",
        "mean_squared_error",
        "binary_cross_entropy",
        "cross_entropy_error",
    ],
    "ex03_gradient": ["numerical_diff", "numerical_gradient", "gradient_descent"],
    "ex04_layer_naive": ["MulLayer", "AddLayer"],
    "ex05_layers": ["Relu", "Sigmoid", "Affine", "SoftmaxWithLoss"],
    "ex06_two_layer_net": ["TwoLayerNet"],
    "ex07_optimizers": ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adadelta", "Adam"],
    "ex08_training": ["iterations_per_epoch", "total_iterations", "train"],
    "ex09_vanishing": ["build_deep_model", "layer_gradient_norms"],
    "ex10_keras_classifier": [
        "output_layer_for",
        "build_classifier",
        "train_classifier",
        "save_model",
        "load_model",
    ],
}
#: Every exercise that has a solution (the tests below cover each one that exists).
STEMS = sorted(p.stem for p in (REPO / "solutions").glob("ex*.py"))


def test_every_solution_is_an_exercise_of_the_spec() -> None:
    assert set(STEMS) <= set(SPEC_NAMES)


HANGUL = re.compile(r"[\uac00-\ud7a3]")
ENGLISH = re.compile(r"\b(the|of|and|is|to)\b")
MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def _source(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _load(path: Path, name: str):
    """Import ``path`` as ``name``; its folder is importable meanwhile (ex06 imports ex05)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def _docstrings(source: str) -> dict[str, str | None]:
    """Docstrings of the module, its classes and functions and their methods (not of helpers
    nested inside a function, which belong to the solution)."""
    tree = ast.parse(source)
    found = {"<module>": ast.get_docstring(tree)}

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.ClassDef):
                found[child.name] = ast.get_docstring(child)
                if isinstance(child, ast.ClassDef):
                    visit(child)

    visit(tree)
    return found


def _without_docstrings(source: str) -> str:
    """The code of ``source`` (comments and docstrings dropped), as ``ast.unparse`` writes it."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef) and ast.get_docstring(
            node
        ):
            node.body = node.body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def _solution_lines(source: str) -> list[str]:
    """The non-blank lines between solution markers, stripped."""
    lines, inside = [], False
    for line in source.splitlines():
        if MARKER.match(line):
            inside = not inside
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


def _marked(source: str) -> list[str]:
    """Qualified names (``f`` or ``Class.method``) of the definitions holding solution code."""
    lines = source.splitlines()
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.FunctionDef):
                body = lines[child.lineno - 1 : child.end_lineno]
                if any(MARKER.match(line) for line in body):
                    found.append(f"{prefix}{child.name}")

    visit(ast.parse(source), "")
    return found


def _code_lines(cells: list[str]) -> set[str]:
    return {line.strip() for cell in cells for line in cell.splitlines()}


def _notebook(stem: str) -> nbformat.NotebookNode:
    return nbformat.read(EXERCISES / f"{stem}.ipynb", as_version=4)


# --------------------------------------------------------------------------- generated files


def test_exercises_are_up_to_date() -> None:
    stale = stubs.generate(SOLUTIONS, EXERCISES, check=True)
    assert stale == [], "run `python -m grader.authoring.stubs` to regenerate exercises/"


def test_every_solution_has_a_stub_and_a_notebook() -> None:
    for stem in SPEC_NAMES:
        assert (SOLUTIONS / f"{stem}.py").is_file()
        assert (EXERCISES / f"{stem}.py").is_file()
        assert (EXERCISES / f"{stem}.ipynb").is_file()


def test_generation_is_deterministic() -> None:
    source = _source(SOLUTIONS / "ex01_activations.py")
    first = stubs.render_notebook(stubs.stub_notebook(source))
    assert first == stubs.render_notebook(stubs.stub_notebook(source))
    assert stubs.stub_module(source) == stubs.stub_module(source)


@pytest.mark.parametrize("stem", STEMS)
def test_stub_defines_spec_names_that_raise(stem: str) -> None:
    module = _load(EXERCISES / f"{stem}.py", f"_stub_{stem}")
    assert module.__doc__ == _load(SOLUTIONS / f"{stem}.py", f"_sol_{stem}").__doc__
    for name in SPEC_NAMES[stem]:
        assert hasattr(module, name), name
    marked = _marked(_source(SOLUTIONS / f"{stem}.py"))
    assert marked
    for qualified in marked:
        owner, _, attribute = qualified.rpartition(".")
        if owner:  # a method: call it on an instance made without __init__
            cls = getattr(module, owner)
            function = getattr(cls.__new__(cls), attribute) if attribute != "__init__" else (
                lambda *a, cls=cls: cls.__init__(cls.__new__(cls), *a))
            signature = inspect.signature(getattr(cls, attribute))
            skip = 1
        else:
            function = getattr(module, attribute)
            signature, skip = inspect.signature(function), 0
        required = [
            p
            for p in list(signature.parameters.values())[skip:]
            if p.default is inspect.Parameter.empty
        ]
        args = [np.array([0.5, -0.5])] * len(required)
        with pytest.raises(NotImplementedError, match=f"^{qualified} is not implemented yet$"):
            function(*args)


@pytest.mark.parametrize("stem", STEMS)
def test_stub_keeps_signatures_and_docstrings(stem: str) -> None:
    solution = _source(SOLUTIONS / f"{stem}.py")
    stub = _source(EXERCISES / f"{stem}.py")
    assert _docstrings(stub) == _docstrings(solution)
    # Every class and every definition the learner writes states its contract.
    documented = _docstrings(stub)
    needed = {name.rpartition(".")[2] for name in _marked(solution)} | {
        node.name for node in ast.walk(ast.parse(stub)) if isinstance(node, ast.ClassDef)
    }
    assert all(documented[name] for name in needed | {"<module>"})

    def signatures(source: str) -> dict[str, str]:
        tree = ast.parse(source)
        methods = [n for c in tree.body if isinstance(c, ast.ClassDef) for n in c.body]
        return {
            node.name: ast.dump(node.args)
            for node in [*tree.body, *methods]
            if isinstance(node, ast.FunctionDef)
        }

    assert signatures(stub) == signatures(solution)
    assert stub.splitlines()[0].startswith("# Backprop Lab exercise:")
    assert f"`grade {stem[:4]}`" in stub.splitlines()[0]


@pytest.mark.parametrize("stem", STEMS)
def test_no_solution_code_survives(stem: str) -> None:
    solution = _source(SOLUTIONS / f"{stem}.py")
    secret = _solution_lines(solution)
    assert secret, "the solution has no marked solution code"
    stub_cells = [c.text for c in stubs.parse_percent(_source(EXERCISES / f"{stem}.py"))]
    notebook_cells = [c.source for c in _notebook(stem).cells if c.cell_type == "code"]
    for cells in (stub_cells, notebook_cells):
        present = _code_lines(cells)
        assert [line for line in secret if line in present] == []
        assert not any("SOLUTION" in line for line in present)
    if stem == "ex01_activations":  # the telltale pieces of its solutions, by name
        code = _without_docstrings(_source(EXERCISES / f"{stem}.py"))
        for needle in ("np.max(x, axis=-1, keepdims=True)", "expm1", "1e-7", "np.where("):
            assert needle not in code


@pytest.mark.parametrize("stem", STEMS)
def test_solution_markers_are_balanced(stem: str) -> None:
    source = _source(SOLUTIONS / f"{stem}.py")
    markers = [m.group(1) for line in source.splitlines() if (m := MARKER.match(line))]
    assert markers == ["BEGIN", "END"] * len(_marked(source))


@pytest.mark.parametrize("stem", STEMS)
def test_notebook_is_valid_and_matches_the_stub(stem: str) -> None:
    notebook = _notebook(stem)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    assert notebook.metadata.language_info.name == "python"
    assert [cell.id for cell in notebook.cells] == [
        f"cell-{i}" for i in range(1, len(notebook.cells) + 1)
    ]
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)

    joined = "\n\n".join(cell.source for cell in code)
    definitions = ast.FunctionDef | ast.ClassDef
    defined = {n.name for n in ast.parse(joined).body if isinstance(n, definitions)}
    stub_tree = ast.parse(_source(EXERCISES / f"{stem}.py"))
    assert defined == {n.name for n in stub_tree.body if isinstance(n, definitions)}
    assert set(SPEC_NAMES[stem]) <= defined
    assert _docstrings(joined) == _docstrings(_source(SOLUTIONS / f"{stem}.py"))

    # each function has its own cell, and the imports come first
    assert "import numpy as np" in code[0].source
    assert all(len(ast.parse(cell.source).body) == 1 for cell in code[1:])


@pytest.mark.parametrize("stem", STEMS)
def test_notebook_explains_in_english_and_korean(stem: str) -> None:
    markdown = [cell.source for cell in _notebook(stem).cells if cell.cell_type == "markdown"]
    assert len(markdown) >= 4
    for text in markdown:
        assert HANGUL.search(text), text[:80]
        assert ENGLISH.search(text), text[:80]
        lines = text.splitlines()
        assert not any(line == "#" or line.startswith("# #") for line in lines)  # uncommented
    assert f"grade {stem[:4]}" in markdown[0]
    # how to grade the notebook: the file itself, or its folder when it imports its siblings
    places = (f"{stem}.ipynb", ".")
    assert any(f"grade {stem[:4]} --path {where}" in markdown[0] for where in places)


def test_solutions_still_work() -> None:
    activations = _load(SOLUTIONS / "ex01_activations.py", "_sol_activations")
    losses = _load(SOLUTIONS / "ex02_losses.py", "_sol_losses")
    np.testing.assert_allclose(activations.softmax(np.array([1000.0, 0.0])), [1.0, 0.0])
    np.testing.assert_allclose(activations.sigmoid(np.array([-1000.0, 1000.0])), [0.0, 1.0])
    y = np.array([[0.1, 0.7, 0.2]])
    np.testing.assert_allclose(losses.cross_entropy_error(y, np.array([1])), -np.log(0.7 + 1e-7))


# --------------------------------------------------------------------------- strip_solutions


def test_strip_method_uses_class_name() -> None:
    code = textwrap.dedent(
        '''\
        class Affine:
            def __init__(self, W, b):
                self.W = W

            def backward(self, dout):
                """Return dx."""
                ### BEGIN SOLUTION
                dx = dout @ self.W.T
                return dx
                ### END SOLUTION
        '''
    )
    assert stubs.strip_solutions(code) == textwrap.dedent(
        '''\
        class Affine:
            def __init__(self, W, b):
                self.W = W

            def backward(self, dout):
                """Return dx."""
                raise NotImplementedError("Affine.backward is not implemented yet")
        '''
    )


def test_strip_nested_indentation_and_several_blocks() -> None:
    code = textwrap.dedent(
        """\
        def outer(x):
            def helper(y):
                if y:
                    ### BEGIN SOLUTION
                    return y * 2
                    ### END SOLUTION
                return 0

            total = 0  # kept
            for item in x:
                ### BEGIN SOLUTION
                total += helper(item)
                ### END SOLUTION
            return total
        """
    )
    stripped = stubs.strip_solutions(code)
    assert stripped == textwrap.dedent(
        """\
        def outer(x):
            def helper(y):
                if y:
                    raise NotImplementedError("helper is not implemented yet")
                return 0

            total = 0  # kept
            for item in x:
                raise NotImplementedError("outer is not implemented yet")
            return total
        """
    )
    ast.parse(stripped)


def test_strip_empty_block_after_docstring() -> None:
    code = 'def f(x):\n    """Doc."""\n    ### BEGIN SOLUTION\n    ### END SOLUTION\n'
    assert stubs.strip_solutions(code) == (
        'def f(x):\n    """Doc."""\n    raise NotImplementedError("f is not implemented yet")\n'
    )


def test_strip_keeps_code_without_markers_and_markers_in_strings() -> None:
    code = 'TEXT = """\n### BEGIN SOLUTION\n"""\n\n\ndef f():\n    return 1\n'
    assert stubs.strip_solutions(code) == code


@pytest.mark.parametrize(
    "code",
    [
        "def f():\n    ### BEGIN SOLUTION\n    return 1\n",
        "def f():\n    return 1\n    ### END SOLUTION\n",
        "def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    return 1\n"
        "    ### END SOLUTION\n    ### END SOLUTION\n",
        "def f():\n    x = 1  ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n",
    ],
    ids=["begin-without-end", "end-without-begin", "nested", "not-alone-on-line"],
)
def test_strip_rejects_bad_markers(code: str) -> None:
    with pytest.raises(ValueError, match="line"):
        stubs.strip_solutions(code)


def test_strip_rejects_block_outside_a_function() -> None:
    code = "import numpy as np\n\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n"
    with pytest.raises(ValueError, match="line 3: .*not inside a function"):
        stubs.strip_solutions(code)
    code = "class A:\n    ### BEGIN SOLUTION\n    x = 1\n    ### END SOLUTION\n"
    with pytest.raises(ValueError, match="line 2"):
        stubs.strip_solutions(code)


def test_strip_catches_mistyped_markers() -> None:
    code = "def f():\n    ## begin solution\n    return 1\n    ### END SOLUTION\n"
    assert "return 1" not in stubs.strip_solutions(code)


# --------------------------------------------------------------------------- percent format


def test_parse_percent() -> None:
    source = textwrap.dedent(
        """\
        # %% [markdown]
        # # Title
        #
        # Text with `code`.

        # %%
        import numpy as np


        # %% Optional title
        def f(x):
            return x
        """
    )
    assert stubs.parse_percent(source) == [
        stubs.Cell("markdown", "# Title\n\nText with `code`."),
        stubs.Cell("code", "import numpy as np"),
        stubs.Cell("code", "def f(x):\n    return x"),
    ]
    assert stubs.parse_percent("x = 1\n# %%\ny = 2\n") == [
        stubs.Cell("code", "x = 1"),
        stubs.Cell("code", "y = 2"),
    ]
    with pytest.raises(ValueError, match="line 2"):
        stubs.parse_percent("# %% [markdown]\nnot a comment\n")
    with pytest.raises(ValueError, match="raw"):
        stubs.parse_percent("# %% [raw]\n# x\n")


def test_main_check_and_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "exercises"
    args = ["--solutions", str(SOLUTIONS), "--exercises", str(out)]
    assert stubs.main(["--check", *args]) == 1
    assert "ex01_activations.py" in capsys.readouterr().err
    assert stubs.main(args) == 0
    assert stubs.main(["--check", *args]) == 0
    for path in EXERCISES.glob("ex0[12]_*"):
        assert (out / path.name).read_bytes() == path.read_bytes()
    (out / "ex02_losses.ipynb").write_text("{}", encoding="utf-8")
    assert stubs.generate(SOLUTIONS, out, check=True) == [out / "ex02_losses.ipynb"]
    assert stubs.main(["--solutions", str(tmp_path / "missing"), "--exercises", str(out)]) == 2
