"""Checks for ex05: the layers Relu, Sigmoid, Affine and SoftmaxWithLoss, forward and backward.

Each layer is checked twice: against the reference (a scenario: forward, then backward on the
same object, with the values it keeps) and against a numerical gradient of the learner's own
forward, as CS231n's gradient checks do.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from grader.checks import (
    Api,
    Check,
    CheckFailed,
    Context,
    Exercise,
    Mistake,
    confirmed_probe,
    naming_when_raising,
    numerical_gradient,
    probing,
    relative_error,
    scenario_check,
)
from grader.checks.compare import close_enough, float_array
from grader.checks.kinds import Probe
from grader.checks.mistakes import named

rng = np.random.default_rng(5)


def _away_from_zero(shape: tuple[int, ...]) -> np.ndarray:
    """Values in +-[0.1, 2]: the central differences never cross ReLU's kink at 0."""
    return rng.uniform(0.1, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


RELU_X, RELU_DOUT = _away_from_zero((3, 4)), rng.normal(size=(3, 4))
RELU_X3, RELU_DOUT3 = _away_from_zero((2, 3, 4)), rng.normal(size=(2, 3, 4))

SIGMOID_X, SIGMOID_DOUT = rng.normal(0, 2, size=(3, 4)), rng.normal(size=(3, 4))

#: Affine: a batch of N samples of D features, M outputs. W is not square, so a transposed dW
#: has the wrong shape; the 4-D input (N, C, H, W) has D = C * H * W features.
N, D, M = 3, 6, 4
W, B = rng.normal(size=(D, M)), rng.normal(size=M)
AFFINE_X, AFFINE_X4 = rng.normal(size=(N, D)), rng.normal(size=(N, 1, 2, 3))
AFFINE_DOUT = rng.normal(size=(N, M))

#: The probe of "dx = dout . x^T": a square Affine (N = D = M), where that product has dx's shape.
SQ = 3
W_SQ, B_SQ = rng.normal(size=(SQ, SQ)), rng.normal(size=SQ)
X_SQ, DOUT_SQ = rng.normal(size=(SQ, SQ)), rng.normal(size=(SQ, SQ))

#: SoftmaxWithLoss: a batch of BATCH samples over CLASSES classes. Scores are moderate, so that
#: every probability is far from 0 and the loss with or without the 1e-7 guard agrees to 1e-5.
BATCH, CLASSES = 4, 5
SCORES = rng.normal(size=(BATCH, CLASSES))
LABELS = np.array([1, 0, 4, 2])
ONE_HOT = np.eye(CLASSES)[LABELS]

#: CS231n: a relative error of about 1e-7 or less in float64 means the gradient is right; the
#: known mistakes give 1e-1 or more.
MAX_REL_ERROR = 1e-6
#: The loss's 1e-7 guard moves its numerical gradient by about 1e-7 / (2 y_t) relative.
SOFTMAX_MAX_REL_ERROR = 1e-5

# Known mistakes, as data: what the buggy code gives and what to tell the learner. Most derive
# the buggy values from the reference's; the buggy Sigmoid is a class in solutions/mistakes/
# whose results are stored; "no flattening" and "one-hot only" make the learner's code raise,
# and are named by the probes below.
MISTAKES: dict[str, list[Mistake]] = {
    "Relu": [
        Mistake("Relu backward without the mask",
                "Relu.backward returns dout unchanged; no gradient flows where the input was "
                "<= 0: keep the mask from forward and set dout[self.mask] = 0",
                derive=lambda e: {"dx": RELU_DOUT, "dx (3-D input)": RELU_DOUT3}),
    ],
    "Sigmoid": [
        Mistake("Sigmoid backward on the input",
                "Sigmoid.backward computes dout * x * (1 - x) with the forward input x; the "
                "formula takes the forward output y = sigmoid(x): keep self.out = y in forward "
                "and return dout * self.out * (1 - self.out)",
                variant={"Sigmoid": "SigmoidBackwardOnInput"}),
    ],
    "Affine": [
        Mistake("db not summed",
                "db is not summed over the batch: db must have the shape of b; the bias is added "
                "to every sample, so use self.db = np.sum(dout, axis=0)",
                derive=lambda e: {"db": AFFINE_DOUT}),
        Mistake("db averaged",
                "db is averaged over the batch: the bias gets the sum of the samples' gradients "
                "(the 1/N is already in dout, from SoftmaxWithLoss); use np.sum(dout, axis=0), "
                "not np.mean",
                derive=lambda e: {"db": e["db"] / N}),
        Mistake("db summed over every axis",
                "db is summed over every axis into one number; sum over the batch only, "
                "np.sum(dout, axis=0), which has the shape of b",
                derive=lambda e: {"db": np.sum(e["db"])}),
        Mistake("dW transposed",
                "dW is transposed (dout^T x has shape (M, D)); dW must have the shape of W, "
                "(D, M): use self.dW = np.dot(self.x.T, dout)",
                derive=lambda e: {"dW": e["dW"].T}),
        Mistake("dx not reshaped",
                "Affine.backward returns dx flattened to (N, D); it must have the shape of the "
                "forward input: keep x.shape in forward (self.original_x_shape) and return "
                "dx.reshape(*self.original_x_shape)",
                derive=lambda e: {"dx": e["dx"].reshape(N, -1)}),
        Mistake("dW and db not stored",
                "Affine.backward must store the gradients on the layer: self.dW or self.db is "
                "still None after backward (local variables dW = ..., db = ... vanish when it "
                "returns); write self.dW = np.dot(self.x.T, dout) and "
                "self.db = np.sum(dout, axis=0)"),
        Mistake("dx uses x instead of W",
                "Affine.backward computes dx from x: dx = dout . W^T, shape (N, M)(M, D) = "
                "(N, D); dout . x^T has no meaning here (and fails unless M = N): use "
                "dx = np.dot(dout, self.W.T)"),
        Mistake("no flattening",
                "Affine.forward does not flatten its input: np.dot(x, W) fails for x of shape "
                "(N, C, H, W); reshape x to (N, -1) first, x.reshape(x.shape[0], -1), and keep "
                "the original shape for backward"),
    ],
    "SoftmaxWithLoss": [
        Mistake("no division by the batch size",
                "SoftmaxWithLoss.backward does not divide by the batch size: the loss is the "
                "mean over the N samples, so its gradient is (y - t) / N",
                derive=lambda e: {"dx": e["dx"] * BATCH}),
        Mistake("loss summed over the batch",
                "SoftmaxWithLoss.forward returns the sum of the samples' losses; the loss is "
                "their mean: divide by the batch size N",
                derive=lambda e: {"loss": e["loss"] * BATCH}),
        Mistake("softmax over the whole batch",
                "SoftmaxWithLoss takes the softmax over the whole batch (np.max(x) and "
                "np.sum(exp_x) over every element), so the probabilities of one sample depend on "
                "the others and no row sums to 1; take max and sum over the classes of each "
                "sample: axis=-1, keepdims=True (the book's 1-D softmax, applied to a batch)",
                variant={"SoftmaxWithLoss": "SoftmaxWithLossOverBatch"}),
        Mistake("one-hot targets only",
                "SoftmaxWithLoss works only with one-hot targets; when t holds integer labels "
                "(shape (N,)), the loss takes y[np.arange(N), t] and backward subtracts 1 at "
                "dx[np.arange(N), t] (t.size == y.size tells the two apart)"),
    ],
}



# --------------------------------------------------------------------------- reference scenarios


def relu_scenario(api: Api) -> dict:
    layer, layer3 = api.new("Relu"), api.new("Relu")
    out = api.call(layer, "forward", RELU_X)
    dx = api.call(layer, "backward", RELU_DOUT, may_modify=(0,))
    out3 = api.call(layer3, "forward", RELU_X3)
    dx3 = api.call(layer3, "backward", RELU_DOUT3, may_modify=(0,))
    return {"out": out, "dx": dx, "out (3-D input)": out3, "dx (3-D input)": dx3}


def sigmoid_scenario(api: Api) -> dict:
    layer = api.new("Sigmoid")
    out = api.call(layer, "forward", SIGMOID_X)
    dx = api.call(layer, "backward", SIGMOID_DOUT, may_modify=(0,))
    return {"out": out, "dx": dx}


def _affine_scenario(x: np.ndarray) -> Callable[[Api], dict]:
    def scenario(api: Api) -> dict:
        layer = api.new("Affine", W, B)
        out = api.call(layer, "forward", x)
        dx = api.call(layer, "backward", AFFINE_DOUT, may_modify=(0,))
        return {"out": out, "dx": dx, "dW": api.attr(layer, "dW"), "db": api.attr(layer, "db")}

    return scenario


def _softmax_scenario(t: np.ndarray, *dout: int) -> Callable[[Api], dict]:
    """Forward on (SCORES, t), then ``backward(*dout)``: the default dout=1 when dout is empty."""

    def scenario(api: Api) -> dict:
        layer = api.new("SoftmaxWithLoss")
        loss = api.call(layer, "forward", SCORES, t)
        dx = api.call(layer, "backward", *dout)
        return {"loss": loss, "dx": dx}

    return scenario


# --------------------------------------------------------------------------- raising mistakes


def _raises(ctx: Context, steps: Callable[[Context], object]) -> bool:
    """Whether ``steps`` makes the learner's code raise an exception (other faults propagate)."""
    try:
        steps(ctx)
    except CheckFailed as failure:
        if failure.kind != "exception":
            raise
        return True
    return False


def _affine_forward(x: np.ndarray) -> Callable[[Context], object]:
    def steps(ctx: Context) -> object:
        return ctx.call(ctx.call("Affine", W, B, keep=True, what="Affine"), x, method="forward")

    return steps


def _not_flattening(ctx: Context) -> bool:
    """Affine.forward raises on the 4-D input but works on the same input flattened."""
    return _raises(ctx, _affine_forward(AFFINE_X4)) and not _raises(
        ctx, _affine_forward(AFFINE_X4.reshape(N, -1)))


def _softmax_steps(t: np.ndarray) -> Callable[[Context], object]:
    def steps(ctx: Context) -> object:
        layer = ctx.call("SoftmaxWithLoss", keep=True, what="SoftmaxWithLoss")
        ctx.call(layer, SCORES, t, method="forward")
        return ctx.call(layer, method="backward")

    return steps


def _one_hot_only(ctx: Context) -> bool:
    """SoftmaxWithLoss raises with integer labels but not with the same targets one-hot."""
    return _raises(ctx, _softmax_steps(LABELS)) and not _raises(ctx, _softmax_steps(ONE_HOT))


#: What ``forward`` must keep on ``self`` for ``backward`` (the spec's attribute names).
STATE = {"Sigmoid": "out", "Affine": "x"}
STATE_NOT_STORED = Mistake(
    "forward state not stored",
    "forward does not store what backward needs: self.{attr} is still None after forward (a line "
    "`self.{attr}` alone does nothing); assign it: self.{attr} = {attr}")


def _layer_after_forward(ctx: Context, cls: str) -> object:
    args = (W, B) if cls == "Affine" else ()
    layer = ctx.call(cls, *args, keep=True, what=cls)
    ctx.call(layer, AFFINE_X if cls == "Affine" else SIGMOID_X, method="forward",
             what=f"{cls}.forward")
    return layer


def _state_not_stored(cls: str) -> Callable[[Context], bool]:
    """The attribute ``forward`` must keep is still None after forward."""

    def confirm(ctx: Context) -> bool:
        return ctx.attr(_layer_after_forward(ctx, cls), STATE[cls]) is None

    return confirm


def _gradients_not_stored(ctx: Context) -> bool:
    """backward runs, but leaves ``dW`` or ``db`` None."""
    layer = _layer_after_forward(ctx, "Affine")
    ctx.call(layer, AFFINE_DOUT, method="backward", may_modify=(0,), what="Affine.backward")
    return ctx.attr(layer, "dW") is None or ctx.attr(layer, "db") is None


def _dx_from_x(ctx: Context) -> bool:
    """On a square Affine, backward's dx is dout . x^T (and that is not dout . W^T)."""
    layer = ctx.call("Affine", W_SQ, B_SQ, keep=True, what="Affine")
    ctx.call(layer, X_SQ, method="forward", what="Affine.forward")
    dx = ctx.call(layer, DOUT_SQ, method="backward", may_modify=(0,), what="Affine.backward")
    return (close_enough(dx, DOUT_SQ @ X_SQ.T, 1e-6, 1e-9)
            and not close_enough(dx, DOUT_SQ @ W_SQ.T, 1e-6, 1e-9))


def _raised_on_none(failure: CheckFailed) -> bool:
    return failure.kind == "exception" and "NoneType" in failure.message


def _raised(failure: CheckFailed) -> bool:
    return failure.kind == "exception"


def _got_none(failure: CheckFailed) -> bool:
    return failure.kind is None and "got None" in failure.message


def _state_probe(cls: str) -> Probe:
    """Names a forward that does not keep what backward needs, when backward raised on None."""
    attr = STATE[cls]
    mistake = Mistake(STATE_NOT_STORED.name,
                      f"{cls}." + STATE_NOT_STORED.message.format(attr=attr))
    return confirmed_probe(mistake, _raised_on_none, _state_not_stored(cls))


_AFFINE_PROBES = (
    confirmed_probe(named(MISTAKES["Affine"], "dW and db not stored"), _got_none,
                    _gradients_not_stored),
    confirmed_probe(named(MISTAKES["Affine"], "dx uses x instead of W"), _raised, _dx_from_x),
    _state_probe("Affine"),
)


# --------------------------------------------------------------------------- numerical gradients


def _weighted_forward(ctx: Context, layer: object, what: str, dout: np.ndarray,
                      *rest: np.ndarray) -> Callable[[np.ndarray], float]:
    """x -> sum(layer.forward(x, *rest) * dout): its gradient in x is backward(dout)."""

    def f(x: np.ndarray) -> float:
        out = ctx.call(layer, x, *rest, method="forward", what=f"{what}.forward")
        return float(np.sum(float_array(out, what=f"{what}.forward", shape=dout.shape) * dout))

    return f


def _compare(what: str, analytic: object, numeric: np.ndarray, limit: float) -> float:
    """The relative error of ``analytic`` (the learner's ``what``) against ``numeric``."""
    array = float_array(analytic, what=what, shape=numeric.shape)
    error = relative_error(array, numeric)
    if not error <= limit:
        raise CheckFailed(f"{what} disagrees with the numerical gradient of your forward: "
                          f"relative error {error:.1e} (should be below {limit:.0e})")
    return error


def _passed(error: float) -> str:
    return f"relative error {error:.0e} against the numerical gradient of forward"


def _elementwise_gradient_check(cls: str, x: np.ndarray, dout: np.ndarray) -> Check:
    """backward(dout) of ``cls`` against the numerical gradient of x -> sum(forward(x) * dout)."""

    def run(ctx: Context) -> str:
        layer = ctx.call(cls, keep=True, what=cls)
        ctx.call(layer, x, method="forward", what=f"{cls}.forward")
        dx = ctx.call(layer, dout, method="backward", may_modify=(0,), what=f"{cls}.backward")
        fresh = ctx.call(cls, keep=True, what=cls)  # forward keeps state: differentiate another
        numeric = numerical_gradient(_weighted_forward(ctx, fresh, cls, dout), x)
        return _passed(_compare(f"{cls}.backward: dx", dx, numeric, MAX_REL_ERROR))

    return Check(f"{cls} backward agrees with a numerical gradient of forward", 1, run)


def _affine_gradient(ctx: Context) -> str:
    """dx, dW and db against the numerical gradients of sum(forward(x) * dout) in x, W and b."""
    layer = ctx.call("Affine", W, B, keep=True, what="Affine")
    ctx.call(layer, AFFINE_X, method="forward", what="Affine.forward")
    dx = ctx.call(layer, AFFINE_DOUT, method="backward", may_modify=(0,), what="Affine.backward")
    analytic = {"dx": dx, "dW": ctx.attr(layer, "dW"), "db": ctx.attr(layer, "db")}

    def through_new_layer(w: np.ndarray, b: np.ndarray) -> float:
        fresh = ctx.call("Affine", w, b, keep=True, what="Affine")
        return _weighted_forward(ctx, fresh, "Affine", AFFINE_DOUT)(AFFINE_X)

    numeric = {
        "dx": numerical_gradient(_weighted_forward(ctx, layer, "Affine", AFFINE_DOUT), AFFINE_X),
        "dW": numerical_gradient(lambda w: through_new_layer(w, B), W),
        "db": numerical_gradient(lambda b: through_new_layer(W, b), B),
    }
    errors = [_compare(f"Affine.backward: {key}", analytic[key], numeric[key], MAX_REL_ERROR)
              for key in ("dx", "dW", "db")]
    return _passed(max(errors)) + " (dx, dW and db)"


def _softmax_gradient(ctx: Context) -> str:
    """backward() against the numerical gradient of the loss x -> forward(x, t)."""
    layer = ctx.call("SoftmaxWithLoss", keep=True, what="SoftmaxWithLoss")
    ctx.call(layer, SCORES, ONE_HOT, method="forward", what="SoftmaxWithLoss.forward")
    dx = ctx.call(layer, method="backward", what="SoftmaxWithLoss.backward")
    fresh = ctx.call("SoftmaxWithLoss", keep=True, what="SoftmaxWithLoss")
    loss = _weighted_forward(ctx, fresh, "SoftmaxWithLoss", np.array(1.0), ONE_HOT)
    numeric = numerical_gradient(loss, SCORES)
    return _passed(_compare("SoftmaxWithLoss.backward: dx", dx, numeric, SOFTMAX_MAX_REL_ERROR))


# --------------------------------------------------------------------------- the exercise

_SOFTMAX_TOLERANCE = {"rtol": 1e-5, "atol": 1e-9}

EXERCISE = Exercise(
    id="ex05",
    module="ex05_layers",
    title="Layers: Relu, Sigmoid, Affine, SoftmaxWithLoss",
    checks=(
        scenario_check("Relu forward and backward match the reference (2-D and 3-D input)",
                       relu_scenario, inputs=(RELU_X, RELU_DOUT, RELU_X3, RELU_DOUT3),
                       mistakes=MISTAKES["Relu"]),
        _elementwise_gradient_check("Relu", RELU_X, RELU_DOUT),
        probing(scenario_check("Sigmoid forward and backward match the reference",
                               sigmoid_scenario, inputs=(SIGMOID_X, SIGMOID_DOUT),
                               mistakes=MISTAKES["Sigmoid"]), _state_probe("Sigmoid")),
        probing(_elementwise_gradient_check("Sigmoid", SIGMOID_X, SIGMOID_DOUT),
                _state_probe("Sigmoid")),
        probing(scenario_check("Affine forward and backward match the reference (2-D input)",
                               _affine_scenario(AFFINE_X), inputs=(W, B, AFFINE_X, AFFINE_DOUT),
                               mistakes=MISTAKES["Affine"]), *_AFFINE_PROBES),
        probing(naming_when_raising(
            scenario_check("Affine flattens a 4-D input and returns dx in its shape",
                           _affine_scenario(AFFINE_X4), inputs=(W, B, AFFINE_X4, AFFINE_DOUT),
                           mistakes=MISTAKES["Affine"]),
            named(MISTAKES["Affine"], "no flattening"), _not_flattening), *_AFFINE_PROBES),
        probing(Check("Affine backward agrees with a numerical gradient of forward", 1,
                      _affine_gradient), *_AFFINE_PROBES),
        scenario_check("SoftmaxWithLoss forward and backward match the reference (one-hot t)",
                       _softmax_scenario(ONE_HOT), inputs=(SCORES, ONE_HOT),
                       mistakes=MISTAKES["SoftmaxWithLoss"], **_SOFTMAX_TOLERANCE),
        naming_when_raising(
            scenario_check("SoftmaxWithLoss forward and backward match the reference "
                           "(integer labels)", _softmax_scenario(LABELS, 1),
                           inputs=(SCORES, LABELS, 1), mistakes=MISTAKES["SoftmaxWithLoss"],
                           **_SOFTMAX_TOLERANCE),
            named(MISTAKES["SoftmaxWithLoss"], "one-hot targets only"), _one_hot_only),
        Check("SoftmaxWithLoss backward agrees with a numerical gradient of forward", 1,
              _softmax_gradient),
    ),
)
