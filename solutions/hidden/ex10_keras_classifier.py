"""Hidden checks of ex10 (instructors only): classes, shapes and training arguments drawn from
the seed.

``output_layer_for`` with numbers of classes other than 3 and 10; ``build_classifier`` for a
random input shape and number of classes; ``train_classifier`` with random epochs, batch size
and validation split on another subset of MNIST (between 100 and 200 images, so that the fit
takes a second or two). All are judged by the spec (the solutions' docstrings); Keras runs in
the learner's process only, as in the public checks.
"""

from __future__ import annotations

import math

import numpy as np

from grader.checks import Check, CheckFailed, Context, LearnerApi
from grader.exercises.ex10_keras_classifier import XENT, _grader_model, _loss_name, _mnist, _shape


def _output_check(classes: tuple[int, ...]) -> Check:
    def run(ctx: Context) -> str:
        api = LearnerApi(ctx)
        for task, n, expected in [("regression", classes[0], (1, "linear", "mse")),
                                  ("binary", classes[0], (1, "sigmoid", "binary_crossentropy")),
                                  *(("multiclass", n, (n, "softmax", XENT)) for n in classes)]:
            value = api.call("output_layer_for", None, task, n)
            if (not isinstance(value, list | tuple) or len(value) != 3
                    or (value[0], value[1], _loss_name(value[2])) != expected):
                raise CheckFailed(f"output_layer_for({task!r}, n_classes) is wrong for "
                                  "another number of classes")
        return "right for other numbers of classes"

    return Check("hidden: output_layer_for with other numbers of classes", 1, run, hidden=True)


def _build_check(shape: tuple[int, ...], classes: int, seed: int) -> Check:
    def run(ctx: Context) -> str:
        api = LearnerApi(ctx)
        api.call(api.fixture("seed_keras"), None, seed)
        model = api.ref("build_classifier", None, shape, classes)
        described = api.call(api.fixture("describe_model"), None, model)
        last = (described["layers"] or [{}])[-1]
        if (_shape(described) != str(shape) or last.get("units") != classes
                or last.get("activation") != "softmax" or not described["compiled"]):
            raise CheckFailed("build_classifier does not follow another input_shape and "
                              "n_classes (its input, its last Dense(n_classes, softmax), or "
                              "compile)")
        return "follows input_shape and n_classes"

    return Check("hidden: build_classifier for a random input shape and number of classes", 1,
                 run, hidden=True)


def _fit_check(rows: np.ndarray, epochs: int, batch: int, split: float, seed: int) -> Check:
    train = len(rows) - round(len(rows) * split)  # len(rows) * split is a whole number

    def run(ctx: Context) -> str:
        api = LearnerApi(ctx)
        data = _mnist()
        x, y = data["x_learn"][rows], data["y_learn"][rows]
        model = _grader_model(api, seed=seed)
        history = api.ref("train_classifier", None, model, x, y, epochs, batch,
                          validation_split=split)
        if getattr(history, "type_name", type(history).__name__) != "History":
            raise CheckFailed("train_classifier must return the History that model.fit gives")
        values, params = api.attr(history, "history"), api.attr(history, "params")
        if (len(values.get("loss", [])) != epochs or "val_loss" not in values
                or params.get("steps") != math.ceil(train / batch)):
            raise CheckFailed("train_classifier does not follow another epochs, batch_size "
                              "and validation_split")
        return "follows epochs, batch_size and validation_split"

    return Check("hidden: train_classifier with random epochs, batch_size and "
                 "validation_split", 1, run, hidden=True)


def hidden_checks(rng: np.random.Generator) -> list[Check]:
    """The hidden checks of ex10 for ``rng``."""
    classes = tuple(int(n) for n in rng.choice([2, 4, 5, 6, 7, 8, 9, 11, 12, 20], 2,
                                               replace=False))
    shape = tuple(int(n) for n in rng.integers(3, 20, size=int(rng.integers(1, 4))))
    split = float(rng.choice([0.1, 0.2, 0.25, 0.5]))
    rows = np.sort(rng.choice(3000, 20 * int(rng.integers(5, 11)), replace=False))
    return [
        _output_check(classes),
        _build_check(shape, int(rng.integers(2, 15)), int(rng.integers(0, 1000))),
        _fit_check(rows, int(rng.integers(1, 3)), int(rng.integers(16, 65)), split,
                   int(rng.integers(0, 1000))),
    ]
