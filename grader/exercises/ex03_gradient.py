"""Checks for ex03: numerical differentiation, numerical gradients and gradient descent.

Every function under test takes a function ``f``. The learner's code gets a grader fixture
(``grader.runner.fixtures``) living in its own process; the reference solution and the known
mistakes (``solutions/mistakes/ex03_gradient.py``) call the same fixture when their results are
computed for the store. Cases name it with ``Fn("cubic_sum")``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.checks import (
    Case,
    Check,
    CheckFailed,
    Context,
    Exercise,
    Mistake,
    Ref,
    assert_close,
    call_replacing,
    function_check,
    same_value,
)
from grader.checks.evidence import does_nothing
from grader.checks.mistakes import named
from grader.runner import fixtures

rng = np.random.default_rng(3)

#: Against the reference (same h, same formula) a central difference agrees to rounding; a
#: forward difference is off by about h f''/2, relatively 1e-5 to 1e-4 on these inputs.
RTOL, ATOL = 1e-7, 1e-9
#: The book's examples and the shape checks judge what they say, not exactness: a forward
#: difference (off by about h f''/2, below 1e-3 here) is charged once, by the central-difference
#: checks.
LOOSE = {"rtol": 1e-3, "atol": 1e-3, "diagnose_tol": (RTOL, ATOL)}


@dataclass(frozen=True)
class Fn:
    """The grader fixture function ``name``, as an argument of a Case.

    Calling it calls the fixture (for the reference and the known mistakes); the learner's
    code receives the same function in its own process.
    """

    name: str

    def __call__(self, x: Any) -> Any:
        return getattr(fixtures, self.name)(x)


# Known mistakes: what to tell the learner, and the buggy function in
# solutions/mistakes/ex03_gradient.py whose results on the check's inputs are stored.
MISTAKES: dict[str, list[Mistake]] = {
    "numerical_diff": [
        Mistake("forward difference",
                "numerical_diff uses the forward difference (f(x + h) - f(x)) / h, whose error is "
                "about h f''(x) / 2; use the central difference (f(x + h) - f(x - h)) / (2 * h)",
                variant={"numerical_diff": "numerical_diff_forward"}),
        Mistake("h too small",
                "numerical_diff returns 0: h is far too small (x + 1e-50 == x in floating "
                "point, the book's rounding-error example); use h = 1e-4",
                variant={"numerical_diff": "numerical_diff_tiny_h"}),
        Mistake("divided by h",
                "numerical_diff is twice the derivative: f(x + h) and f(x - h) are 2h apart, so "
                "divide by 2 * h, not by h",
                variant={"numerical_diff": "numerical_diff_divided_by_h"}),
        Mistake("2 * h without parentheses",
                "numerical_diff divides by 2 and then multiplies by h: a / 2 * h is (a / 2) * h; "
                "write (f(x + h) - f(x - h)) / (2 * h)",
                variant={"numerical_diff": "numerical_diff_times_h"}),
    ],
    "numerical_gradient": [
        Mistake("forward difference",
                "numerical_gradient uses the forward difference (f(x + h) - f(x)) / h, whose "
                "error is about h f'' / 2; use the central difference "
                "(f(x with x[idx] + h) - f(x with x[idx] - h)) / (2 * h)",
                variant={"numerical_gradient": "numerical_gradient_forward"}),
        Mistake("h too small",
                "numerical_gradient returns 0 everywhere: h is far too small (x + 1e-50 == x in "
                "floating point, the book's rounding-error example); use h = 1e-4",
                variant={"numerical_gradient": "numerical_gradient_tiny_h"}),
        Mistake("divided by h",
                "numerical_gradient is twice the gradient: x[idx] + h and x[idx] - h are 2h "
                "apart, so divide by 2 * h, not by h",
                variant={"numerical_gradient": "numerical_gradient_divided_by_h"}),
        Mistake("2 * h without parentheses",
                "numerical_gradient divides by 2 and then multiplies by h: a / 2 * h is "
                "(a / 2) * h; write (fxh1 - fxh2) / (2 * h)",
                variant={"numerical_gradient": "numerical_gradient_times_h"}),
        Mistake("only 1-D",
                "numerical_gradient works only for 1-D x: range(x.size) gives row indices of a "
                "2-D array; loop over every element with np.ndindex(x.shape) (or np.nditer "
                "with flags=['multi_index'], as the book's common/gradient.py does)",
                variant={"numerical_gradient": "numerical_gradient_1d_only"}),
        Mistake("whole rows at once",
                "numerical_gradient moves a whole row at once: for a 2-D x, x[idx] with idx "
                "in range(x.shape[0]) is a row (and tmp = x[idx] a view of it, not a copy); "
                "loop over every element with np.ndindex(x.shape), so that x[idx] is one number",
                variant={"numerical_gradient": "numerical_gradient_whole_rows"}),
        Mistake("every element at once",
                "numerical_gradient moves every element of x at once (f(x + h) - f(x - h)): "
                "that is the slope along all elements together, the same in every element; "
                "move one element at a time, x[idx] + h, keeping the others",
                variant={"numerical_gradient": "numerical_gradient_all_at_once"}),
        Mistake("row by row",
                "numerical_gradient calls f on one row at a time (the book's ch04 "
                "gradient_2d.py); f is a function of the whole array x: loop over every element "
                "of x with np.ndindex(x.shape) and call f(x) on all of x",
                variant={"numerical_gradient": "numerical_gradient_by_rows"}),
        # Found by the runner's input check rather than by values.
        Mistake("x not restored",
                "numerical_gradient changes x: x is not restored exactly after each element; "
                "keep tmp = x[idx] and put it back with x[idx] = tmp (adding and subtracting h "
                "again does not always give back the same float)"),
    ],
    "gradient_descent": [
        Mistake("ascends",
                "gradient_descent climbs: it adds the gradient; step against it, "
                "x -= lr * grad", variant={"gradient_descent": "gradient_descent_ascends"}),
        Mistake("lr ignored",
                "gradient_descent ignores its lr argument (it always steps by 0.01 * grad); "
                "use x -= lr * grad", variant={"gradient_descent": "gradient_descent_lr_ignored"}),
        Mistake("step_num ignored",
                "gradient_descent ignores its step_num argument (it always takes 100 steps); "
                "loop for _ in range(step_num)",
                variant={"gradient_descent": "gradient_descent_step_num_ignored"}),
        Mistake("returns the history",
                "gradient_descent returns (x, x_history), as the book's ch04/gradient_method.py "
                "does for plotting; return the final x only",
                variant={"gradient_descent": "gradient_descent_returns_history"}),
        # Found by the runner's input check rather than by values.
        Mistake("init_x modified",
                "gradient_descent modifies init_x: x = init_x makes x another name for the same "
                "array, so x -= lr * grad changes the caller's init_x; start from "
                "x = init_x.copy()"),
    ],
}


# ------------------------------------------------------------------------------- checks


def _learner_args(ctx: Context, args: tuple) -> tuple:
    """``args`` with every ``Fn`` replaced by the fixture in the learner's process."""
    return tuple(ctx.fixture(a.name) if isinstance(a, Fn) else a for a in args)


def _ref(func: str, key: str, case: Case) -> Ref:
    def compute(solution: Any) -> Any:
        return getattr(solution, func)(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))

    return Ref(key, (func, case.args, case.kwargs), compute, numerical=True)


def _call_with_fixtures(ctx: Context, func: str, case: Case) -> Any:
    """Inputs are not checked for modification here: ``_unchanged_input_check`` does that."""
    return ctx.call(func, *_learner_args(ctx, case.args), what=func, check_inputs=False,
                    **case.kwargs)


def _reference_check(func: str, cases: Sequence[Case], *, name: str, rtol: float = RTOL,
                     atol: float = ATOL, **options: Any) -> Check:
    """``func`` on every case must match the reference; known mistakes are named. Every
    function of ex03 differentiates numerically (gradient_descent through numerical_gradient)."""
    options = {"call": _call_with_fixtures, **options}
    return function_check(func, cases, name=name, rtol=rtol, atol=atol, mistakes=MISTAKES[func],
                          numerical=True, **options)


def _unchanged_input_check(func: str, case: Case, mistake: Mistake, *, name: str,
                           passed: str, alone: bool = False) -> Check:
    """``func`` must leave its array argument exactly as it was (else: ``mistake``).
    ``alone``: judged with a correct numerical_gradient when the learner's is wrong."""

    def run(ctx: Context) -> str:
        try:
            if alone:
                got = _call_descent(ctx, func, case, check_inputs=True)
            else:
                got = ctx.call(func, *_learner_args(ctx, case.args), what=func, **case.kwargs)
        except CheckFailed as failure:
            if failure.diagnosis == "modifies its input":
                raise CheckFailed(f"{mistake.message} (input: {case.label})",
                                  diagnosis=mistake.name) from None
            raise
        idle = does_nothing(got, case.args[1:])
        if idle is not None:
            raise CheckFailed(f"{func} on {case.label}: {idle}, so nothing shows that the "
                              f"input is left as it was")
        return passed

    return Check(name=name, points=1, run=run)


# numerical_diff: the book's function_1 at 5 and 10 (0.1999999999990898, 0.2999999999986347),
# and a cubic, on which a forward difference is off by 3hx (relatively 5e-5 at x = 2).
DIFF_BOOK = (
    Case("the book's function_1 at x = 5", (Fn("function_1"), 5.0)),
    Case("the book's function_1 at x = 10", (Fn("function_1"), 10.0)),
    # a negative slope: an abs() or a swapped difference is right at the two points above
    Case("the book's function_1 at x = -10 (slope -0.1)", (Fn("function_1"), -10.0)),
)
DIFF_CUBIC = (
    Case("x**3 at x = 2", (Fn("cubic_sum"), 2.0)),
    Case("x**3 at x = -1.5", (Fn("cubic_sum"), -1.5)),
)

# numerical_gradient: the book's function_2 examples, a cubic (central vs forward), any shape.
GRAD_BOOK = (
    Case("the book's function_2 at [3, 4]", (Fn("function_2"), np.array([3.0, 4.0]))),
    Case("the book's function_2 at [0, 2]", (Fn("function_2"), np.array([0.0, 2.0]))),
    Case("the book's function_2 at [3, 0]", (Fn("function_2"), np.array([3.0, 0.0]))),
)
GRAD_CUBIC = (
    Case("sum(x**3) at 6 points between -2.5 and 2.5",
         (Fn("cubic_sum"), np.array([2.0, -1.5, 2.5, 1.0, -2.2, 1.7]))),
)
GRAD_SHAPES = (
    Case("weighted_sin on a 3x4 array", (Fn("weighted_sin"), rng.uniform(-2, 2, size=(3, 4)))),
    Case("weighted_sin on a 2x3x2 array",
         (Fn("weighted_sin"), rng.uniform(-2, 2, size=(2, 3, 2)))),
    Case("sum(x**3) on a 2x3 array", (Fn("cubic_sum"), rng.uniform(1, 2.5, size=(2, 3)))),
    # not a sum of one term per element: f of one row or one element alone gives nothing right
    Case("sum(sin(x)) * sum(x**2) on a 2x3 array",
         (Fn("coupled"), rng.uniform(-2, 2, size=(2, 3)))),
)
#: Elements from 1e-5 to 1: adding h and subtracting it again changes many of them.
RESTORE_X = rng.choice([-1.0, 1.0], size=(3, 4)) * 10.0 ** rng.uniform(-5, 0, size=(3, 4))
# 1-D, so that the check judges restoring alone, not indexing a 2-D x (judged above)
RESTORE = Case("weighted_sin on 12 values from 1e-5 to 1",
               (Fn("weighted_sin"), RESTORE_X.ravel()))
PROBE = GRAD_SHAPES[0]
PROBE_REF = _ref("numerical_gradient", f"numerical_gradient probe/{PROBE.label}", PROBE)

# gradient_descent: the book's example (lr=0.1, 100 steps from (-3, 4) to about (0, 0)), and
# sum((x - 3)**2), where lr and step_num decide how far x gets: x = 3 - 3 (1 - 2 lr)**step_num.
DESCENT_CONVERGES = (
    Case("the book's function_2 from [-3, 4], lr=0.1, step_num=100",
         (Fn("function_2"), np.array([-3.0, 4.0])), {"lr": 0.1, "step_num": 100}),
    Case("sum((x - 3)**2) from a 2x2 array, lr=0.1, step_num=100",
         (Fn("shifted_quadratic"), rng.uniform(-5, 5, size=(2, 2))),
         {"lr": 0.1, "step_num": 100}),
)
DESCENT_ARGUMENTS = (
    Case("sum((x - 3)**2) from 0 with the defaults (lr=0.01, step_num=100)",
         (Fn("shifted_quadratic"), np.zeros(3))),
    Case("sum((x - 3)**2) from [1, -1], lr=0.05, step_num=20",
         (Fn("shifted_quadratic"), np.array([1.0, -1.0])), {"lr": 0.05, "step_num": 20}),
    Case("sum((x - 3)**2) from [0, 6], lr=0.3, step_num=5",
         (Fn("shifted_quadratic"), np.array([0.0, 6.0])), {"lr": 0.3, "step_num": 5}),
)
DESCENT_INIT = Case("sum((x - 3)**2) from [0, 1, 2], lr=0.1, step_num=10",
                    (Fn("shifted_quadratic"), np.array([0.0, 1.0, 2.0])),
                    {"lr": 0.1, "step_num": 10})


def _numerical_gradient_is_wrong(ctx: Context) -> bool:
    """Whether the learner's numerical_gradient is wrong on the probe (or changes x)."""
    def probe() -> bool:
        try:
            got, after = ctx.call("numerical_gradient", *_learner_args(ctx, PROBE.args),
                                  check_inputs=False, with_args=True)
            assert_close(got, ctx.expected(PROBE_REF), what="numerical_gradient", rtol=RTOL,
                         atol=ATOL)
        except CheckFailed:
            return True
        return not same_value(after[1], PROBE.args[1])

    return ctx.once("numerical_gradient is wrong", probe)


def _call_descent(ctx: Context, func: str, case: Case, check_inputs: bool = False) -> Any:
    """gradient_descent on ``case``, judged on its own: when the learner's numerical_gradient
    is wrong (charged in its own checks), the call runs with a correct one in its place."""
    args = _learner_args(ctx, case.args)
    if not _numerical_gradient_is_wrong(ctx):
        return ctx.call(func, *args, what=func, check_inputs=check_inputs, **case.kwargs)
    return call_replacing(ctx, func, args, case.kwargs,
                          {"numerical_gradient": "central_gradient"}, check_inputs=check_inputs)


EXERCISE = Exercise(
    id="ex03",
    module="ex03_gradient",
    title="Numerical gradient",
    checks=(
        _reference_check("numerical_diff", DIFF_BOOK, **LOOSE,
                         name="numerical_diff matches the book's examples (0.2 and 0.3)"),
        _reference_check("numerical_diff", DIFF_CUBIC,
                         name="numerical_diff is a central difference (exact to 1e-7 on x**3)"),
        _reference_check("numerical_gradient", GRAD_BOOK, **LOOSE,
                         name="numerical_gradient matches the book's examples ([6, 8], ...)"),
        _reference_check("numerical_gradient", GRAD_CUBIC,
                         name="numerical_gradient is a central difference (exact to 1e-7 on "
                              "sum(x**3))"),
        _reference_check("numerical_gradient", GRAD_SHAPES, rtol=1e-3, atol=1e-2,
                         diagnose_tol=(RTOL, ATOL),
                         name="numerical_gradient works on 2-D and 3-D arrays"),
        _unchanged_input_check("numerical_gradient", RESTORE,
                               named(MISTAKES["numerical_gradient"], "x not restored"),
                               name="numerical_gradient restores x exactly",
                               passed="x is exactly as it was"),
        _reference_check("gradient_descent", DESCENT_CONVERGES,
                         name="gradient_descent converges to the minimum of a quadratic",
                         rtol=1e-6, call=_call_descent, explain_refs=(PROBE_REF,)),
        _reference_check("gradient_descent", DESCENT_ARGUMENTS,
                         name="gradient_descent follows lr and step_num (defaults 0.01 and 100)",
                         rtol=1e-6, call=_call_descent, explain_refs=(PROBE_REF,)),
        _unchanged_input_check("gradient_descent", DESCENT_INIT,
                               named(MISTAKES["gradient_descent"], "init_x modified"),
                               name="gradient_descent leaves init_x unchanged",
                               passed="init_x is exactly as it was", alone=True),
    ),
)
