"""Grader-owned test functions that live in the learner's process.

Some exercises take a function as input (``numerical_gradient(f, x)``); the function must be
callable in the child, so checks refer to these by name: target ``"fixture:"`` is this module
(``Context.fixture("cubic_sum")`` gives a Handle to a function here). Keep this module small
and dependent on numpy only: the child imports it before the learner's code.
"""

from __future__ import annotations

import numpy as np


def function_1(x):
    """The book's 0.01 x^2 + 0.1 x (a float x)."""
    return 0.01 * x**2 + 0.1 * x


def function_2(x):
    """The book's sum of squares, x0^2 + x1^2 + ... (any shape)."""
    return np.sum(x**2)


def cubic_sum(x):
    """sum(x^3): a forward difference is off by about 3 h x per element; central is not."""
    return np.sum(x**3)


def weighted_sin(x):
    """sum(w * sin(x)) with w = 1, 2, ..., x.size in x's shape: every element matters."""
    weights = np.arange(1.0, x.size + 1).reshape(np.shape(x))
    return np.sum(weights * np.sin(x))


def coupled(x):
    """sum(sin(x)) * sum(x^2): the gradient of every element depends on all the others, so
    code that evaluates f on part of x (one row, one element) cannot get it right."""
    return np.sum(np.sin(x)) * np.sum(x**2)


def central_gradient(f, x):
    """A correct numerical gradient (central differences, h = 1e-4), for judging the learner's
    gradient_descent on its own when the learner's numerical_gradient is wrong."""
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + 1e-4
        plus = f(x)
        x[index] = original - 1e-4
        minus = f(x)
        x[index] = original
        grad[index] = (plus - minus) / 2e-4
    return grad


def _looked_up(name, table):
    """A function named ``name`` that returns ``table``'s value for its arguments (``table``:
    ``[[args, value], ...]``) and raises for any others."""

    def lookup(*args):
        for key, value in table:
            if list(args) == list(key):
                return value
        raise ValueError(f"{name}{tuple(args)}: no value given for these arguments")

    lookup.__name__ = str(name)
    return lookup


def with_replaced(module, replacements, func, *args, **kwargs):
    """``func`` of the learner's ``module`` called with some of the module's names replaced
    by fixtures (``{"numerical_gradient": "central_gradient"}``) or by functions that return
    given values (``{"iterations_per_epoch": [[[100, 50], 2.0]]}``), and restored afterwards."""
    import importlib

    learner = importlib.import_module(str(module))
    saved = {name: learner.__dict__.get(name) for name in replacements}
    try:
        for name, fixture in replacements.items():
            replacement = (globals()[fixture] if isinstance(fixture, str)
                           else _looked_up(name, fixture))
            setattr(learner, str(name), replacement)
        return getattr(learner, str(func))(*args, **kwargs)
    finally:
        for name, value in saved.items():
            setattr(learner, name, value)


def shifted_quadratic(x):
    """sum((x - 3)^2): gradient descent from anywhere converges to 3 in every element."""
    return np.sum((x - 3.0) ** 2)


def seed_numpy(seed):
    """Seed NumPy's global generator in the learner's process (np.random.randn initialisers)."""
    np.random.seed(int(seed))


def sibling(module, name):
    """``name`` from the learner's module ``module`` (e.g. ex06's TwoLayerNet, from ex08)."""
    import importlib

    return getattr(importlib.import_module(str(module)), str(name))


def new_dict(**items):
    """A dict made in the learner's process, so that it (and its arrays) persist as Handles."""
    return dict(items)


# Keras helpers: a model cannot cross the pipe, so the grader asks for plain descriptions.
# keras and tensorflow are imported inside each function, never at module import.


def seed_keras(seed):
    """Seed Python, NumPy and TensorFlow (keras.utils.set_random_seed) in the learner's process."""
    import keras

    keras.utils.set_random_seed(int(seed))


def describe_model(model):
    """A Keras model as plain data: input shape, layers (class, units, activation), compile.

    Returns {"input_shape": [...], "layers": [{"class", "units", "activation"}, ...],
    "loss": str or None, "metrics": [str, ...], "optimizer": str or None}.
    """
    layers = []
    for layer in model.layers:
        config = layer.get_config()
        activation = config.get("activation")
        layers.append({
            "class": type(layer).__name__,
            "units": config.get("units"),
            "activation": activation if isinstance(activation, str) else getattr(
                activation, "__name__", None),
        })
    try:
        input_shape = [None if d is None else int(d) for d in model.inputs[0].shape]
    except (AttributeError, IndexError, TypeError, ValueError):
        input_shape = None
    loss = getattr(model, "loss", None)
    loss_name = loss if isinstance(loss, str) or loss is None else getattr(
        loss, "name", getattr(loss, "__name__", type(loss).__name__))
    compiled = getattr(model, "compiled", getattr(model, "_is_compiled", False))
    metrics = []
    compile_config = getattr(model, "_compile_config", None)
    if compile_config is not None:
        config_metrics = compile_config.config.get("metrics") or []
        metrics = [m if isinstance(m, str) else getattr(m, "name", type(m).__name__)
                   for m in (config_metrics if isinstance(config_metrics, list | tuple)
                             else [config_metrics])]
    optimizer = getattr(model, "optimizer", None)
    return {
        "input_shape": input_shape,
        "layers": layers,
        "compiled": bool(compiled),
        "loss": loss_name,
        "metrics": metrics,
        "optimizer": None if optimizer is None else type(optimizer).__name__,
    }


def dense_kernel_gradient_norms(model, x, y):
    """L2 norms of d loss / d kernel of every Dense layer (first first), by tf.GradientTape.

    Computed independently of the learner's layer_gradient_norms (see dense_gradient_summaries).
    """
    return dense_gradient_summaries(model, x, y)["norms"]


def dense_gradient_summaries(model, x, y):
    """Summaries of the gradients of every Dense layer (first first), by tf.GradientTape.

    The loss is the sparse categorical cross-entropy of ``model(x, training=True)``, averaged
    over the batch. Returns lists of floats: ``norms`` (L2 norms of d loss / d kernel),
    ``bias_norms`` (of d loss / d bias), ``l1_norms`` and ``mean_abs`` (of d loss / d kernel).
    """
    import keras
    import tensorflow as tf

    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    kernels, biases = [layer.kernel for layer in dense], [layer.bias for layer in dense]
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    x = tf.convert_to_tensor(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    d_kernels, d_biases = tape.gradient(loss, (kernels, biases))
    return {
        "norms": [float(tf.norm(g).numpy()) for g in d_kernels],
        "bias_norms": [float(tf.norm(g).numpy()) for g in d_biases],
        "l1_norms": [float(tf.reduce_sum(tf.abs(g)).numpy()) for g in d_kernels],
        "mean_abs": [float(tf.reduce_mean(tf.abs(g)).numpy()) for g in d_kernels],
    }
