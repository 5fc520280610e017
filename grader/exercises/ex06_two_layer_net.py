"""Checks for ex06: TwoLayerNet (Affine -> ReLU -> Affine -> SoftmaxWithLoss).

The learner's network draws random initial weights, so the checks that compare with the reference
first give it known parameters: they write fixed values *in place* into the arrays of its
``params`` (``params['W1'][()] = value``), which is also how an optimizer trains it. A network
whose layers hold copies of ``params`` ignores such writes and fails those checks; they then say
so (``_shares_params``). The initial weights are checked by their statistics instead.

Known mistakes of the initialisation and of the in-place updates are recognised from what the
learner's network does (their ``Mistake`` carries the message only); the others are mistakes of
scenario checks, ``derive``d from the reference's results or, for a softmax in predict, a buggy
network in ``solutions/mistakes/`` whose results are stored.

The network is built from the learner's ex05 layers and ex03 ``numerical_gradient``, so a bug
there changes what a correct TwoLayerNet computes. A check of the network's values that fails
against the reference is therefore run again against the reference network *built from the
learner's own earlier exercises* (``_Prerequisites``: the reference's forward and backward
passes, driven from here, through the learner's ex05 classes in the learner's process); when the
learner's values match that, the network is right and the check passes, saying that ex05 (or
ex03) is to blame. When the learner's ex03 ``numerical_gradient`` is wrong, no such network can be
built for ``TwoLayerNet.numerical_gradient`` (it would need a function of the learner's process),
so that check is not charged: ex03's own checks charge the bug. A wrong ``predict`` is named in
full by its own check; the checks that go through it refer to that check.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from grader.checks import (
    Check,
    CheckFailed,
    Context,
    Exercise,
    LearnerApi,
    Mistake,
    numerical_gradient,
    probing,
    relative_error,
    scenario_check,
    unexplained,
)
from grader.checks.compare import close_enough, float_array
from grader.checks.kinds import FATAL_KINDS
from grader.checks.mistakes import derived, reproduces

#: Seed chosen so that the reference predicts every class and its accuracy (0.5) differs from
#: that of any network predicting one class (tests check both).
rng = np.random.default_rng(37)

#: The small network of the reference checks: TwoLayerNet(D, H, C) on batches of N samples.
D, H, C, N = 4, 5, 3, 8
KEYS = ("W1", "b1", "W2", "b2")
SHAPES = {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}


def _between_kinks(z: np.ndarray) -> np.ndarray:
    """Biases that put each column of ``z`` (pre-activations) far from ReLU's kink at 0.

    Minus the midpoint of the widest gap between a column's sorted values: samples stay on both
    sides of 0, none of them close to it, so central differences never straddle the kink.
    """
    ordered = np.sort(z, axis=0)
    widest = np.argmax(np.diff(ordered, axis=0), axis=0)
    columns = np.arange(z.shape[1])
    return -(ordered[widest, columns] + ordered[widest + 1, columns]) / 2


def _product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` with every entry correctly rounded (math.fsum), the same bits on every CPU.

    These are inputs of the checks, whose bytes are hashed into the stored values'
    fingerprints: a BLAS, which rounds its sums differently from one CPU to another, would make
    the stored values look out of date on another machine.
    """
    return np.array([[math.fsum(a[i, k] * b[k, j] for k in range(a.shape[1]))
                      for j in range(b.shape[1])] for i in range(a.shape[0])])


X = rng.normal(size=(N, D))
X_OTHER = rng.normal(size=(N, D))
_W1 = rng.normal(0.0, 0.8, size=(D, H))
PARAMS = {
    "W1": _W1,
    "b1": _between_kinks(_product(X, _W1)),
    "W2": rng.normal(0.0, 0.1, size=(H, C)),  # small scores: probabilities of 0.25 to 0.4,
    "b2": rng.normal(0.0, 0.1, size=C),  # where the loss's 1e-7 guard changes little
}
LABELS = rng.integers(0, C, size=N)
ONE_HOT = np.eye(C)[LABELS]
OTHER_LABELS = rng.integers(0, C, size=N)
#: The in-place probe: positive inputs, and positive updates that differ from element to element
#: (a constant added to b2 would not change probabilities).
PROBE_X = rng.uniform(0.5, 1.5, size=(N, D))
PROBE_UPDATES = {key: rng.uniform(0.5, 1.5, size=SHAPES[key]) for key in KEYS}

#: The network whose initial weights are checked: large enough for tight statistics.
INIT_SIZES = (784, 50, 10)
SLACK = 16  # how many times its expected size a parameter of the wrong shape may be
INIT_STD = 0.01  # the default weight_init_std
OTHER_STD = 0.1  # a weight_init_std passed explicitly
#: Tolerances are 5 standard errors of each statistic: each of the dozen statistics checked fails
#: a correct init about once in 10^6 (tests draw 100 inits).
SIGMAS = 5.0
MIN_SIZE_FOR_KURTOSIS = 10_000

INIT = {
    m.name: m
    for m in (
        Mistake("weights transposed",
                "a weight matrix is transposed: W1 must have shape (input_size, hidden_size) and "
                "W2 (hidden_size, output_size), so that x . W1 works on x of shape "
                "(N, input_size)"),
        Mistake("biases not zero",
                "the biases do not start at zero: use np.zeros(hidden_size) and "
                "np.zeros(output_size); the random weights already break the symmetry"),
        Mistake("weights all zero",
                "the weights start at zero: every hidden unit then computes the same value and "
                "gets the same gradient, forever; draw them with "
                "weight_init_std * np.random.randn(rows, columns)"),
        Mistake("rand instead of randn",
                "the weights are all positive: np.random.rand draws uniformly from [0, 1); "
                "use np.random.randn, which draws from the normal distribution N(0, 1)"),
        Mistake("uniform instead of normal",
                "the weights are uniformly distributed, not normally: draw them with "
                "weight_init_std * np.random.randn(rows, columns)"),
        Mistake("weight_init_std not applied",
                "the weights have standard deviation 1: multiply np.random.randn(...) by "
                "weight_init_std"),
        Mistake("weight_init_std ignored",
                "the weights have standard deviation 0.01 whatever weight_init_std is given: "
                "use the argument weight_init_std, not the number 0.01"),
        Mistake("layers hold copies of params",
                "updating params in place does not change what the network computes: its "
                "layers hold copies of the parameters, so an optimizer would never change the "
                "network and it would silently stop learning; build the Affine layers from the "
                "very arrays of params: Affine(self.params['W1'], self.params['b1'])"),
    )
}
COPIES = INIT["layers hold copies of params"]
ONLY_LABELS = Mistake(
    "accuracy only for integer labels",
    "accuracy works with integer labels but not with one-hot targets: turn a one-hot t of "
    "shape (N, C) into labels first, if t.ndim != 1: t = np.argmax(t, axis=1)")
ONLY_ONE_HOT = Mistake(
    "accuracy only for one-hot targets",
    "accuracy works with one-hot targets but not with integer labels of shape (N,): take "
    "np.argmax(t, axis=1) only when t.ndim != 1")
COUNTS = Mistake(
    "accuracy counts instead of averaging",
    "accuracy returns the number of correct samples; divide by the batch size, "
    "np.sum(y == t) / x.shape[0], to get a fraction between 0 and 1",
    derive=lambda e: {key: value * N for key, value in e.items()})

MISTAKES: dict[str, list[Mistake]] = {
    "TwoLayerNet.__init__": list(INIT.values()),
    "TwoLayerNet.predict": [
        Mistake("predict returns probabilities",
                "predict applies the softmax: it must return the scores of the last Affine "
                "layer; the softmax belongs to SoftmaxWithLoss, used by loss",
                variant={"TwoLayerNet": "TwoLayerNetPredictsProbabilities"}),
        Mistake("ReLU after the last layer",
                "predict applies ReLU after the last Affine layer, so no score can be negative: "
                "the layers are Affine1, Relu1, Affine2 only",
                derive=lambda e: {"predict(x)": np.maximum(e["predict(x)"], 0.0)}),
    ],
    "TwoLayerNet.accuracy": [COUNTS, ONLY_LABELS, ONLY_ONE_HOT],
    "TwoLayerNet.numerical_gradient": [
        Mistake("numerical gradient of a copy",
                "numerical_gradient returns zeros: the loss never sees the nudged values; pass "
                "the arrays of params themselves, numerical_gradient(f, self.params['W1']) "
                "(ex03's numerical_gradient nudges them in place, and the loss reads them "
                "through the layers)",
                derive=lambda e: {key: {k: np.zeros_like(v) for k, v in grads.items()}
                                  for key, grads in e.items()}),
    ],
    "TwoLayerNet.gradient": [
        Mistake("gradient without a forward pass",
                "gradient returns the gradient of the previous batch: run the forward pass "
                "first, self.loss(x, t), so that every layer keeps this batch's values for "
                "backward",
                derive=lambda e: {"gradient(x_other, labels)": e["gradient(x, one-hot)"]}),
        Mistake("gradient divided by the batch size twice",
                "the gradients are divided by the batch size once too often: SoftmaxWithLoss's "
                "backward already divides by N, so return the layers' dW and db as they are",
                derive=lambda e: {key: {k: v / N for k, v in grads.items()}
                                  for key, grads in e.items()}),
    ],
}


# --------------------------------------------------------------------------- helpers


def _network(api):
    """A TwoLayerNet(D, H, C) whose parameter arrays were overwritten in place by PARAMS."""
    net = api.new("TwoLayerNet", D, H, C)
    held = api.attr_ref(net, "params")
    for key, value in PARAMS.items():
        api.call(api.ref(held, "__getitem__", key), "__setitem__", (), value)
    return net


def _scores(api, net, x: np.ndarray) -> np.ndarray:
    return float_array(api.call(net, "predict", x), what="TwoLayerNet.predict", shape=(N, C))


def _stale_params(api) -> list[str]:
    """The keys of params whose in-place update does not change ``predict`` (should be none).

    Starting from PARAMS (a network that ignores in-place writes keeps its own initial values),
    adds PROBE_UPDATES to W1, b1, W2 and b2 in turn, predicting before and after each; every
    such update changes the scores.
    """
    net = _network(api)
    held = api.attr_ref(net, "params")
    stale = []
    before = _scores(api, net, PROBE_X)
    for key in KEYS:
        api.call(api.ref(held, "__getitem__", key), "__iadd__", PROBE_UPDATES[key])
        after = _scores(api, net, PROBE_X)
        if np.array_equal(after, before):
            stale.append(key)
        before = after
    return stale


def _shares_params(check: Check) -> Check:
    """``check``, whose failure names COPIES when the network ignores in-place updates.

    Every reference check sets known parameters in place, so a network whose layers hold copies
    fails them all; the probe runs only after a failure.
    """

    def run(ctx: Context) -> str:
        try:
            return check.run(ctx)
        except CheckFailed as failure:
            if failure.kind in FATAL_KINDS:
                raise
            try:
                stale = _stale_params(LearnerApi(ctx))
            except CheckFailed:
                stale = []
            if not stale:
                raise
            raise CheckFailed(
                f"{COPIES.message}; this check gives the network known parameters that way, "
                f"so it cannot pass until that is fixed. {failure.message}",
                diagnosis=COPIES.name,
            ) from None

    return replace(check, run=run)


def _unless_other_works(check: Check, other: Check, mistake: Mistake) -> Check:
    """``check``, whose failure names ``mistake`` when ``other`` passes: a failure not named
    yet, or named only by the general reading of an exception (this is more precise)."""

    def probe(ctx: Context, failure: CheckFailed) -> tuple[Mistake, str] | None:
        if not unexplained(failure):
            return None
        other.run(ctx)  # raises CheckFailed (nothing found) unless the other form works
        return mistake, failure.plain

    return probing(check, probe)


# --------------------------------------------------------------------------- earlier exercises


class _Prerequisites:
    """The reference network with PARAMS, built from the learner's ex05 layers (in the learner's
    process, through ``api``): what the reference TwoLayerNet computes on the learner's ex05."""

    def __init__(self, api) -> None:
        self.api = api
        sibling = api.fixture("sibling")
        self.classes = {name: api.ref(sibling, None, "ex05_layers", name)
                        for name in ("Affine", "Relu", "SoftmaxWithLoss")}

    def _new(self, name: str, *args):
        return self.api.ref(self.classes[name], None, *args)

    def forward(self, x: np.ndarray, params: dict | None = None) -> tuple[np.ndarray, list]:
        """The scores of x and the layers, in forward order, that computed them."""
        params = PARAMS if params is None else params
        layers = [self._new("Affine", params["W1"], params["b1"]), self._new("Relu"),
                  self._new("Affine", params["W2"], params["b2"])]
        for layer in layers:
            x = self.api.call(layer, "forward", x)
        return float_array(x, what="your ex05 layers' forward", shape=(N, C)), layers

    def loss(self, x: np.ndarray, t: np.ndarray, params: dict | None = None) -> float:
        scores, _ = self.forward(x, params)
        value = self.api.call(self._new("SoftmaxWithLoss"), "forward", scores, t)
        return float(float_array(value, what="your ex05 SoftmaxWithLoss.forward", shape=()))

    def accuracy(self, x: np.ndarray, labels: np.ndarray) -> float:
        scores, _ = self.forward(x)
        return float(np.mean(np.argmax(scores, axis=1) == labels))

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict:
        scores, (affine1, relu, affine2) = self.forward(x)
        last = self._new("SoftmaxWithLoss")
        self.api.call(last, "forward", scores, t)
        dout = self.api.call(last, "backward", 1, may_modify=(0,))
        for layer in (affine2, relu, affine1):
            dout = self.api.call(layer, "backward", dout, may_modify=(0,))
        return {"W1": self.api.attr(affine1, "dW"), "b1": self.api.attr(affine1, "db"),
                "W2": self.api.attr(affine2, "dW"), "b2": self.api.attr(affine2, "db")}

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict:
        """Central differences (h = 1e-4, as ex03's) of this network's loss, per parameter."""
        def of(key: str):
            return lambda value: self.loss(x, t, {**PARAMS, key: value})

        return {key: numerical_gradient(of(key), PARAMS[key].copy(), h=1e-4) for key in KEYS}


def _numerical_gradient_right(ctx: Context) -> bool:
    """Whether the learner's ex03 numerical_gradient differentiates a test function rightly and
    restores x, as ex03's spec says (TwoLayerNet's loss reads the very arrays it nudges)."""
    api = LearnerApi(ctx)
    x = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    got, after = api.call_with_args(
        api.ref(api.fixture("sibling"), None, "ex03_gradient", "numerical_gradient"), None,
        api.fixture("weighted_sin"), x)
    exact = np.arange(1.0, x.size + 1).reshape(x.shape) * np.cos(x)
    return close_enough(got, exact, 1e-6, 1e-8) and close_enough(after[1], x, 0.0, 0.0)


#: What the reference network built from the learner's ex05 gives, for one check's scenario.
Theirs = Callable[[_Prerequisites], dict]

PREREQUISITE_TOLERANCE = {"rtol": 1e-5, "atol": 1e-8}


def _fair(check: Check, scenario, theirs: Theirs, uses_ex03: bool = False,
          mistakes: Sequence[Mistake] = ()) -> Check:
    """``check`` (of ``scenario``'s values), passing when the learner's values are ``theirs``:
    those of the reference network built from the learner's own ex05, which is then what is
    wrong. Otherwise a ``derive``d one of ``mistakes`` that reproduces the learner's values from
    ``theirs`` (a bug of the network on top of ex05's) is named. ``uses_ex03``: the values come
    from the learner's ex03 numerical_gradient too; when that is wrong, the check is not charged
    (no reference network can be built with it)."""

    def run(ctx: Context) -> str:
        try:
            return check.run(ctx)
        except CheckFailed as failure:
            if failure.kind in FATAL_KINDS:
                raise
            if uses_ex03 and not _ex03_right(ctx):
                return ("not charged here: your ex03 numerical_gradient is wrong, and this "
                        "method only calls it; fix ex03 (grade ex03), then grade ex06 again")
            try:
                api = LearnerApi(ctx)
                got, expected = scenario(api), theirs(_Prerequisites(api))
            except CheckFailed:
                raise failure from None
            if close_enough(got, expected, **PREREQUISITE_TOLERANCE):
                return ("matches the reference network built from your ex05 layers, which are "
                        "wrong: fix ex05 (grade ex05); not charged here")
            if failure.diagnosis is None:
                for mistake in (m for m in mistakes if m.derive is not None):
                    predicted = derived(mistake, expected)
                    if predicted is not None and reproduces(got, predicted, expected,
                                                            **PREREQUISITE_TOLERANCE):
                        raise CheckFailed(f"{mistake.message} (on top of what your ex05 layers "
                                          f"give). {failure.plain}",
                                          diagnosis=mistake.name) from None
            raise

    return replace(check, run=run)


def _ex03_right(ctx: Context) -> bool:
    try:
        return ctx.once("ex03 numerical_gradient right", lambda: _numerical_gradient_right(ctx))
    except CheckFailed:
        return True  # cannot tell: charge as usual


def _after_predict(check: Check, predict: Check) -> Check:
    """``check``, whose failure refers to ``predict``'s named mistake when predict has one."""

    def run(ctx: Context) -> str:
        try:
            return check.run(ctx)
        except CheckFailed as failure:
            if failure.kind in FATAL_KINDS or failure.diagnosis is not None:
                raise
            try:
                ctx.once("predict check", lambda: predict.run(ctx))
            except CheckFailed as wrong:
                if wrong.diagnosis is None or wrong.diagnosis == COPIES.name:
                    raise failure from None
                raise CheckFailed(f"this follows from predict's mistake, {wrong.diagnosis} (see "
                                  f"the check '{predict.name}'). {failure.plain}",
                                  diagnosis=wrong.diagnosis) from None
            raise

    return replace(check, run=run)


# --------------------------------------------------------------------------- __init__


def _params_of(ctx: Context, *args: int, **kwargs: float) -> dict[str, np.ndarray]:
    """The ``params`` of a new ``TwoLayerNet(*args, **kwargs)``: a dict of the four arrays."""
    net = ctx.call("TwoLayerNet", *args, keep=True, what="TwoLayerNet", **kwargs)
    params = ctx.attr(net, "params")
    if not isinstance(params, dict):
        raise CheckFailed(f"TwoLayerNet.params is a {type(params).__name__}; it must be a dict "
                          "with keys 'W1', 'b1', 'W2' and 'b2'")
    missing = [key for key in KEYS if key not in params]
    if missing:
        raise CheckFailed(f"TwoLayerNet.params has no key {', '.join(map(repr, missing))}; it "
                          "must hold 'W1', 'b1', 'W2' and 'b2'")
    for key in KEYS:
        value = params[key]
        if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.number):
            raise CheckFailed(f"params[{key!r}] is not a numeric numpy array")
    return params


def _check_shapes(ctx: Context) -> str:
    params = _params_of(ctx, D, H, C)
    for key in KEYS:
        value, shape = params[key], SHAPES[key]
        if value.shape != shape:
            problem = (f"params[{key!r}] of TwoLayerNet({D}, {H}, {C}) has shape "
                       f"{value.shape}, expected {shape}")
            if len(shape) == 2 and value.shape == shape[::-1]:
                mistake = INIT["weights transposed"]
                raise CheckFailed(f"{mistake.message}. {problem}", diagnosis=mistake.name)
            raise CheckFailed(problem)
        if not np.issubdtype(value.dtype, np.floating):
            raise CheckFailed(f"params[{key!r}] has dtype {value.dtype}: parameters must be "
                              "float arrays, or updates to them are truncated")
    return ", ".join(f"{key} {SHAPES[key]}" for key in KEYS)


def _check_biases(ctx: Context) -> str:
    params = _params_of(ctx, D, H, C)
    for key in ("b1", "b2"):
        # Any shape (that is another check), but not a reply far larger than a bias.
        bias = float_array(params[key], what=f"params[{key!r}]", max_size=SLACK * H)
        if not np.all(bias == 0):
            mistake = INIT["biases not zero"]
            raise CheckFailed(f"{mistake.message}. params[{key!r}] = {np.round(bias, 4)}",
                              diagnosis=mistake.name)
    return "b1 and b2 are zero"


def _excess_kurtosis(w: np.ndarray) -> float:
    centred = w - w.mean()
    return float(np.mean(centred**4) / np.mean(centred**2) ** 2 - 3.0)


def _weight_problem(w: np.ndarray, std: float, what: str) -> CheckFailed | None:
    """Why ``w`` does not look drawn from N(0, std^2), naming a known mistake where one fits."""
    most = SLACK * INIT_SIZES[0] * INIT_SIZES[1]  # W1's size, the larger
    w = float_array(w, what=what, max_size=most).ravel()  # any shape: shapes are another check
    n = w.size

    def known(name: str, detail: str) -> CheckFailed:
        return CheckFailed(f"{INIT[name].message}. {what}: {detail}", diagnosis=name)

    if not np.all(np.isfinite(w)):
        return CheckFailed(f"{what} holds NaN or inf")
    if np.all(w == 0):
        return known("weights all zero", "every element is 0")
    if np.min(w) >= 0:
        return known("rand instead of randn", f"the smallest element is {np.min(w):.3g}")
    if n >= MIN_SIZE_FOR_KURTOSIS:  # shape of the distribution, whatever its scale
        kurtosis, tolerance = _excess_kurtosis(w), SIGMAS * np.sqrt(24 / n)
        if abs(kurtosis) > tolerance:
            detail = f"excess kurtosis {kurtosis:.2f} (a normal sample gives 0 +- {tolerance:.2f})"
            if abs(kurtosis + 1.2) < 0.3:
                return known("uniform instead of normal", detail)
            return CheckFailed(f"{what} does not look normally distributed: {detail}")
    spread, tolerance = np.std(w), SIGMAS / np.sqrt(2 * n)
    if abs(spread / std - 1) > tolerance:
        detail = (f"standard deviation {spread:.4g}, expected weight_init_std = {std:g} "
                  f"(within {tolerance:.1%})")
        if abs(spread - 1) <= tolerance:
            return known("weight_init_std not applied", detail)
        if std != INIT_STD and abs(spread / INIT_STD - 1) <= tolerance:
            return known("weight_init_std ignored", detail)
        return CheckFailed(f"{what} has {detail}")
    mean, tolerance = np.mean(w), SIGMAS * std / np.sqrt(n)
    if abs(mean) > tolerance:
        return CheckFailed(f"{what} has mean {mean:.3g}, expected 0 (within {tolerance:.2g})")
    return None


def _check_weights(ctx: Context) -> str:
    for std, kwargs in ((INIT_STD, {}), (OTHER_STD, {"weight_init_std": OTHER_STD})):
        params = _params_of(ctx, *INIT_SIZES, **kwargs)
        call = ", ".join([*map(str, INIT_SIZES), *(f"{k}={v}" for k, v in kwargs.items())])
        for key in ("W1", "W2"):
            problem = _weight_problem(params[key], std, f"params[{key!r}] of TwoLayerNet({call})")
            if problem is not None:
                raise problem
    return (f"W1 and W2 look drawn from N(0, std^2) for weight_init_std = {INIT_STD:g} "
            f"(default) and {OTHER_STD:g}")


def _check_updates_reach_layers(ctx: Context) -> str:
    stale = _stale_params(LearnerApi(ctx))
    if stale:
        updated = ", ".join(f"params[{key!r}]" for key in stale)
        raise CheckFailed(f"{COPIES.message}. predict gave the same scores before and after "
                          f"adding to {updated} in place", diagnosis=COPIES.name)
    return "predict changes after an in-place update of each of W1, b1, W2 and b2"


# --------------------------------------------------------------------------- scenarios


def _predict(api) -> dict:
    return {"predict(x)": api.call(_network(api), "predict", X)}


def _loss(api) -> dict:
    net = _network(api)
    return {"loss(x, one-hot)": api.call(net, "loss", X, ONE_HOT),
            "loss(x, labels)": api.call(net, "loss", X, LABELS)}


def _accuracy_one_hot(api) -> dict:
    return {"accuracy(x, one-hot)": api.call(_network(api), "accuracy", X, ONE_HOT)}


def _accuracy_labels(api) -> dict:
    return {"accuracy(x, labels)": api.call(_network(api), "accuracy", X, LABELS)}


def _numerical_gradient(api) -> dict:
    return {"numerical_gradient(x, labels)":
            api.call(_network(api), "numerical_gradient", X, LABELS)}


def _gradient(api) -> dict:
    """Two gradients after a loss on x: a gradient that skips the forward pass repeats x's."""
    net = _network(api)
    api.call(net, "loss", X, ONE_HOT)
    other = api.call(net, "gradient", X_OTHER, OTHER_LABELS)
    return {"gradient(x_other, labels)": other,
            "gradient(x, one-hot)": api.call(net, "gradient", X, ONE_HOT)}


#: The loss's guard, log(y + 1e-7), makes its derivative differ from backpropagation's (which
#: ignores it) by a factor 1 - 1e-7 / y per sample; summed over a batch, that can reach relative
#: errors of a few 1e-6 (2e-7 on these inputs). Bugs in backpropagation give 1e-2 or more.
MAX_RELATIVE_ERROR = 1e-5


def _check_gradient_numerically(ctx: Context) -> str:
    """The learner's gradient against central differences of the learner's own loss."""
    api = LearnerApi(ctx)
    net = _network(api)
    held = api.attr_ref(net, "params")
    grads = api.call(net, "gradient", X, LABELS)
    if not isinstance(grads, dict) or any(key not in grads for key in KEYS):
        raise CheckFailed("TwoLayerNet.gradient must return a dict with keys 'W1', 'b1', 'W2' "
                          "and 'b2'")
    worst = 0.0
    for key in KEYS:
        array = api.ref(held, "__getitem__", key)

        def loss(value: np.ndarray, array=array) -> float:
            api.call(array, "__setitem__", (), value)
            return float(float_array(api.call(net, "loss", X, LABELS), what="TwoLayerNet.loss",
                                     shape=()))

        numeric = numerical_gradient(loss, PARAMS[key])
        api.call(array, "__setitem__", (), PARAMS[key])
        analytic = float_array(grads[key], what=f"gradient[{key!r}]", shape=SHAPES[key])
        error = relative_error(analytic, numeric)
        worst = max(worst, error)
        if not error <= MAX_RELATIVE_ERROR:
            raise CheckFailed(f"gradient[{key!r}] disagrees with the numerical gradient of your "
                              f"loss: relative error {error:.2e} (should be below "
                              f"{MAX_RELATIVE_ERROR:.0e})")
    return f"relative error {worst:.1e} against the numerical gradient of your loss"


def _gradient_on_labels(api) -> dict:
    return {"gradient(x, labels)": api.call(_network(api), "gradient", X, LABELS)}


_ACCURACY_ONE_HOT = scenario_check(
    "TwoLayerNet.accuracy matches the reference with one-hot targets", _accuracy_one_hot,
    inputs=(PARAMS, X, ONE_HOT), mistakes=[COUNTS])
_ACCURACY_LABELS = scenario_check(
    "TwoLayerNet.accuracy matches the reference with integer labels", _accuracy_labels,
    inputs=(PARAMS, X, LABELS), mistakes=[COUNTS])
_PREDICT = _shares_params(_fair(scenario_check(
    "TwoLayerNet.predict matches the reference", _predict, inputs=(PARAMS, X),
    mistakes=MISTAKES["TwoLayerNet.predict"]), _predict,
    lambda net: {"predict(x)": net.forward(X)[0]}, mistakes=MISTAKES["TwoLayerNet.predict"]))


def _of_values(check: Check, scenario, theirs: Theirs, uses_ex03: bool = False,
               mistakes: Sequence[Mistake] = ()) -> Check:
    """A check of the network's values: fair to the learner's earlier exercises (``_fair``),
    referring to predict's mistake, naming copied parameters."""
    return _shares_params(_after_predict(_fair(check, scenario, theirs, uses_ex03, mistakes),
                                         _PREDICT))


EXERCISE = Exercise(
    id="ex06",
    module="ex06_two_layer_net",
    title="Two-layer network",
    requires=("ex03", "ex05"),  # the learner's network imports their numerical_gradient and layers
    checks=(
        Check("TwoLayerNet.__init__ makes params W1, b1, W2, b2 of the right shapes", 1,
              _check_shapes),
        Check("TwoLayerNet.__init__ starts the biases at zero", 1, _check_biases),
        Check("TwoLayerNet.__init__ draws the weights from N(0, weight_init_std^2)", 1,
              _check_weights),
        Check("TwoLayerNet sees in-place updates of params", 1, _check_updates_reach_layers),
        _PREDICT,
        _of_values(scenario_check(
            "TwoLayerNet.loss matches the reference (one-hot and integer labels)", _loss,
            inputs=(PARAMS, X, ONE_HOT, LABELS), rtol=1e-5, atol=1e-7), _loss,
            lambda net: {"loss(x, one-hot)": net.loss(X, ONE_HOT),
                         "loss(x, labels)": net.loss(X, LABELS)}),
        _of_values(_unless_other_works(_ACCURACY_ONE_HOT, _ACCURACY_LABELS, ONLY_LABELS),
                   _accuracy_one_hot,
                   lambda net: {"accuracy(x, one-hot)": net.accuracy(X, LABELS)},
                   mistakes=[COUNTS]),
        _of_values(_unless_other_works(_ACCURACY_LABELS, _ACCURACY_ONE_HOT, ONLY_ONE_HOT),
                   _accuracy_labels, lambda net: {"accuracy(x, labels)": net.accuracy(X, LABELS)},
                   mistakes=[COUNTS]),
        _of_values(scenario_check(
            "TwoLayerNet.numerical_gradient matches the reference", _numerical_gradient,
            inputs=(PARAMS, X, LABELS), rtol=1e-5, atol=1e-8, numerical=True,
            mistakes=MISTAKES["TwoLayerNet.numerical_gradient"]), _numerical_gradient,
            lambda net: {"numerical_gradient(x, labels)": net.numerical_gradient(X, LABELS)},
            uses_ex03=True, mistakes=MISTAKES["TwoLayerNet.numerical_gradient"]),
        _of_values(scenario_check(
            "TwoLayerNet.gradient matches the reference (one-hot and integer labels)", _gradient,
            inputs=(PARAMS, X, ONE_HOT, X_OTHER, OTHER_LABELS), points=2,
            mistakes=MISTAKES["TwoLayerNet.gradient"]), _gradient,
            lambda net: {"gradient(x_other, labels)": net.gradient(X_OTHER, OTHER_LABELS),
                         "gradient(x, one-hot)": net.gradient(X, ONE_HOT)},
            mistakes=MISTAKES["TwoLayerNet.gradient"]),
        _of_values(Check("TwoLayerNet.gradient agrees with a numerical gradient of your loss",
                         1, _check_gradient_numerically), _gradient_on_labels,
                   lambda net: {"gradient(x, labels)": net.gradient(X, LABELS)}),
    ),
)
