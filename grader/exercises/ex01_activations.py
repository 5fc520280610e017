"""Checks for ex01: activation functions and their derivatives."""

from __future__ import annotations

import numpy as np

from grader.checks import (
    Case,
    Check,
    CheckFailed,
    Context,
    Exercise,
    Mistake,
    assert_close,
    derivative_check,
    function_check,
    property_check,
)
from grader.checks.compare import float_array

rng = np.random.default_rng(1)

#: Inputs of every shape the spec asks for: scalar, 1-D, a batch and a 3-D array.
SHAPES = (
    Case("a scalar", (np.float64(0.7),)),  # the spec's arrays are NumPy arrays, scalars too
    Case("a 1-D array", (rng.normal(0, 3, size=7),)),
    Case("a 4x5 batch", (rng.normal(0, 3, size=(4, 5)),)),
    Case("a 2x3x4 array", (rng.normal(0, 3, size=(2, 3, 4)),)),
)


def _away_from_zero(shape: tuple[int, ...]) -> np.ndarray:
    """Values in +-[0.1, 4]: no kink of relu, leaky_relu or elu is near."""
    return rng.uniform(0.1, 4.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


SMOOTH = (
    Case("a 1-D array", (_away_from_zero((9,)),)),
    Case("a 3x4 batch", (_away_from_zero((3, 4)),)),
)
AT_ZERO = Case("[-1, 0, 1]", (np.array([-1.0, 0.0, 1.0]),))


def _with_alpha(cases: tuple[Case, ...], alpha: float) -> tuple[Case, ...]:
    return cases + tuple(
        Case(f"{c.label} with alpha={alpha}", c.args, {"alpha": alpha}) for c in cases
    )


# Known mistakes: what to tell the learner, and the buggy function in
# solutions/mistakes/ex01_activations.py whose results on the check's inputs are stored.
MISTAKES: dict[str, list[Mistake]] = {
    "step_function": [
        Mistake("step 1 at 0", "step_function returns 1 at x = 0; use x > 0, not x >= 0",
                variant={"step_function": "step_function_one_at_zero"}),
    ],
    "sigmoid_grad": [
        Mistake("sigmoid_grad on the output",
                "sigmoid_grad computes x * (1 - x): that formula takes the sigmoid's output y; "
                "here x is the input, so compute s = sigmoid(x) first",
                variant={"sigmoid_grad": "sigmoid_grad_of_output"}),
        Mistake("sigmoid_grad mixes input and output",
                "sigmoid_grad computes sigmoid(x) * (1 - x): both factors must be the "
                "sigmoid's output, s * (1 - s) with s = sigmoid(x)",
                variant={"sigmoid_grad": "sigmoid_grad_mixed"}),
        Mistake("sigmoid_grad returns sigmoid", "sigmoid_grad returns sigmoid(x) itself",
                variant={"sigmoid_grad": "sigmoid_grad_returns_sigmoid"}),
    ],
    "tanh_grad": [
        Mistake("tanh_grad on the output",
                "tanh_grad computes 1 - x**2: that formula takes tanh's output; "
                "here x is the input, so use 1 - tanh(x)**2",
                variant={"tanh_grad": "tanh_grad_of_output"}),
    ],
    "relu_grad": [
        Mistake("relu_grad returns relu", "relu_grad returns max(0, x) instead of 1 for x > 0",
                variant={"relu_grad": "relu_grad_returns_relu"}),
    ],
    "leaky_relu": [
        Mistake("alpha ignored", "leaky_relu ignores its alpha argument (always 0.01)",
                variant={"leaky_relu": "leaky_relu_alpha_ignored"}),
    ],
    "leaky_relu_grad": [
        Mistake("alpha ignored", "leaky_relu_grad ignores its alpha argument (always 0.01)",
                variant={"leaky_relu_grad": "leaky_relu_grad_alpha_ignored"}),
        Mistake("leaky_relu_grad 0 for negatives",
                "leaky_relu_grad gives 0 for x < 0; the slope there is alpha",
                variant={"leaky_relu_grad": "leaky_relu_grad_zero_for_negatives"}),
    ],
    "elu": [
        Mistake("ELU without the -1", "elu computes alpha * exp(x) for x <= 0; "
                "it is alpha * (exp(x) - 1), so that it is 0 at 0",
                variant={"elu": "elu_without_minus_one"}),
        Mistake("alpha ignored", "elu ignores its alpha argument",
                variant={"elu": "elu_alpha_ignored"}),
    ],
    "elu_grad": [
        Mistake("alpha ignored", "elu_grad ignores its alpha argument",
                variant={"elu_grad": "elu_grad_alpha_ignored"}),
    ],
    "softmax": [
        Mistake("no max subtraction",
                "softmax overflows (exp of a large score is inf, and inf/inf is NaN): "
                "subtract each row's max before exp, since softmax(x) = softmax(x - c)",
                variant={"softmax": "softmax_without_max"}),
        Mistake("softmax max over the whole batch",
                "softmax subtracts the max of the whole batch; subtract each row's own max "
                "(np.max(x, axis=-1, keepdims=True)) or rows with small scores underflow to 0/0",
                variant={"softmax": "softmax_batch_max"}),
        Mistake("softmax over the wrong axis",
                "softmax normalises over the first axis (columns); a batch has one sample per "
                "row, so normalise over the last axis (axis=-1, keepdims=True)",
                variant={"softmax": "softmax_first_axis"}),
        Mistake("softmax over the whole batch",
                "softmax divides by the sum over the whole batch; each row must sum to 1, so "
                "sum over the last axis (axis=-1, keepdims=True)",
                variant={"softmax": "softmax_whole_batch"}),
    ],
}


#: The spec's keyword defaults, named when a learner's default is wrong.
DEFAULTS = {"leaky_relu": {"alpha": 0.01}, "leaky_relu_grad": {"alpha": 0.01},
            "elu": {"alpha": 1.0}, "elu_grad": {"alpha": 1.0}}


def _siblings(func: str) -> dict[str, str]:
    """A derivative's own function, and the identity: results a wrong derivative may equal."""
    if not func.endswith("_grad"):
        return {}
    base = func.removesuffix("_grad")
    return {base: f"{func} returns {base}(x) itself, not its derivative",
            "identity_function": f"{func} returns x unchanged, not the derivative"}


def _reference(func: str, cases: tuple[Case, ...], name: str, **options: float) -> Check:
    return function_check(func, cases, name=name, mistakes=MISTAKES.get(func, ()),
                          siblings=_siblings(func), defaults=DEFAULTS.get(func, {}), **options)


def _floats(got: object, shape: tuple[int, ...]) -> tuple[np.ndarray, None] | tuple[None, str]:
    """``got`` as a float array of ``shape`` (judged before converting), or what is wrong."""
    try:
        return float_array(got, what="", shape=shape, lists=True), None
    except CheckFailed as failure:
        return None, failure.message.removeprefix(": ")


def _is_binary_at_zero(got: object, case: Case) -> str | None:
    """Accept 0 or 1 at x = 0 and the exact values elsewhere (for the *_grad functions)."""
    values, problem = _floats(got, (3,))
    if values is None:
        return problem
    if values[0] != 0.0:
        return f"the value at x = -1 is {values[0]:g}, expected 0"
    if values[1] not in (0.0, 1.0):
        return f"the value at exactly 0 is {values[1]:g}; it may be 0 or 1"
    if values[2] != 1.0:
        return f"the value at x = 1 is {values[2]:g}, expected 1"
    return None


def _one_sided(alpha_default: float):
    def predicate(got: object, case: Case) -> str | None:
        alpha = case.kwargs.get("alpha", alpha_default)
        values, problem = _floats(got, (3,))
        if values is None:
            return problem
        if not (np.isclose(values[1], 1.0) or np.isclose(values[1], alpha)):
            return f"the value at exactly 0 is {values[1]:g}; it may be 1 or alpha = {alpha:g}"
        if not np.isclose(values[2], 1.0):
            return f"the value at x = 1 is {values[2]:g}, expected 1"
        return None

    return predicate


def _step_at_zero(got: object, case: Case) -> str | None:
    values, problem = _floats(got, (3,))
    if values is None:
        return problem
    if not np.array_equal(values, [0.0, 0.0, 1.0]):
        return f"got {values.tolist()}, expected [0, 0, 1] (0 at exactly 0)"
    return None


def _rows_sum_to_one(got: object, case: Case) -> str | None:
    values, problem = _floats(got, np.shape(case.args[0]))
    if values is None:
        return problem
    sums = np.sum(values, axis=-1)
    if not np.allclose(sums, 1.0, rtol=0, atol=1e-9):
        worst = int(np.argmax(np.abs(sums - 1)))
        return f"row {worst} sums to {sums.flat[worst]:.6g}, not 1"
    return None


SOFTMAX_BATCH = rng.normal(0, 2, size=(5, 6))


def _softmax_shift(ctx: Context) -> str:
    """softmax(x + c) must equal softmax(x) row by row, with a different c per row."""
    shift = np.arange(5.0)[:, None] * 30.0
    plain = ctx.call("softmax", SOFTMAX_BATCH)
    shifted = ctx.call("softmax", SOFTMAX_BATCH + shift)
    values = float_array(plain, what="softmax(x)", shape=SOFTMAX_BATCH.shape)
    if not np.isfinite(values).all():  # NaN would equal NaN below: no evidence of invariance
        raise CheckFailed("softmax(x) holds NaN or inf, so nothing shows that adding a constant "
                          "to a row leaves it unchanged")
    if np.ptp(values, axis=-1).max() == 0:  # zeros, or any constant: nothing is computed
        raise CheckFailed("softmax(x) is constant along every row, so nothing shows that adding "
                          "a constant to a row leaves it unchanged")
    try:
        assert_close(shifted, plain, what="softmax(x + c) vs softmax(x)", rtol=1e-9, atol=1e-12)
    except CheckFailed as failure:
        message = f"{failure.message}; adding a constant to a row must not change it"
        raise CheckFailed(message) from None
    return "softmax(x + c) = softmax(x)"


EXERCISE = Exercise(
    id="ex01",
    module="ex01_activations",
    title="Activation functions",
    checks=(
        _reference("identity_function", SHAPES, "identity_function returns its input"),
        _reference("step_function", SHAPES, "step_function matches the reference"),
        property_check("step_function", (AT_ZERO,), _step_at_zero,
                       name="step_function is 0 at exactly 0",
                       passed="0 at 0", mistakes=MISTAKES["step_function"]),
        _reference("sigmoid", SHAPES, "sigmoid matches the reference"),
        _reference("sigmoid", (Case("[-1000, 0, 1000]", (np.array([-1000.0, 0.0, 1000.0]),)),),
                   "sigmoid gives 0 and 1 at -1000 and 1000, never NaN"),
        _reference("sigmoid_grad", SHAPES, "sigmoid_grad matches the reference"),
        derivative_check("sigmoid_grad", "sigmoid", SMOOTH,
                         name="sigmoid_grad agrees with a numerical derivative of sigmoid"),
        _reference("tanh", SHAPES + (Case("[-1000, 0, 1000]",
                                          (np.array([-1000.0, 0.0, 1000.0]),)),),
                   "tanh matches the reference"),
        _reference("tanh_grad", SHAPES, "tanh_grad matches the reference"),
        derivative_check("tanh_grad", "tanh", SMOOTH,
                         name="tanh_grad agrees with a numerical derivative of tanh"),
        _reference("relu", SHAPES, "relu matches the reference"),
        _reference("relu_grad", SMOOTH, "relu_grad matches the reference away from 0"),
        property_check("relu_grad", (AT_ZERO,), _is_binary_at_zero,
                       name="relu_grad is 0 or 1 at exactly 0", passed="0 or 1 at 0"),
        derivative_check("relu_grad", "relu", SMOOTH,
                         name="relu_grad agrees with a numerical derivative of relu"),
        _reference("leaky_relu", _with_alpha(SHAPES[1:3], 0.2),
                   "leaky_relu matches the reference (default and given alpha)"),
        _reference("leaky_relu_grad", _with_alpha(SMOOTH, 0.2),
                   "leaky_relu_grad matches the reference (default and given alpha)"),
        property_check("leaky_relu_grad",
                       (AT_ZERO, Case("[-1, 0, 1] with alpha=0.2", AT_ZERO.args, {"alpha": 0.2})),
                       _one_sided(0.01), name="leaky_relu_grad is 1 or alpha at exactly 0",
                       passed="1 or alpha at 0"),
        derivative_check("leaky_relu_grad", "leaky_relu", _with_alpha(SMOOTH[:1], 0.2),
                         name="leaky_relu_grad agrees with a numerical derivative"),
        _reference("elu", _with_alpha(SHAPES[1:3], 0.5),
                   "elu matches the reference (default and given alpha)"),
        _reference("elu_grad", _with_alpha(SMOOTH, 0.5),
                   "elu_grad matches the reference (default and given alpha)"),
        derivative_check("elu_grad", "elu", _with_alpha(SMOOTH[:1], 0.5),
                         name="elu_grad agrees with a numerical derivative of elu"),
        _reference("softmax", (Case("a 1-D array", (rng.normal(0, 2, size=6),)),
                               Case("a 5x6 batch", (SOFTMAX_BATCH,))),
                   "softmax matches the reference (1-D and batch)"),
        property_check("softmax", (Case("a 5x6 batch", (SOFTMAX_BATCH,)),), _rows_sum_to_one,
                       name="softmax rows sum to 1", passed="rows sum to 1",
                       mistakes=MISTAKES["softmax"]),
        _reference("softmax",
                   (Case("[1000, 0, -1000]", (np.array([1000.0, 0.0, -1000.0]),)),
                    Case("a batch with rows near +1000 and -1000",
                         (np.array([[1000.0, 999.0, 998.0], [-1000.0, -999.0, -1001.0]]),))),
                   "softmax is stable for inputs of +-1000"),
        Check("softmax is shift invariant", 1, _softmax_shift),
    ),
)
