"""ex04 graded against the solution, the book's own layers, and known mistakes."""

from __future__ import annotations

import pytest

from conftest import by_name, grade
from grader.exercises.ex04_layer_naive import MISTAKES

# The book's ch05/layer_naive.py as printed.
BOOK = {
    "MulLayer": """
        class MulLayer:
            def __init__(self):
                self.x = None
                self.y = None

            def forward(self, x, y):
                self.x = x
                self.y = y
                out = x * y

                return out

            def backward(self, dout):
                dx = dout * self.y
                dy = dout * self.x

                return dx, dy
        """,
    "AddLayer": """
        class AddLayer:
            def __init__(self):
                pass

            def forward(self, x, y):
                out = x + y

                return out

            def backward(self, dout):
                dx = dout * 1
                dy = dout * 1

                return dx, dy
        """,
}

CORRECT_VARIANTS = {
    "the book's layer_naive.py": BOOK,
    "lists, np.multiply, attributes made in forward": {
        "MulLayer": """
            class MulLayer:
                def forward(self, x, y):
                    self.a, self.b = x, y
                    return np.multiply(x, y)

                def backward(self, dout):
                    return [np.multiply(dout, self.b), np.multiply(dout, self.a)]
            """,
        "AddLayer": """
            class AddLayer:
                def forward(self, x, y):
                    return np.add(x, y)

                def backward(self, dout):
                    return dout, dout
            """,
    },
}


@pytest.mark.parametrize("name", CORRECT_VARIANTS)
def test_correct_variant_gets_full_marks(variant, name):
    result = grade("ex04", variant("ex04_layer_naive", CORRECT_VARIANTS[name]))
    assert [(c.name, c.output) for c in result.checks if not c.passed] == []


def _mul_layer(forward: str = "self.x, self.y = x, y\n        return x * y",
               backward: str = "return dout * self.y, dout * self.x") -> str:
    return f"""
class MulLayer:
    def __init__(self):
        self.x = None
        self.y = None

    def forward(self, x, y):
        {forward}

    def backward(self, dout):
        {backward}
"""


def _add_layer(backward: str) -> str:
    return f"""
class AddLayer:
    def forward(self, x, y):
        self.x, self.y = x, y
        return x + y

    def backward(self, dout):
        {backward}
"""


MUL_BACKWARD = "MulLayer backward returns (dout * y, dout * x)"
APPLE = "MulLayer reproduces the book's apple example (220; 2.2, 110, 200)"
APPLE_ORANGE = ("MulLayer and AddLayer reproduce the book's apple-orange example "
                "(715; 110, 2.2, 3.3, 165, 650)")
ADD_BACKWARD = "AddLayer backward returns (dout, dout)"

MUL_SWAPPED = _mul_layer(backward="return dout * self.x, dout * self.y")
MUL_NO_DOUT = _mul_layer(backward="return self.y, self.x")
MUL_KEEPS_NOTHING = _mul_layer(forward="return x * y")
MUL_NO_ATTRIBUTES = """
class MulLayer:
    def forward(self, x, y):
        return x * y

    def backward(self, dout):
        return dout * self.y, dout * self.x
"""
ADD_NO_DOUT = _add_layer("return 1, 1")
ADD_AS_MUL = _add_layer("return dout * self.y, dout * self.x")

# (class, buggy source, check that must fail, diagnosis it must name)
BUGS = [
    ("MulLayer", MUL_SWAPPED, MUL_BACKWARD, "backward swapped"),
    ("MulLayer", MUL_SWAPPED, APPLE, "backward swapped"),
    ("MulLayer", MUL_SWAPPED, APPLE_ORANGE, "backward swapped"),
    ("MulLayer", MUL_NO_DOUT, MUL_BACKWARD, "dout ignored"),
    ("MulLayer", MUL_NO_DOUT, APPLE, "dout ignored"),
    ("MulLayer", MUL_NO_DOUT, APPLE_ORANGE, "dout ignored"),
    ("MulLayer", MUL_KEEPS_NOTHING, MUL_BACKWARD, "forward keeps nothing"),
    ("MulLayer", MUL_KEEPS_NOTHING, APPLE, "forward keeps nothing"),
    ("MulLayer", MUL_NO_ATTRIBUTES, APPLE_ORANGE, "forward keeps nothing"),
    ("AddLayer", ADD_NO_DOUT, ADD_BACKWARD, "dout ignored"),
    ("AddLayer", ADD_NO_DOUT, APPLE_ORANGE, "dout ignored"),
    ("AddLayer", ADD_AS_MUL, ADD_BACKWARD, "backward of a product"),
    ("AddLayer", ADD_AS_MUL, APPLE_ORANGE, "backward of a product"),
]


@pytest.mark.parametrize(("cls", "source", "check", "diagnosis"), BUGS,
                         ids=[f"{b[0]}: {b[3]} ({b[2][:30]})" for b in BUGS])
def test_known_mistake_is_caught_and_named(variant, cls, source, check, diagnosis):
    result = grade("ex04", variant("ex04_layer_naive", {cls: source}))
    checks = by_name(result)
    assert not checks[check].passed
    assert checks[check].diagnosis == diagnosis, checks[check].output
    message = next(m.message for m in MISTAKES[cls] if m.name == diagnosis)
    assert message in checks[check].output
    # Checks of the other layer keep their points; so do forward checks of this one.
    for other in result.checks:
        if cls not in other.name or " forward " in other.name:
            assert other.passed, (other.name, other.output)


def test_every_known_mistake_has_a_buggy_submission():
    covered = {(cls, diagnosis) for cls, _, _, diagnosis in BUGS}
    listed = {(cls, m.name) for cls, mistakes in MISTAKES.items() for m in mistakes}
    assert listed <= covered, listed - covered


def test_mistakes_that_agree_in_the_apple_orange_example_are_both_named(variant):
    # MulLayer ignoring dout and AddLayer ignoring dout give the same numbers there.
    result = grade("ex04", variant("ex04_layer_naive", {"AddLayer": ADD_NO_DOUT}))
    output = by_name(result)[APPLE_ORANGE].output
    assert output.startswith("one of these")
    assert "MulLayer.backward returns (y, x)" in output
    assert "AddLayer.backward returns (1, 1)" in output
    assert by_name(result)[ADD_BACKWARD].output.startswith("AddLayer.backward returns (1, 1)")


def test_the_apple_example_says_which_gradient_is_wrong(variant):
    result = grade("ex04", variant("ex04_layer_naive", {"MulLayer": MUL_NO_DOUT}))
    output = by_name(result)[APPLE].output
    assert "expected 2.2, got 2" in output  # dapple: 1.1 * 2 without the 1.1


def test_forward_keeps_nothing_shows_the_error_raised(variant):
    result = grade("ex04", variant("ex04_layer_naive", {"MulLayer": MUL_KEEPS_NOTHING}))
    output = by_name(result)[MUL_BACKWARD].output
    assert "self.x = x" in output and "TypeError" in output and "NoneType" in output


def test_backward_returning_one_value_is_explained(variant):
    result = grade("ex04", variant("ex04_layer_naive", {
        "AddLayer": _add_layer("return dout")}))
    check = by_name(result)[ADD_BACKWARD]
    assert not check.passed and check.diagnosis is None
    assert "must return the pair (dx, dy), got an array of shape (3, 4)" in check.output


def test_a_wrong_backward_that_is_no_known_mistake_fails_without_a_diagnosis(variant):
    result = grade("ex04", variant("ex04_layer_naive", {
        "MulLayer": _mul_layer(backward="return dout * self.y, dout * self.y")}))
    check = by_name(result)[MUL_BACKWARD]
    assert not check.passed and check.diagnosis is None
    assert check.output.startswith("dy: largest error")
