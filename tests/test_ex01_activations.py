"""ex01 graded against the solution, correct variants the spec allows, and known mistakes."""

from __future__ import annotations

import pytest

from conftest import by_name, grade
from grader.exercises.ex01_activations import MISTAKES

# Correct code the spec allows, much of it as the book writes it: full marks.
CORRECT_VARIANTS = {
    "book style": {
        "step_function": "def step_function(x):\n    return np.array(x > 0, dtype=int)",
        "sigmoid": "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))",
        "sigmoid_grad": "def sigmoid_grad(x):\n    return (1.0 - sigmoid(x)) * sigmoid(x)",
        "relu_grad": """
            def relu_grad(x):
                grad = np.zeros_like(x)
                grad[x >= 0] = 1
                return grad
            """,
        "softmax": """
            def softmax(x):
                if x.ndim == 2:
                    x = x.T
                    x = x - np.max(x, axis=0)
                    y = np.exp(x) / np.sum(np.exp(x), axis=0)
                    return y.T
                x = x - np.max(x)
                return np.exp(x) / np.sum(np.exp(x))
            """,
    },
    "boolean step, relu_grad 0 at 0, grads 1 at 0": {
        "step_function": "def step_function(x):\n    return np.asarray(x) > 0",
        "relu_grad": "def relu_grad(x):\n    return (np.asarray(x) > 0).astype(float)",
        "leaky_relu_grad": """
            def leaky_relu_grad(x, alpha=0.01):
                return np.where(np.asarray(x) >= 0, 1.0, alpha)
            """,
        "elu_grad": """
            def elu_grad(x, alpha=1.0):
                x = np.asarray(x, dtype=float)
                return np.where(x >= 0, 1.0, alpha * np.exp(np.minimum(x, 0)))
            """,
    },
    "leaky_relu grad alpha at 0, softmax with keepdims": {
        "leaky_relu_grad": """
            def leaky_relu_grad(x, alpha=0.01):
                return np.where(np.asarray(x) > 0, 1.0, alpha)
            """,
        "softmax": """
            def softmax(x):
                c = np.max(x, axis=-1, keepdims=True)
                e = np.exp(x - c)
                return e / e.sum(axis=-1, keepdims=True)
            """,
    },
}


@pytest.mark.parametrize("name", CORRECT_VARIANTS)
def test_correct_variant_gets_full_marks(variant, name):
    result = grade("ex01", variant("ex01_activations", CORRECT_VARIANTS[name]))
    failed = [(c.name, c.output) for c in result.checks if not c.passed]
    assert failed == []


# (function, buggy source, check that must fail, diagnosis it must name)
BUGS = [
    ("softmax", """
        def softmax(x):
            e = np.exp(x)
            return e / np.sum(e, axis=-1, keepdims=True)
        """, "softmax is stable for inputs of +-1000", "no max subtraction"),
    ("softmax", """
        def softmax(x):
            e = np.exp(x - np.max(x))
            return e / np.sum(e, axis=-1, keepdims=True)
        """, "softmax is stable for inputs of +-1000", "softmax max over the whole batch"),
    ("softmax", """
        def softmax(x):
            x = x - np.max(x, axis=0)
            return np.exp(x) / np.sum(np.exp(x), axis=0)
        """, "softmax matches the reference (1-D and batch)", "softmax over the wrong axis"),
    ("softmax", """
        def softmax(x):
            e = np.exp(x - np.max(x))
            return e / np.sum(e)
        """, "softmax rows sum to 1", "softmax over the whole batch"),
    ("softmax", """
        def softmax(x):
            x -= np.max(x, axis=-1, keepdims=True)
            e = np.exp(x)
            return e / np.sum(e, axis=-1, keepdims=True)
        """, "softmax matches the reference (1-D and batch)", "modifies its input"),
    ("step_function", "def step_function(x):\n    return np.array(x >= 0, dtype=int)",
     "step_function is 0 at exactly 0", "step 1 at 0"),
    ("sigmoid_grad", "def sigmoid_grad(x):\n    return x * (1 - x)",
     "sigmoid_grad matches the reference", "sigmoid_grad on the output"),
    ("sigmoid_grad", "def sigmoid_grad(x):\n    return sigmoid(x)",
     "sigmoid_grad matches the reference", "sigmoid_grad returns sigmoid"),
    ("sigmoid_grad", "def sigmoid_grad(x):\n    return sigmoid(x) * (1 - x)",
     "sigmoid_grad matches the reference", "sigmoid_grad mixes input and output"),
    ("tanh_grad", "def tanh_grad(x):\n    return 1 - x ** 2",
     "tanh_grad matches the reference", "tanh_grad on the output"),
    ("relu_grad", "def relu_grad(x):\n    return np.maximum(0, x)",
     "relu_grad matches the reference away from 0", "relu_grad returns relu"),
    ("leaky_relu", """
        def leaky_relu(x, alpha=0.01):
            return np.where(x > 0, x, 0.01 * x)
        """, "leaky_relu matches the reference (default and given alpha)", "alpha ignored"),
    ("leaky_relu_grad", """
        def leaky_relu_grad(x, alpha=0.01):
            return np.where(x > 0, 1.0, 0.01)
        """, "leaky_relu_grad matches the reference (default and given alpha)", "alpha ignored"),
    ("leaky_relu_grad", """
        def leaky_relu_grad(x, alpha=0.01):
            return np.where(x > 0, 1.0, 0.0)
        """, "leaky_relu_grad matches the reference (default and given alpha)",
     "leaky_relu_grad 0 for negatives"),
    ("elu", """
        def elu(x, alpha=1.0):
            return np.where(x > 0, x, alpha * np.exp(x))
        """, "elu matches the reference (default and given alpha)", "ELU without the -1"),
    ("elu", """
        def elu(x, alpha=1.0):
            return np.where(x > 0, x, np.exp(x) - 1)
        """, "elu matches the reference (default and given alpha)", "alpha ignored"),
    ("elu_grad", """
        def elu_grad(x, alpha=1.0):
            return np.where(x > 0, 1.0, np.exp(x))
        """, "elu_grad matches the reference (default and given alpha)", "alpha ignored"),
]


@pytest.mark.parametrize(("func", "source", "check", "diagnosis"), BUGS,
                         ids=[f"{b[0]}: {b[3]}" for b in BUGS])
def test_known_mistake_is_caught_and_named(variant, func, source, check, diagnosis):
    result = grade("ex01", variant("ex01_activations", {func: source}))
    checks = by_name(result)
    assert not checks[check].passed
    assert checks[check].diagnosis == diagnosis, checks[check].output
    assert checks[check].output  # says what went wrong
    # Only checks of the buggy function fail: others keep their points.
    for result_check in result.checks:
        if func not in result_check.name.split(" ")[0]:
            assert result_check.passed, (result_check.name, result_check.output)


def test_every_known_mistake_has_a_buggy_submission():
    covered = {(func, diagnosis) for func, _, _, diagnosis in BUGS}
    listed = {(func, m.name) for func, mistakes in MISTAKES.items() for m in mistakes}
    assert listed <= covered, listed - covered


def test_failure_says_where_and_by_how_much(variant):
    result = grade("ex01", variant("ex01_activations", {
        "tanh": "def tanh(x):\n    return np.where(np.asarray(x) < -2, 0.0, np.tanh(x))"}))
    output = by_name(result)["tanh matches the reference"].output
    assert "largest error" in output and "at index" in output
    assert "expected" in output and "got" in output


def test_a_wrong_function_costs_its_right_derivative_nothing(variant):
    """The derivative check differentiates the reference sigmoid, not the learner's: a wrong
    sigmoid is charged in sigmoid's checks, and a right sigmoid_grad keeps all its points."""
    result = grade("ex01", variant("ex01_activations", {
        "sigmoid": "def sigmoid(x):\n    return 2 / (1 + np.exp(-np.asarray(x, dtype=float)))",
        "sigmoid_grad": """
            def sigmoid_grad(x):
                s = 1 / (1 + np.exp(-np.asarray(x, dtype=float)))
                return s * (1 - s)
            """}))
    checks = by_name(result)
    assert not checks["sigmoid matches the reference"].passed
    assert checks["sigmoid_grad agrees with a numerical derivative of sigmoid"].passed
    assert checks["sigmoid_grad matches the reference"].passed


def test_derivative_check_catches_a_wrong_derivative(variant):
    result = grade("ex01", variant("ex01_activations", {
        "tanh_grad": "def tanh_grad(x):\n    return 1 - np.tanh(x) ** 3"}))
    check = by_name(result)["tanh_grad agrees with a numerical derivative of tanh"]
    assert not check.passed and "relative error" in check.output
    assert by_name(result)["tanh matches the reference"].passed


@pytest.mark.parametrize("body", ["return x * np.nan", "return np.full(np.shape(x), np.inf)"])
def test_a_softmax_of_nans_earns_no_point_for_shift_invariance(variant, body):
    """NaN equals NaN in the comparison of two of the learner's results: it must not count as
    evidence that softmax(x + c) = softmax(x)."""
    result = grade("ex01", variant("ex01_activations", {
        "softmax": f"def softmax(x):\n    x = np.asarray(x, dtype=float)\n    {body}"}))
    check = by_name(result)["softmax is shift invariant"]
    assert not check.passed and "NaN or inf" in check.output
