"""ex03 graded against the solution, correct variants the spec allows, and known mistakes."""

from __future__ import annotations

import pytest

from conftest import by_name, grade
from grader.exercises.ex03_gradient import MISTAKES

#: The diagnosis of a gradient_descent check that fails because numerical_gradient is wrong.
BLAMED = "numerical_gradient is wrong"


# The book's numerical_diff (ch04) and numerical_gradient (common/gradient.py) as printed, and its
# gradient_descent with the copy the spec asks for.
BOOK = {
    "numerical_diff": """
        def numerical_diff(f, x):
            h = 1e-4  # 0.0001
            return (f(x+h) - f(x-h)) / (2*h)
        """,
    "numerical_gradient": """
        def numerical_gradient(f, x):
            h = 1e-4  # 0.0001
            grad = np.zeros_like(x)

            it = np.nditer(x, flags=['multi_index'], op_flags=['readwrite'])
            while not it.finished:
                idx = it.multi_index
                tmp_val = x[idx]
                x[idx] = float(tmp_val) + h
                fxh1 = f(x)  # f(x+h)

                x[idx] = tmp_val - h
                fxh2 = f(x)  # f(x-h)
                grad[idx] = (fxh1 - fxh2) / (2*h)

                x[idx] = tmp_val  # restore
                it.iternext()

            return grad
        """,
    "gradient_descent": """
        def gradient_descent(f, init_x, lr=0.01, step_num=100):
            x = init_x.copy()

            for i in range(step_num):
                grad = numerical_gradient(f, x)
                x -= lr * grad

            return x
        """,
}

CORRECT_VARIANTS = {
    "the book's code (with init_x.copy())": BOOK,
    "copies instead of perturbing x in place; x = x - lr * grad": {
        "numerical_gradient": """
            def numerical_gradient(f, x):
                h = 1e-4
                grad = np.empty(x.shape)
                for idx in np.ndindex(*x.shape):
                    up, down = x.copy(), x.copy()
                    up[idx] += h
                    down[idx] -= h
                    grad[idx] = (f(up) - f(down)) / 2 / h
                return grad
            """,
        "gradient_descent": """
            def gradient_descent(f, init_x, lr=0.01, step_num=100):
                x = init_x
                for _ in range(step_num):
                    x = x - lr * numerical_gradient(f, x)
                return x
            """,
    },
    "flat view with reshape(-1)": {
        "numerical_gradient": """
            def numerical_gradient(f, x):
                h = 1e-4
                flat = x.reshape(-1)  # a view: changing it changes x
                grad = np.zeros(x.size)
                for i in range(x.size):
                    tmp = flat[i]
                    flat[i] = tmp + h
                    fxh1 = f(x)
                    flat[i] = tmp - h
                    fxh2 = f(x)
                    flat[i] = tmp
                    grad[i] = (fxh1 - fxh2) / (2 * h)
                return grad.reshape(x.shape)
            """,
    },
}


@pytest.mark.parametrize("name", CORRECT_VARIANTS)
def test_correct_variant_gets_full_marks(variant, name):
    result = grade("ex03", variant("ex03_gradient", CORRECT_VARIANTS[name]))
    assert [(c.name, c.output) for c in result.checks if not c.passed] == []


DIFF_BOOK = "numerical_diff matches the book's examples (0.2 and 0.3)"
GRAD_BOOK = "numerical_gradient matches the book's examples ([6, 8], ...)"
GRAD_CENTRAL = "numerical_gradient is a central difference (exact to 1e-7 on sum(x**3))"
GRAD_SHAPES = "numerical_gradient works on 2-D and 3-D arrays"
GRAD_RESTORES = "numerical_gradient restores x exactly"
DESCENT_CONVERGES = "gradient_descent converges to the minimum of a quadratic"
DESCENT_ARGUMENTS = "gradient_descent follows lr and step_num (defaults 0.01 and 100)"
DESCENT_INIT = "gradient_descent leaves init_x unchanged"


def _numerical_gradient(body: str, restore: str = "x[idx] = tmp") -> str:
    """A numerical_gradient over np.ndindex whose difference quotient is ``body``."""
    return f"""
        def numerical_gradient(f, x):
            h = 1e-4
            grad = np.zeros(x.shape)
            for idx in np.ndindex(x.shape):
                tmp = x[idx]
                x[idx] = tmp + h
                fxh1 = f(x)
                x[idx] = tmp - h
                fxh2 = f(x)
                {restore}
                grad[idx] = {body}
            return grad
        """


BOOK_1D = """
    def numerical_gradient(f, x):
        h = 1e-4
        grad = np.zeros_like(x)
        for idx in range(x.size):
            tmp_val = x[idx]
            x[idx] = tmp_val + h
            fxh1 = f(x)
            x[idx] = tmp_val - h
            fxh2 = f(x)
            grad[idx] = (fxh1 - fxh2) / (2*h)
            x[idx] = tmp_val
        return grad
    """
BOOK_ROWS = """
    def numerical_gradient(f, X):
        h = 1e-4
        def no_batch(f, x):
            grad = np.zeros_like(x)
            for idx in range(x.size):
                tmp_val = x[idx]
                x[idx] = float(tmp_val) + h
                fxh1 = f(x)
                x[idx] = tmp_val - h
                fxh2 = f(x)
                grad[idx] = (fxh1 - fxh2) / (2*h)
                x[idx] = tmp_val
            return grad
        if X.ndim == 1:
            return no_batch(f, X)
        grad = np.zeros_like(X)
        for idx, x in enumerate(X):
            grad[idx] = no_batch(f, x)
        return grad
    """
PLUS_MINUS_2H = """
    def numerical_gradient(f, x):
        h = 1e-4
        grad = np.zeros(x.shape)
        for idx in np.ndindex(x.shape):
            x[idx] += h
            fxh1 = f(x)
            x[idx] -= 2 * h
            fxh2 = f(x)
            x[idx] += h
            grad[idx] = (fxh1 - fxh2) / (2 * h)
        return grad
    """
# The book's ch04/gradient_method.py, which also returns the points visited, for plotting.
BOOK_DESCENT_HISTORY = """
    def gradient_descent(f, init_x, lr=0.01, step_num=100):
        x = init_x
        x_history = []

        for i in range(step_num):
            x_history.append( x.copy() )

            grad = numerical_gradient(f, x)
            x -= lr * grad

        return x, np.array(x_history)
    """
# The book's gradient_descent as printed: x = init_x is the same array.
BOOK_DESCENT = """
    def gradient_descent(f, init_x, lr=0.01, step_num=100):
        x = init_x
        for i in range(step_num):
            grad = numerical_gradient(f, x)
            x -= lr * grad
        return x
    """


def _descent(update: str, steps: str = "step_num") -> str:
    return f"""
        def gradient_descent(f, init_x, lr=0.01, step_num=100):
            x = init_x.copy()
            for _ in range({steps}):
                grad = numerical_gradient(f, x)
                {update}
            return x
        """


# (function, buggy source, check that must fail, diagnosis it must name)
BUGS = [
    ("numerical_diff", "def numerical_diff(f, x):\n    return (f(x + 1e-4) - f(x)) / 1e-4",
     "numerical_diff is a central difference (exact to 1e-7 on x**3)", "forward difference"),
    ("numerical_diff", """
        def numerical_diff(f, x):
            h = 1e-50
            return (f(x + h) - f(x - h)) / (2 * h)
        """, DIFF_BOOK, "h too small"),
    ("numerical_diff", """
        def numerical_diff(f, x):
            h = 1e-4
            return (f(x + h) - f(x - h)) / h
        """, DIFF_BOOK, "divided by h"),
    ("numerical_diff", """
        def numerical_diff(f, x):
            h = 1e-4
            return (f(x + h) - f(x - h)) / 2 * h
        """, DIFF_BOOK, "2 * h without parentheses"),
    ("numerical_gradient", _numerical_gradient("(fxh1 - f(x)) / h"), GRAD_CENTRAL,
     "forward difference"),
    ("numerical_gradient", """
        def numerical_gradient(f, x):
            h = 1e-4
            grad = np.zeros_like(x)
            for idx in range(x.shape[0]):
                tmp = x[idx]
                x[idx] = tmp + h
                fxh1 = f(x)
                x[idx] = tmp - h
                fxh2 = f(x)
                grad[idx] = (fxh1 - fxh2) / (2 * h)
                x[idx] = tmp
            return grad
        """, GRAD_SHAPES, "whole rows at once"),
    ("numerical_gradient", """
        def numerical_gradient(f, x):
            h = 1e-4
            return (f(x + h) - f(x - h)) / (2 * h) * np.ones_like(x)
        """, GRAD_BOOK, "every element at once"),
    ("numerical_gradient", _numerical_gradient("(fxh1 - fxh2) / (2 * h)").replace(
        "h = 1e-4", "h = 1e-50"), GRAD_BOOK, "h too small"),
    ("numerical_gradient", _numerical_gradient("(fxh1 - fxh2) / h"), GRAD_BOOK, "divided by h"),
    ("numerical_gradient", _numerical_gradient("(fxh1 - fxh2) / 2 * h"), GRAD_BOOK,
     "2 * h without parentheses"),
    ("numerical_gradient", BOOK_1D, GRAD_SHAPES, "only 1-D"),
    ("numerical_gradient", BOOK_ROWS, GRAD_SHAPES, "row by row"),
    # The book's loop without its last line, x[idx] = tmp_val.
    ("numerical_gradient", _numerical_gradient("(fxh1 - fxh2) / (2 * h)", restore="pass"),
     GRAD_RESTORES, "x not restored"),
    ("numerical_gradient", PLUS_MINUS_2H, GRAD_RESTORES, "x not restored"),
    ("gradient_descent", BOOK_DESCENT, DESCENT_INIT, "init_x modified"),
    ("gradient_descent", BOOK_DESCENT_HISTORY, DESCENT_CONVERGES, "returns the history"),
    ("gradient_descent", BOOK_DESCENT_HISTORY, DESCENT_INIT, "init_x modified"),
    ("gradient_descent", _descent("x += lr * grad"), DESCENT_CONVERGES, "ascends"),
    ("gradient_descent", _descent("x -= 0.01 * grad"), DESCENT_CONVERGES, "lr ignored"),
    ("gradient_descent", _descent("x -= lr * grad", steps="100"), DESCENT_ARGUMENTS,
     "step_num ignored"),
]


def _may_fail(check_name: str, func: str, diagnosis: str | None) -> bool:
    """Whether a check may lose its points when ``func`` is buggy.

    Checks of ``func`` itself may; gradient_descent, which calls numerical_gradient, may fail
    when numerical_gradient is buggy, but then it must say so.
    """
    if check_name.startswith(func):
        return True
    return func == "numerical_gradient" and check_name.startswith("gradient_descent") and (
        diagnosis == BLAMED
    )


@pytest.mark.parametrize(("func", "source", "check", "diagnosis"), BUGS,
                         ids=[f"{b[0]}: {b[3]} ({b[2][:40]})" for b in BUGS])
def test_known_mistake_is_caught_and_named(variant, func, source, check, diagnosis):
    result = grade("ex03", variant("ex03_gradient", {func: source}))
    checks = by_name(result)
    assert not checks[check].passed
    assert checks[check].diagnosis == diagnosis, checks[check].output
    message = next(m.message for m in MISTAKES[func] if m.name == diagnosis)
    assert checks[check].output.startswith(message)
    for other in result.checks:
        if not other.passed:
            assert _may_fail(other.name, func, other.diagnosis), (other.name, other.output)


def test_every_known_mistake_has_a_buggy_submission():
    covered = {(func, diagnosis) for func, _, _, diagnosis in BUGS}
    listed = {(func, m.name) for func, mistakes in MISTAKES.items() for m in mistakes}
    assert listed <= covered, listed - covered


def test_a_forward_difference_is_caught_by_values_only_central_passes(variant):
    result = grade("ex03", variant("ex03_gradient", {
        "numerical_gradient": _numerical_gradient("(fxh1 - f(x)) / h")}))
    checks = by_name(result)
    assert "largest error" in checks[GRAD_CENTRAL].output
    assert checks[GRAD_RESTORES].passed  # x itself is restored


def test_book_gradient_descent_loses_only_the_init_x_point(variant):
    result = grade("ex03", variant("ex03_gradient", {"gradient_descent": BOOK_DESCENT}))
    failed = [c.name for c in result.checks if not c.passed]
    assert failed == [DESCENT_INIT]
    assert "x = init_x.copy()" in by_name(result)[DESCENT_INIT].output


def test_not_restoring_x_fails_one_check_and_says_how_to_fix(variant):
    result = grade("ex03", variant("ex03_gradient", {"numerical_gradient": PLUS_MINUS_2H}))
    checks = by_name(result)
    assert [c.name for c in result.checks if not c.passed] == [GRAD_RESTORES]
    assert "tmp = x[idx]" in checks[GRAD_RESTORES].output


@pytest.mark.parametrize("numerical_gradient", [
    _numerical_gradient("(fxh1 - f(x)) / h"),  # a forward difference: the minimum moves by h/2
    "def numerical_gradient(f, x):\n    raise NotImplementedError",  # not written yet
])
def test_a_right_gradient_descent_keeps_its_points_whatever_numerical_gradient_does(
        variant, numerical_gradient):
    """gradient_descent is judged with a correct numerical gradient in place of a wrong one:
    the mistake is charged in numerical_gradient's checks only."""
    result = grade("ex03", variant("ex03_gradient", {"numerical_gradient": numerical_gradient}))
    assert not by_name(result)[GRAD_CENTRAL].passed
    for name in (DESCENT_CONVERGES, DESCENT_ARGUMENTS, DESCENT_INIT):
        assert by_name(result)[name].passed, by_name(result)[name].output


def test_a_wrong_gradient_descent_is_charged_even_when_numerical_gradient_is_wrong(variant):
    result = grade("ex03", variant("ex03_gradient", {
        "numerical_gradient": _numerical_gradient("(fxh1 - f(x)) / h"),
        "gradient_descent": """
            def gradient_descent(f, init_x, lr=0.01, step_num=100):
                x = init_x.copy()
                for i in range(step_num):
                    x += lr * numerical_gradient(f, x)
                return x
            """}))
    check = by_name(result)[DESCENT_CONVERGES]
    assert not check.passed and check.diagnosis == "ascends"


def test_a_wrong_result_that_is_no_known_mistake_fails_without_a_diagnosis(variant):
    result = grade("ex03", variant("ex03_gradient", {
        "numerical_diff": "def numerical_diff(f, x):\n    return f(x)"}))
    check = by_name(result)[DIFF_BOOK]
    assert not check.passed and check.diagnosis is None
    assert "largest error" in check.output
