"""Hidden checks of ex09 (instructors only): a model and a gradient batch drawn from the seed.

``build_deep_model`` with a random activation, random hidden units and a random optimizer,
judged by the spec (Input((28, 28)), Flatten, one Dense per entry with the activation,
Dense(10, softmax), sparse categorical cross-entropy, accuracy, the optimizer given); and
``layer_gradient_norms`` on a random grader-built model and another batch of MNIST images,
against the ``dense_gradient_summaries`` fixture's tf.GradientTape computation. Everything
TensorFlow does happens in the learner's process, as in the public checks (the grader's
process never imports it); both checks take about a second once TensorFlow is loaded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.checks import Check, CheckFailed, Context, LearnerApi
from grader.checks.compare import close_enough
from grader.exercises.ex09_vanishing import RTOL, _grader_model, _keras, _mnist, _parts

#: The optimizers a learner may be given by name, and the class Keras makes of each.
OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop", "adagrad": "Adagrad"}
ACTIVATIONS = ("sigmoid", "relu", "tanh", "elu")


def _structure_check(activation: str, units: tuple[int, ...], optimizer: str) -> Check:
    expected = {
        "input_shape": [None, 28, 28], "first": "Flatten", "hidden_units": list(units),
        "hidden_activations": [activation] * len(units), "output_units": 10,
        "output_activation": "softmax", "loss": "sparse_categorical_crossentropy",
        "accuracy_metric": True, "optimizer": OPTIMIZERS[optimizer],
    }

    def run(ctx: Context) -> str:
        api = LearnerApi(ctx)
        model = api.ref("build_deep_model", None, activation, hidden_units=units,
                        optimizer=optimizer)
        got = _parts(api.call(api.fixture("describe_model"), None, model))
        wrong = [key for key, value in expected.items() if got.get(key) != value]
        if wrong:
            raise CheckFailed("build_deep_model with another activation, hidden_units and "
                              f"optimizer: wrong {', '.join(wrong)}")
        return "follows activation, hidden_units and optimizer"

    return Check("hidden: build_deep_model follows a random activation, hidden_units and "
                 "optimizer", 1, run, hidden=True)


def _norms_check(activation: str, units: tuple[int, ...], rows: np.ndarray) -> Check:
    def run(ctx: Context) -> str:
        api = LearnerApi(ctx)
        data = _mnist()
        x, y = data["x_train"][rows], data["y_train"][rows]
        model = _grader_model(api, activation, units)
        truth = api.call(api.fixture("dense_gradient_summaries"), None, model, x, y)["norms"]
        result = api.ref("layer_gradient_norms", None, model, x, y)
        try:
            got: Any = ctx.call(_keras(api, "numpy", "asarray"), result, dtype="float64",
                                check_inputs=False)
        except CheckFailed as failure:
            raise CheckFailed("layer_gradient_norms must return a list of floats, one per "
                              f"Dense layer ({failure.message})") from None
        if np.shape(got) != (len(units) + 1,) or not close_enough(
                np.asarray(got), np.asarray(truth, dtype=np.float64), RTOL, 0.0):
            raise CheckFailed("layer_gradient_norms disagrees with tf.GradientTape on another "
                              "model and batch")
        return "matches tf.GradientTape"

    return Check("hidden: layer_gradient_norms on a random model and MNIST batch", 1, run,
                 hidden=True)


def hidden_checks(rng: np.random.Generator) -> list[Check]:
    """The hidden checks of ex09 for ``rng``."""

    def units() -> tuple[int, ...]:
        return tuple(int(u) for u in rng.integers(4, 40, size=int(rng.integers(1, 5))))

    structure = _structure_check(str(rng.choice(ACTIVATIONS)), units(),
                                 str(rng.choice(list(OPTIMIZERS))))
    rows = np.sort(rng.choice(3000, int(rng.integers(50, 150)), replace=False))
    return [structure, _norms_check(str(rng.choice(ACTIVATIONS)), units(), rows)]
