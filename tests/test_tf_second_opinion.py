"""TensorFlow as a second opinion on the NumPy references in ``solutions/``.

Every reference is checked against TensorFlow computed independently, in float64:
activations and their derivatives (``tf.GradientTape``), losses (Keras' losses), each ex05
layer's forward and backward, ``TwoLayerNet.gradient`` (ex06), and each ex07 optimizer over ten
steps against the Keras optimizer configured to the same rule. A reference that TensorFlow
disagrees with is a bug in the reference: do not loosen these tolerances, fix ``solutions/``.

Where the two sides put a 1e-7 guard in different places (losses, AdaGrad, RMSprop), the
comparison allows exactly the difference that placement can make, computed element by element
and printed as "difference from epsilon placement: <where>"; everything else must agree to
rounding.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from conftest import SOLUTIONS

pytestmark = pytest.mark.slow  # TensorFlow's import alone takes several seconds

#: Agreement expected where both sides compute the same formula (float64 rounding only).
RTOL, ATOL = 1e-12, 1e-14
EPS = 1e-7  # the references' guard in log() and in the optimizers' denominators

_EXERCISE_MODULE = re.compile(r"ex\d\d_\w+")
_SOLUTION_CACHE: dict[str, ModuleType] = {}


def solution(module: str) -> ModuleType:
    """Import ``solutions/<module>.py`` (its sibling imports resolved in solutions/ too).

    Learner modules of the same names that other tests may have imported are set aside while
    importing and put back afterwards, so neither side sees the other's modules.
    """
    if module not in _SOLUTION_CACHE:
        saved = {k: sys.modules.pop(k) for k in list(sys.modules) if _EXERCISE_MODULE.fullmatch(k)}
        sys.path.insert(0, str(SOLUTIONS))
        try:
            loaded = importlib.import_module(module)
            assert Path(loaded.__file__).resolve().parent == SOLUTIONS.resolve()
            _SOLUTION_CACHE[module] = loaded
        finally:
            sys.path.remove(str(SOLUTIONS))
            for key in [k for k in sys.modules if _EXERCISE_MODULE.fullmatch(k)]:
                del sys.modules[key]
            sys.modules.update(saved)
    return _SOLUTION_CACHE[module]


@pytest.fixture(scope="module")
def tf():
    """TensorFlow, imported only when these tests run (oneDNN off: reproducible floats)."""
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow

    return tensorflow


@pytest.fixture(scope="module")
def keras(tf):
    import keras

    return keras


@contextmanager
def float64_keras(keras):
    """Keras with floatx float64 (optimizers create their learning-rate variable in floatx)."""
    previous = keras.config.floatx()
    keras.config.set_floatx("float64")
    try:
        yield
    finally:
        keras.config.set_floatx(previous)


def tape(tf, f, *arrays, upstream=None):
    """``(f(*arrays), [d f / d array...])`` by ``tf.GradientTape`` in float64.

    ``upstream`` is the gradient flowing into f's output (the layers' ``dout``).
    """
    xs = [tf.constant(np.asarray(a, dtype=np.float64)) for a in arrays]
    with tf.GradientTape() as t:
        for x in xs:
            t.watch(x)
        y = f(*xs)
    if upstream is not None:
        upstream = tf.constant(np.asarray(upstream, dtype=np.float64))
    grads = t.gradient(y, xs, output_gradients=upstream)
    return y.numpy(), [g.numpy() for g in grads]


def close(actual, expected, what: str, rtol: float = RTOL, atol: float = ATOL) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(
        actual, expected, rtol=rtol, atol=atol, err_msg=f"{what}: TensorFlow disagrees"
    )


def within_epsilon_placement(actual, expected, bound, what: str, where: str) -> None:
    """``|actual - expected| <= bound`` (+ rounding), the bound derived from the 1e-7 guard."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    diff = np.abs(actual - expected)
    allowed = np.asarray(bound) + 1e-12 * np.maximum(1.0, np.abs(expected))
    note = f"{what}: difference from epsilon placement: {where}"
    print(f"note: {note} (max |diff| {diff.max():.2e}, bound {np.max(bound):.2e})")
    assert np.all(diff <= allowed), (
        f"{what}: TensorFlow disagrees by {diff.max():.3e}, more than the bound "
        f"{np.max(bound):.3e} that the {note} allows"
    )


RNG = np.random.default_rng(20240607)


def nonzero(shape, scale: float = 3.0) -> np.ndarray:
    """Normal draws kept at least 1e-3 away from 0 (where derivatives may take either value)."""
    x = RNG.normal(scale=scale, size=shape)
    return np.where(np.abs(x) < 1e-3, 0.5, x)


# ---------------------------------------------------------------------------------------------
# ex01 activations
# ---------------------------------------------------------------------------------------------

X_ACT = np.concatenate([nonzero(40), [-30.0, -8.0, -1e-3, 1e-3, 8.0, 30.0]]).reshape(2, 23)


@pytest.mark.parametrize(
    ("value", "grad", "kwargs", "tf_function"),
    [
        ("sigmoid", "sigmoid_grad", {}, lambda tf, k, x: tf.sigmoid(x)),
        ("tanh", "tanh_grad", {}, lambda tf, k, x: tf.tanh(x)),
        ("relu", "relu_grad", {}, lambda tf, k, x: tf.nn.relu(x)),
        # tf.nn.leaky_relu keeps alpha as a float32 attribute (0.01 becomes 0.0099999998):
        # max(x, alpha x) is the same function for alpha < 1, all in float64.
        ("leaky_relu", "leaky_relu_grad", {}, lambda tf, k, x: tf.maximum(x, 0.01 * x)),
        (
            "leaky_relu",
            "leaky_relu_grad",
            {"alpha": 0.2},
            lambda tf, k, x: tf.maximum(x, 0.2 * x),
        ),
        ("elu", "elu_grad", {}, lambda tf, k, x: tf.nn.elu(x)),
        ("elu", "elu_grad", {"alpha": 0.5}, lambda tf, k, x: k.ops.elu(x, alpha=0.5)),
    ],
    ids=["sigmoid", "tanh", "relu", "leaky_relu", "leaky_relu-0.2", "elu", "elu-0.5"],
)
def test_activation_and_derivative_agree_with_tape(tf, keras, value, grad, kwargs, tf_function):
    ex01 = solution("ex01_activations")
    y, (dy,) = tape(tf, lambda x: tf_function(tf, keras, x), X_ACT)
    close(getattr(ex01, value)(X_ACT.copy(), **kwargs), y, f"{value}{kwargs}")
    # s(1 - s) loses relative precision far out in the tails, for both sides alike.
    close(getattr(ex01, grad)(X_ACT.copy(), **kwargs), dy, f"{grad}{kwargs}", atol=1e-13)


def test_softmax_agrees_with_tf(tf):
    ex01 = solution("ex01_activations")
    x = np.vstack([RNG.normal(scale=3.0, size=(3, 6)), [1000.0, -1000, 999, 0, 3, 1000]])
    close(ex01.softmax(x.copy()), tf.nn.softmax(tf.constant(x)).numpy(), "softmax (N, C)")
    close(ex01.softmax(x[0].copy()), tf.nn.softmax(tf.constant(x[0])).numpy(), "softmax (C,)")
    x3 = RNG.normal(size=(2, 3, 4))
    close(ex01.softmax(x3.copy()), tf.nn.softmax(tf.constant(x3)).numpy(), "softmax (2, 3, C)")


# ---------------------------------------------------------------------------------------------
# ex02 losses
# ---------------------------------------------------------------------------------------------

Y_REG, T_REG = RNG.normal(size=(5, 4)), RNG.normal(size=(5, 4))
P_BIN = RNG.uniform(1e-3, 1 - 1e-3, size=(6, 5))
T_BIN = (RNG.uniform(size=(6, 5)) < 0.5).astype(np.float64)
SCORES = RNG.normal(scale=2.0, size=(7, 5))
P_CAT = np.exp(SCORES) / np.exp(SCORES).sum(axis=1, keepdims=True)
LABELS = RNG.integers(0, 5, size=7)
ONE_HOT = np.eye(5)[LABELS]


def test_sum_squared_error_agrees_with_l2_loss(tf):
    ex02 = solution("ex02_losses")
    expected = tf.nn.l2_loss(tf.constant(Y_REG - T_REG)).numpy()
    close(ex02.sum_squared_error(Y_REG.copy(), T_REG.copy()), expected, "sum_squared_error")


def test_mean_squared_error_agrees_with_keras_mse(tf, keras):
    ex02 = solution("ex02_losses")
    per_sample = keras.losses.mean_squared_error(tf.constant(T_REG), tf.constant(Y_REG))
    expected = tf.reduce_mean(per_sample).numpy()
    close(ex02.mean_squared_error(Y_REG.copy(), T_REG.copy()), expected, "mean_squared_error")
    one = keras.losses.mean_squared_error(tf.constant(T_REG[0]), tf.constant(Y_REG[0])).numpy()
    close(ex02.mean_squared_error(Y_REG[0].copy(), T_REG[0].copy()), one, "mse of one sample")


def test_binary_cross_entropy_agrees_with_keras(tf, keras):
    ex02 = solution("ex02_losses")
    per_sample = keras.losses.binary_crossentropy(tf.constant(T_BIN), tf.constant(P_BIN))
    expected = tf.reduce_mean(per_sample).numpy()
    # |log(p + 1e-7) - log(p)| <= 1e-7 / p for the probability of the true class.
    bound = np.mean(np.where(T_BIN == 1, EPS / P_BIN, EPS / (1 - P_BIN)))
    within_epsilon_placement(
        ex02.binary_cross_entropy(P_BIN.copy(), T_BIN.copy()),
        expected,
        bound,
        "binary_cross_entropy",
        "the reference adds 1e-7 inside log(), Keras clips y to [1e-7, 1 - 1e-7]",
    )


@pytest.mark.parametrize("targets", ["one-hot", "labels", "one sample"])
def test_cross_entropy_error_agrees_with_keras(tf, keras, targets):
    ex02 = solution("ex02_losses")
    y, labels = (P_CAT[:1], LABELS[:1]) if targets == "one sample" else (P_CAT, LABELS)
    per_sample = keras.losses.sparse_categorical_crossentropy(tf.constant(labels), tf.constant(y))
    expected = tf.reduce_mean(per_sample).numpy()
    if targets == "one-hot":
        onehot = keras.losses.categorical_crossentropy(tf.constant(ONE_HOT), tf.constant(y))
        close(tf.reduce_mean(onehot).numpy(), expected, "Keras one-hot vs sparse", rtol=1e-10)
        actual = ex02.cross_entropy_error(y.copy(), ONE_HOT.copy())
    elif targets == "labels":
        actual = ex02.cross_entropy_error(y.copy(), labels.copy())
    else:
        actual = ex02.cross_entropy_error(y[0].copy(), np.eye(5)[labels[0]])
    bound = np.mean(EPS / y[np.arange(len(labels)), labels])
    within_epsilon_placement(
        actual,
        expected,
        bound,
        f"cross_entropy_error ({targets})",
        "the reference adds 1e-7 inside log(), Keras clips y to [1e-7, 1 - 1e-7]",
    )


# ---------------------------------------------------------------------------------------------
# ex05 layers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", ["Relu", "Sigmoid"])
def test_elementwise_layer_backward_agrees_with_tape(tf, layer):
    ex05 = solution("ex05_layers")
    x, dout = nonzero((4, 3, 5)), RNG.normal(size=(4, 3, 5))
    op = tf.nn.relu if layer == "Relu" else tf.sigmoid
    y, (dx,) = tape(tf, op, x, upstream=dout)
    obj = getattr(ex05, layer)()
    close(obj.forward(x.copy()), y, f"{layer}.forward")
    close(obj.backward(dout.copy()), dx, f"{layer}.backward")


def test_affine_backward_agrees_with_tape(tf):
    ex05 = solution("ex05_layers")
    x = RNG.normal(size=(4, 2, 3, 2))
    w, b = RNG.normal(size=(12, 5)), RNG.normal(size=5)
    dout = RNG.normal(size=(4, 5))

    def affine(x, w, b):
        return tf.matmul(tf.reshape(x, (x.shape[0], -1)), w) + b

    y, (dx, dw, db) = tape(tf, affine, x, w, b, upstream=dout)
    layer = ex05.Affine(w.copy(), b.copy())
    close(layer.forward(x.copy()), y, "Affine.forward")
    close(layer.backward(dout.copy()), dx, "Affine.backward dx")
    close(layer.dW, dw, "Affine.dW")
    close(layer.db, db, "Affine.db")


@pytest.mark.parametrize("targets", ["labels", "one-hot"])
@pytest.mark.parametrize("dout", [1, 2.5])
def test_softmax_with_loss_agrees_with_tape(tf, targets, dout):
    ex05 = solution("ex05_layers")
    t = LABELS.copy() if targets == "labels" else ONE_HOT.copy()

    def loss(x):
        return tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=LABELS, logits=x)
        )

    expected, (dx,) = tape(tf, loss, SCORES, upstream=np.float64(dout))
    layer = ex05.SoftmaxWithLoss()
    within_epsilon_placement(
        layer.forward(SCORES.copy(), t),
        expected,
        np.mean(EPS / P_CAT[np.arange(len(LABELS)), LABELS]),
        f"SoftmaxWithLoss.forward ({targets})",
        "the reference adds 1e-7 inside log(), TensorFlow's loss from logits has no guard",
    )
    # backward is the exact gradient (y - t) / N: no guard there.
    close(layer.backward(dout), dx, f"SoftmaxWithLoss.backward({dout}) ({targets})")


# ---------------------------------------------------------------------------------------------
# ex06 two-layer network
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("targets", ["labels", "one-hot"])
def test_two_layer_net_gradient_agrees_with_tape(tf, targets):
    ex06 = solution("ex06_two_layer_net")
    state = np.random.get_state()
    try:
        np.random.seed(3)
        net = ex06.TwoLayerNet(12, 7, 5, weight_init_std=0.5)
    finally:
        np.random.set_state(state)
    net.params["b1"][...] = RNG.normal(scale=0.5, size=7)  # in place: the layers see them
    net.params["b2"][...] = RNG.normal(scale=0.5, size=5)
    params = {key: value.copy() for key, value in net.params.items()}
    x = RNG.normal(size=(7, 12))
    t = LABELS.copy() if targets == "labels" else ONE_HOT.copy()

    def scores(w1, b1, w2, b2):
        return tf.matmul(tf.nn.relu(tf.matmul(tf.constant(x), w1) + b1), w2) + b2

    def loss(w1, b1, w2, b2):
        logits = scores(w1, b1, w2, b2)
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=LABELS, logits=logits)
        return tf.reduce_mean(ce)

    keys = ("W1", "b1", "W2", "b2")
    expected_loss, grads = tape(tf, loss, *(params[k] for k in keys))
    expected_scores = scores(*(tf.constant(params[k]) for k in keys)).numpy()
    hidden = x @ params["W1"] + params["b1"]
    assert np.min(np.abs(hidden)) > 1e-6, "a hidden unit sits at ReLU's kink: change the seed"

    close(net.predict(x.copy()), expected_scores, "TwoLayerNet.predict")
    probabilities = np.exp(expected_scores - expected_scores.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    within_epsilon_placement(
        net.loss(x.copy(), t.copy()),
        expected_loss,
        np.mean(EPS / probabilities[np.arange(len(LABELS)), LABELS]),
        f"TwoLayerNet.loss ({targets})",
        "the reference adds 1e-7 inside log(), TensorFlow's loss from logits has no guard",
    )
    actual = net.gradient(x.copy(), t.copy())
    assert sorted(actual) == sorted(keys)
    for key, expected in zip(keys, grads, strict=True):
        close(actual[key], expected, f"TwoLayerNet.gradient[{key!r}] ({targets})")


# ---------------------------------------------------------------------------------------------
# ex07 optimizers
# ---------------------------------------------------------------------------------------------

STEPS = 10
START = {"W": RNG.normal(size=(3, 4)), "b": RNG.normal(size=4)}


def _gradient_sequence() -> list[dict[str, np.ndarray]]:
    """Ten steps of gradients of magnitude 1..3 with random signs, and zero entries.

    ``W[:, 0]`` is zero at every step (its state stays 0); other entries are zero at some steps
    only, including the first (the state starts from a zero gradient).
    """
    sequence = []
    for step in range(STEPS):
        grads = {}
        for key, start in START.items():
            g = RNG.uniform(1.0, 3.0, size=start.shape) * RNG.choice([-1.0, 1.0], start.shape)
            g[RNG.uniform(size=start.shape) < 0.25] = 0.0
            if key == "W":
                g[:, 0] = 0.0
                if step < 3:  # zero for the first steps, then always moving
                    g[0, 1] = 0.0
                elif g[0, 1] == 0.0:
                    g[0, 1] = 2.0
            grads[key] = g
        sequence.append(grads)
    return sequence


GRADS = _gradient_sequence()

SQRT_OUTSIDE = "the reference divides by sqrt(h) + 1e-7, Keras by sqrt(h + epsilon)"


def _sqrt_outside_bound(lr, g, h, keras_epsilon):
    """Exact |step difference| from the two denominators, given the accumulator h."""
    reference = np.sqrt(h) + EPS
    keras_den = np.sqrt(h + keras_epsilon)
    return lr * np.abs(g) * np.abs(reference - keras_den) / (reference * keras_den)


# name, reference constructor kwargs, Keras class, Keras kwargs, epsilon-placement note
OPTIMIZERS = [
    ("SGD", {}, "SGD", {"learning_rate": 0.01}, None),
    ("SGD", {"lr": 0.1}, "SGD", {"learning_rate": 0.1}, None),
    ("Momentum", {}, "SGD", {"learning_rate": 0.01, "momentum": 0.9}, None),
    (
        "Momentum",
        {"lr": 0.05, "momentum": 0.5},
        "SGD",
        {"learning_rate": 0.05, "momentum": 0.5},
        None,
    ),
    ("Nesterov", {}, "SGD", {"learning_rate": 0.01, "momentum": 0.9, "nesterov": True}, None),
    (
        "Nesterov",
        {"lr": 0.05, "momentum": 0.7},
        "SGD",
        {"learning_rate": 0.05, "momentum": 0.7, "nesterov": True},
        None,
    ),
    # No initial accumulator (Keras' default is 0.1). sqrt(1e-14) = 1e-7: both guards agree
    # where h = 0 and differ by at most 1e-7 in the denominator elsewhere.
    (
        "AdaGrad",
        {},
        "Adagrad",
        {"learning_rate": 0.01, "initial_accumulator_value": 0.0, "epsilon": 1e-14},
        SQRT_OUTSIDE,
    ),
    (
        "AdaGrad",
        {"lr": 0.5},
        "Adagrad",
        {"learning_rate": 0.5, "initial_accumulator_value": 0.0, "epsilon": 1e-14},
        SQRT_OUTSIDE,
    ),
    (
        "RMSprop",
        {},
        "RMSprop",
        {"learning_rate": 0.01, "rho": 0.99, "momentum": 0.0, "epsilon": 1e-14},
        SQRT_OUTSIDE,
    ),
    (
        "RMSprop",
        {"lr": 0.05, "decay_rate": 0.9},
        "RMSprop",
        {"learning_rate": 0.05, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-14},
        SQRT_OUTSIDE,
    ),
    # Keras' Adadelta adds epsilon under both square roots as the reference does; lr = 1.
    ("Adadelta", {}, "Adadelta", {"learning_rate": 1.0, "rho": 0.95, "epsilon": 1e-6}, None),
    (
        "Adadelta",
        {"rho": 0.9, "eps": 1e-4},
        "Adadelta",
        {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-4},
        None,
    ),
    # Keras 3's Adam folds the bias corrections into the step size and adds epsilon to sqrt(v)
    # (the "epsilon hat" form), exactly as the reference does.
    (
        "Adam",
        {},
        "Adam",
        {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
        None,
    ),
    (
        "Adam",
        {"lr": 0.01, "beta1": 0.8, "beta2": 0.99},
        "Adam",
        {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-7},
        None,
    ),
]


def _run_keras(tf, keras, keras_class, keras_kwargs):
    with float64_keras(keras):
        variables = {k: tf.Variable(v.copy(), dtype=tf.float64) for k, v in START.items()}
        # keras.ops.cast(0.9, "float64") goes through float32 (0.8999999762); a np.float64
        # (a float subclass, so Keras accepts it) keeps the hyperparameters exact.
        exact = {k: np.float64(v) if isinstance(v, float) else v for k, v in keras_kwargs.items()}
        optimizer = getattr(keras.optimizers, keras_class)(**exact)
        trajectory = []
        for grads in GRADS:
            optimizer.apply_gradients(
                [(tf.constant(grads[k]), variables[k]) for k in sorted(variables)]
            )
            trajectory.append({k: v.numpy().copy() for k, v in variables.items()})
    return trajectory


@pytest.mark.parametrize(
    ("name", "kwargs", "keras_class", "keras_kwargs", "placement"),
    OPTIMIZERS,
    ids=[f"{o[0]}-{'defaults' if not o[1] else 'custom'}" for o in OPTIMIZERS],
)
def test_optimizer_agrees_with_keras_over_ten_steps(
    tf, keras, name, kwargs, keras_class, keras_kwargs, placement
):
    ex07 = solution("ex07_optimizers")
    optimizer = getattr(ex07, name)(**kwargs)
    params = {k: v.copy() for k, v in START.items()}
    bound = {k: np.zeros_like(v) for k, v in START.items()}  # accumulated epsilon bound
    reference, bounds = [], []
    for grads in GRADS:
        optimizer.update(params, {k: g.copy() for k, g in grads.items()})
        if placement is not None:
            for k in params:  # h depends on the gradients only: the same on both sides
                bound[k] = bound[k] + _sqrt_outside_bound(
                    optimizer.lr, grads[k], optimizer.h[k], keras_kwargs["epsilon"]
                )
        reference.append({k: v.copy() for k, v in params.items()})
        bounds.append(dict(bound))
    keras_trajectory = _run_keras(tf, keras, keras_class, keras_kwargs)

    what = f"{name}({kwargs}) vs keras {keras_class}({keras_kwargs}) over {STEPS} steps"
    moved = max(np.max(np.abs(reference[-1][k] - START[k])) for k in START)
    for k in START:
        ours = np.stack([step[k] for step in reference])
        theirs = np.stack([step[k] for step in keras_trajectory])
        if placement is None:
            close(ours, theirs, f"{what}, {k!r}", rtol=1e-12, atol=1e-14)
        else:
            allowed = np.stack([step[k] for step in bounds])
            # The bound is tiny next to the steps taken: a real mistake cannot hide in it.
            assert np.max(allowed) < 1e-5 * moved
            within_epsilon_placement(ours, theirs, allowed, f"{what}, {k!r}", placement)
    never = np.all([g["W"] == 0 for g in GRADS], axis=0)  # W[:, 0]: never moves
    assert never.any()
    np.testing.assert_array_equal(reference[-1]["W"][never], START["W"][never])
