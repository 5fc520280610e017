"""Points reward working code: a submission that computes nothing earns nothing, and a
mistake costs the checks of the function that makes it, not those of the functions around it.
"""

from __future__ import annotations

import ast

import pytest

from conftest import SOLUTIONS, by_name, grade

#: Bodies of a function that computes nothing: all zeros, or its array input handed back.
IDLE = {
    "zeros": "return np.zeros_like(np.asarray(arrays[0], dtype=float)) if arrays else 0.0",
    "input": "return arrays[0] if arrays else 0.0",
}
#: The only checks an idle submission may pass: the identity returns its input by definition.
EARNED_BY_DEFINITION = {"identity_function returns its input"}


def _idle_submission(folder, module: str, body: str):
    """Every function of ``module`` replaced by one that computes nothing."""
    tree = ast.parse((SOLUTIONS / f"{module}.py").read_text())
    names = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    lines = ["import numpy as np"]
    for name in names:
        lines += [f"def {name}(*args, **kwargs):",
                  "    arrays = [a for a in args if not callable(a)]",
                  f"    {body}"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{module}.py"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("kind", sorted(IDLE))
@pytest.mark.parametrize("exercise, module", [
    ("ex01", "ex01_activations"), ("ex02", "ex02_losses"), ("ex03", "ex03_gradient")])
def test_code_that_computes_nothing_earns_nothing(tmp_path, exercise, module, kind):
    result = grade(exercise, _idle_submission(tmp_path, module, IDLE[kind]))
    earned = {c.name for c in result.checks if c.passed} - EARNED_BY_DEFINITION
    assert earned == set(), f"points for doing nothing ({kind})"


def test_a_scalar_input_is_a_numpy_scalar(variant):
    """The book's text step_function, y = x > 0; y.astype(int), needs x to be a NumPy value."""
    result = grade("ex01", variant("ex01_activations", {"step_function": """
        def step_function(x):
            y = x > 0
            return y.astype(int)
        """}))
    assert by_name(result)["step_function matches the reference"].passed


def test_an_input_modified_in_place_is_charged_once(variant):
    result = grade("ex01", variant("ex01_activations", {"softmax": """
        def softmax(x):
            x -= np.max(x, axis=-1, keepdims=True)
            return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)
        """}))
    modified = [c.name for c in result.checks if c.diagnosis == "modifies its input"]
    failed = [c.name for c in result.checks if not c.passed]
    assert modified == failed == ["softmax matches the reference (1-D and batch)"]


def test_the_finite_at_zero_check_does_not_also_need_integer_labels(variant):
    """Cross-entropy made for one-hot targets only loses the integer-label point, not also the
    point for a probability of exactly 0."""
    result = grade("ex02", variant("ex02_losses", {"cross_entropy_error": """
        def cross_entropy_error(y, t):
            return -np.sum(t * np.log(y + 1e-7)) / (y.shape[0] if y.ndim == 2 else 1)
        """}))
    failed = [c.name for c in result.checks if not c.passed]
    assert failed == ["cross_entropy_error matches the reference (integer labels)"]


def test_numerical_diff_is_judged_at_a_negative_slope(variant):
    result = grade("ex03", variant("ex03_gradient", {"numerical_diff": """
        def numerical_diff(f, x):
            h = 1e-4
            return abs(f(x + h) - f(x - h)) / (2 * h)
        """}))
    check = by_name(result)["numerical_diff matches the book's examples (0.2 and 0.3)"]
    assert not check.passed and check.diagnosis == "absolute value"


def test_numerical_gradient_is_judged_on_a_function_that_couples_its_elements(variant):
    """f called on one element alone is right for every sum of one term per element."""
    result = grade("ex03", variant("ex03_gradient", {"numerical_gradient": """
        def numerical_gradient(f, x):
            h = 1e-4
            grad = np.zeros_like(x)
            for idx in np.ndindex(x.shape):
                v = np.array([x[idx]])
                grad[idx] = (f(v + h) - f(v - h)) / (2 * h)
            return grad
        """}))
    assert not by_name(result)["numerical_gradient works on 2-D and 3-D arrays"].passed
