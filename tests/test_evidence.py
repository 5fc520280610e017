"""The check library's evidence-reading diagnoses and explanations, each shown to fire on what
it names and to stay silent on right values and on the other patterns."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from grader.checks.evidence import Seen, does_nothing, observe
from grader.checks.explain import did_you_mean, explain_exception, newer_python

rng = np.random.default_rng(0)
X = rng.normal(size=(4, 3))
EXPECTED = np.tanh(X) - 0.3  # some values of both signs, not symmetric


def _seen(got, expected=EXPECTED, x=X, kwargs=None, related=None):
    return Seen((x,), kwargs or {}, got, expected, related or {})


@pytest.mark.parametrize("got, diagnosis", [
    (2 * EXPECTED, "factor 2"),
    (0.5 * EXPECTED, "factor 0.5"),
    (-EXPECTED, "sign flipped"),
    (4 * EXPECTED, "factor N"),  # 4 is the batch size of X
    (EXPECTED / 4, "factor 1/N"),
    (EXPECTED.T, "transposed"),
    (np.abs(EXPECTED), "absolute value"),
    (np.zeros_like(EXPECTED), "returns zeros"),
    (X, "returns its input"),
    (np.where(X > 1, np.nan, EXPECTED), "overflow"),
])
def test_each_pattern_is_named_from_the_values(got, diagnosis):
    # two inputs, as checks give: the same mistake on both
    seen = [_seen(got), _seen(got[:2] if got.shape == EXPECTED.shape else got[:, :2],
                              EXPECTED[:2], X[:2])]
    if diagnosis in ("transposed", "factor N", "factor 1/N"):
        seen = seen[:1]  # the second input has another batch size / shape
    found = observe("f", seen)
    assert found is not None and found.diagnosis == diagnosis, found


def test_right_values_and_unrelated_errors_are_not_diagnosed():
    assert observe("f", [_seen(EXPECTED + 1e-12)]) is None
    noisy = EXPECTED + rng.normal(scale=0.1, size=EXPECTED.shape)
    assert observe("f", [_seen(noisy), _seen(noisy[:2], EXPECTED[:2], X[:2])]) is None


def test_one_number_is_no_evidence_of_a_constant_factor():
    assert observe("f", [Seen((X,), {}, 3.0, 1.5)]) is None


def test_a_result_equal_to_a_related_computation_is_named():
    related = {"elu": EXPECTED * 7}
    found = observe("elu_grad", [_seen(EXPECTED * 7, related=related)],
                    related_names={"elu": "elu_grad returns elu(x)"})
    assert found.diagnosis == "returns elu" and found.message == "elu_grad returns elu(x)"
    assert observe("elu_grad", [_seen(EXPECTED * 5, related=related)]).diagnosis == "factor 5"


def test_an_ignored_keyword_and_a_wrong_default_are_told_apart():
    with_alpha = EXPECTED * 0.5
    ignored = [_seen(EXPECTED), _seen(EXPECTED, with_alpha, kwargs={"alpha": 0.2})]
    assert observe("f", ignored).diagnosis == "alpha ignored"
    wrong_default = [_seen(with_alpha), _seen(with_alpha, with_alpha, kwargs={"alpha": 0.2})]
    found = observe("f", wrong_default, defaults={"alpha": 0.01})
    assert found.diagnosis == "wrong default" and "must be 0.01" in found.message


def test_doing_nothing_is_recognised_and_doing_something_is_not():
    assert does_nothing(np.zeros(3), [X]) == "the result is all zeros"
    assert does_nothing(X.copy(), [X]) == "the result is the input, unchanged"
    assert does_nothing(EXPECTED, [X]) is None


@pytest.mark.parametrize("exception, text, args, line, diagnosis", [
    ("AttributeError", "module 'numpy' has no attribute 'int'.", (), "", "np.int removed"),
    ("AttributeError", "module 'numpy' has no attribute 'float'", (), "", "np.float removed"),
    ("ValueError", "operands could not be broadcast together with shapes (5,6) (5,) ",
     (np.zeros((5, 6)),), "", "missing keepdims"),
    ("TypeError", "expected a sequence of integers or a single integer, got '1.5'", (),
     "grad = np.zeros(x)", "np.zeros(x) instead of np.zeros_like(x)"),
    ("ValueError", "The truth value of an array with more than one element is ambiguous.",
     (), "if x > 0:", "if on an array"),
])
def test_exceptions_are_explained_in_the_course_terms(exception, text, args, line, diagnosis):
    found = explain_exception(exception, text, args, line)
    assert found is not None and found.diagnosis == diagnosis


@pytest.mark.parametrize("exception, text, args, line", [
    # integer labels of shape (4,) given where one-hot targets (4, 10) are used: the argument
    # itself has the reduced shape, so no keepdims was lost
    ("ValueError", "operands could not be broadcast together with shapes (4,10) (4,) ",
     (np.zeros((4, 10)), np.zeros(4, dtype=int)), ""),
    ("AttributeError", "module 'numpy' has no attribute 'foo'", (), ""),
    ("TypeError", "unsupported operand type(s) for +: 'int' and 'str'", (), "y = x + s"),
    ("TypeError", "expected a sequence of integers", (), "grad = np.zeros(x.shape)"),
])
def test_other_exceptions_are_left_as_they_are(exception, text, args, line):
    assert explain_exception(exception, text, args, line) is None


@pytest.mark.parametrize("wanted, defined, meant", [
    ("SGD", ["SDG", "Momentum"], "SDG"),
    ("Relu", ["ReLu", "Sigmoid"], "ReLu"),
    ("Relu", ["ReLU"], "ReLU"),
    ("backward", ["forward", "backword"], "backword"),
    ("RMSprop", ["RMSProp", "Adam"], "RMSProp"),
    ("Adam", ["SGD", "Momentum"], None),
    ("relu", ["relu_grad"], None),
])
def test_a_name_off_by_a_letter_or_a_case_is_found(wanted, defined, meant):
    assert did_you_mean(wanted, defined) == meant


def test_syntax_of_a_newer_python_is_named_with_both_versions():
    generic = "def first[T](items: list[T]) -> T:\n    return items[0]\n"
    message = newer_python(generic, "SyntaxError: invalid syntax", running=(3, 11))
    assert "3.12" in message and "3.11" in message
    assert newer_python(generic, "SyntaxError: invalid syntax", running=(3, 12)) is None
    fstring = 'print(f"{d["key"]}")\n'
    assert "3.12" in newer_python(fstring, "SyntaxError: f-string: unmatched '['",
                                  running=(3, 11))
    assert newer_python("def f(:\n", "SyntaxError: invalid syntax", running=(3, 11)) is None


def test_a_misspelt_name_is_pointed_out_by_the_grader(variant):
    from conftest import by_name, grade

    path = variant("ex01_activations", {"softmax": """
        def sofmax(x):
            x = x - np.max(x, axis=-1, keepdims=True)
            return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)
        """})
    check = by_name(grade("ex01", path))["softmax rows sum to 1"]
    assert check.diagnosis == "misspelt name" and "sofmax" in check.output


def test_a_factor_of_the_last_axis_is_named_as_such():
    # a loss summed over the D = 3 values of a sample instead of averaged: one number per input
    seen = [Seen((X,), {}, 3 * 0.25, 0.25), Seen((X[0],), {}, 0.5, 0.5)]
    assert observe("mean_squared_error", seen).diagnosis == "factor D"


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="PEP 695 is valid syntax here")
def test_code_for_a_newer_python_says_so_when_graded(variant):
    from conftest import grade

    path = variant("ex01_activations", {"identity_function": """
        def identity_function[T](x: T) -> T:
            return x
        """})
    result = grade("ex01", path)
    assert result.score == 0 and "needs Python 3.12" in result.error
    assert "the grader runs Python 3.11" in result.error
