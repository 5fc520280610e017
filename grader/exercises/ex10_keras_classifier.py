"""Checks for ex10: output layers and losses, a Keras classifier, training, saving and loading.

A Keras model cannot cross the runner's pipe, so every run happens in the learner's process
(through ``api``) and comes back as named *facts* (numbers, strings and booleans): the output
layer chosen per task, a description of ``build_classifier``'s model (the ``describe_model``
fixture), what ``train_classifier``'s ``History`` says (epochs, steps per epoch, validation),
the test accuracy after a short seeded training, what ``save_model`` wrote and whether
``load_model`` predicts what the saved model did. The reference solution's facts are stored like
any reference value; each known mistake is data, a ``derive`` saying which facts it changes.

TensorFlow is imported only in the learner's process: this module never imports it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks import (
    Api,
    Check,
    CheckFailed,
    Context,
    Exercise,
    LearnerApi,
    Mistake,
    Ref,
    ReferenceApi,
)
from grader.runner.limits import Limits

# ------------------------------------------------------------------------------ the budgets

#: The learning run: build_classifier(), 2 epochs of batches of 32 on 3,000 MNIST training
#: images (20% kept for validation), judged on 2,000 test images. The reference reaches 0.885 to
#: 0.90 over seeds 0-3 (0.897 for the grader's seed 0) in about 3.5 s; an untrained model 0.10.
LEARN_TRAIN, LEARN_TEST, LEARN_EPOCHS, LEARN_BATCH, LEARN_SEED = 3000, 2000, 2, 32, 0
TARGET_ACCURACY = 0.8
#: The fit run: a grader-built model, 3 epochs of batches of 60 on 500 images with 40% kept for
#: validation: 300 training samples, 5 steps per epoch.
FIT_N, FIT_EPOCHS, FIT_BATCH, FIT_SPLIT = 500, 3, 60, 0.4
#: Images whose predictions the saved and the loaded model must agree on.
PREDICT_N = 64
SAVE_PATH, REFERENCE_PATH = "graded.keras", "grader_reference.keras"
#: The small classifier build_classifier is also asked for.
SMALL_SHAPE, SMALL_CLASSES = (8, 8), 3

rng = np.random.default_rng(10)
LEARN_INDEX = np.sort(rng.choice(60000, LEARN_TRAIN, replace=False))
TEST_INDEX = np.sort(rng.choice(10000, LEARN_TEST, replace=False))
FIT_INDEX = np.sort(rng.choice(60000, FIT_N, replace=False))
PREDICT_INDEX = np.sort(rng.choice(10000, PREDICT_N, replace=False))

RUN_INPUTS = (LEARN_INDEX, TEST_INDEX, FIT_INDEX, PREDICT_INDEX, LEARN_EPOCHS, LEARN_BATCH,
              LEARN_SEED, TARGET_ACCURACY, FIT_EPOCHS, FIT_BATCH, FIT_SPLIT, SMALL_SHAPE,
              SMALL_CLASSES)

XENT = "a categorical cross-entropy"
#: Loss names Keras treats alike, as one fact.
LOSS_ALIASES = {"mean_squared_error": "mse", "categorical_crossentropy": XENT,
                "sparse_categorical_crossentropy": XENT}


def _loss_name(loss: Any) -> Any:
    if not isinstance(loss, str):
        return loss
    return LOSS_ALIASES.get(loss.lower(), loss.lower())


def _steps(samples: int, batch: int) -> int:
    return math.ceil(samples / batch)


FIT_TRAIN = FIT_N - int(FIT_N * FIT_SPLIT)

# ------------------------------------------------------------------------------ known mistakes

_ANY_FILE = {"saved": False, "zip": False, "config": False}

MISTAKES: dict[str, list[Mistake]] = {
    "output_layer_for": [
        Mistake("activation on the regression output",
                "output_layer_for('regression', ...) squashes the output with an activation; a "
                "regression predicts any real number, so its output layer is linear: "
                "(1, 'linear', 'mse')",
                derive=lambda e: {"regression_activation": "relu"}),
        Mistake("cross-entropy for regression",
                "output_layer_for('regression', ...) uses a cross-entropy; a regression's loss is "
                "the mean squared error, 'mse'",
                derive=lambda e: {"regression_loss": "binary_crossentropy"}),
        Mistake("softmax for binary",
                "output_layer_for('binary', ...) uses softmax on one unit, which always outputs 1; "
                "a yes/no probability is a sigmoid: (1, 'sigmoid', 'binary_crossentropy')",
                derive=lambda e: {"binary_activation": "softmax"}),
        Mistake("two units for binary",
                "output_layer_for('binary', ...) gives 2 units; binary classification has one "
                "output, the probability of the positive class: (1, 'sigmoid', "
                "'binary_crossentropy')",
                derive=lambda e: {"binary_units": 2}),
        Mistake("mse for binary classification",
                "output_layer_for('binary', ...) uses 'mse'; a probability is trained with the "
                "cross-entropy, 'binary_crossentropy'",
                derive=lambda e: {"binary_loss": "mse"}),
        Mistake("sigmoid for multiclass",
                "output_layer_for('multiclass', n_classes) uses sigmoid with "
                "'binary_crossentropy' (independent yes/no outputs); one class out of n_classes "
                "needs 'softmax' with 'sparse_categorical_crossentropy' (integer labels) or "
                "'categorical_crossentropy' (one-hot labels)",
                derive=lambda e: {"multiclass_activation": "sigmoid",
                                  "multiclass_loss": "binary_crossentropy"}),
        Mistake("mse for multiclass classification",
                "output_layer_for('multiclass', n_classes) uses 'mse'; softmax probabilities are "
                "trained with 'sparse_categorical_crossentropy' (integer labels) or "
                "'categorical_crossentropy' (one-hot labels)",
                derive=lambda e: {"multiclass_loss": "mse"}),
        Mistake("n_classes ignored",
                "output_layer_for('multiclass', n_classes) always gives 10 units; use n_classes",
                derive=lambda e: {"multiclass_units_3": 10}),
        Mistake("one unit for multiclass",
                "output_layer_for('multiclass', n_classes) gives 1 unit; softmax needs one unit "
                "per class, n_classes",
                derive=lambda e: {"multiclass_units": 1, "multiclass_units_3": 1}),
    ],
    "build_classifier": [
        Mistake("not compiled",
                "build_classifier returns a model that is not compiled; call "
                "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', "
                "metrics=['accuracy']) before returning it",
                derive=lambda e: {"compiled": False, "loss": None}),
        Mistake("no softmax at the end",
                "build_classifier's last layer has no softmax (it outputs scores, not "
                "probabilities); end with Dense(n_classes, activation='softmax')",
                derive=lambda e: {"last_activation": "linear"}),
        Mistake("sigmoid and binary cross-entropy for multiclass",
                "build_classifier ends in sigmoid with 'binary_crossentropy'; one digit out of "
                "n_classes needs Dense(n_classes, activation='softmax') and "
                "'sparse_categorical_crossentropy' (see output_layer_for('multiclass', ...))",
                derive=lambda e: {"last_activation": "sigmoid", "loss": "binary_crossentropy"}),
        Mistake("mse for classification",
                "build_classifier compiles with 'mse'; a softmax classifier is trained with "
                "'sparse_categorical_crossentropy' (integer labels) or 'categorical_crossentropy' "
                "(one-hot labels)",
                derive=lambda e: {"loss": "mse"}),
        Mistake("n_classes ignored",
                "build_classifier always ends in Dense(10); use Dense(n_classes, "
                "activation='softmax')",
                derive=lambda e: {"last_units_3": 10}),
        Mistake("input_shape ignored",
                "build_classifier always takes (28, 28) inputs; use keras.Input(shape=input_shape)",
                derive=lambda e: {"input_shape_8": "(28, 28)"}),
    ],
    "train_classifier": [
        Mistake("History not returned",
                "train_classifier does not return the History; return what model.fit returns",
                derive=lambda e: {"returns_history": False}),
        Mistake("epochs ignored",
                "train_classifier does not train for `epochs` epochs; pass epochs=epochs to "
                "model.fit", derive=lambda e: {"epochs": 1}),
        Mistake("batch_size ignored",
                "train_classifier ignores batch_size (Keras' default is 32); pass "
                "batch_size=batch_size to model.fit",
                derive=lambda e: {"steps": _steps(FIT_TRAIN, 32)}),
        Mistake("validation_split ignored",
                "train_classifier ignores validation_split (it always keeps 20% aside); pass "
                "validation_split=validation_split to model.fit",
                derive=lambda e: {"steps": _steps(FIT_N - int(FIT_N * 0.2), FIT_BATCH)}),
        Mistake("no validation",
                "train_classifier trains on every sample and validates on none; pass "
                "validation_split=validation_split to model.fit (the History then holds val_loss "
                "and val_accuracy for the learning curves)",
                derive=lambda e: {"validates": False, "steps": _steps(FIT_N, FIT_BATCH)}),
    ],
    "save_model": [
        Mistake("HDF5 format",
                "save_model writes the old HDF5 format (.h5); save in the .keras format with "
                "model.save(path), path ending in .keras",
                derive=lambda e: {**_ANY_FILE, "h5": True}),
        Mistake("weights only",
                "save_model saves only the weights (save_weights), without the architecture; "
                "save the whole model with model.save(path)",
                derive=lambda e: {**_ANY_FILE, "weights": True}),
        Mistake("path ignored",
                "save_model writes to a file name of its own; save to the path it is given: "
                "model.save(path)",
                derive=lambda e: {**_ANY_FILE, "other_keras": True}),
    ],
    "load_model": [
        Mistake("fresh model",
                "load_model returns a new, untrained model (its predictions are not the saved "
                "model's); load the file with keras.models.load_model(path)",
                derive=lambda e: {"same_predictions": False}),
    ],
}

# ------------------------------------------------------------------------------ MNIST subsets


@functools.cache
def _mnist() -> dict[str, np.ndarray]:
    """The subsets the runs use, pixels scaled to [0, 1] as the notebook does."""
    from dataset import mnist

    try:
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
    except OSError as error:
        raise CheckFailed(f"cannot load MNIST to train on: {error}") from None

    def pixels(images: np.ndarray) -> np.ndarray:
        return images.astype(np.float32) / np.float32(255.0)

    return {
        "x_learn": pixels(x_train[LEARN_INDEX]), "y_learn": y_train[LEARN_INDEX].astype(np.int64),
        "x_test": pixels(x_test[TEST_INDEX]), "y_test": y_test[TEST_INDEX].astype(np.int64),
        "x_fit": pixels(x_train[FIT_INDEX]), "y_fit": y_train[FIT_INDEX].astype(np.int64),
        "x_predict": pixels(x_test[PREDICT_INDEX]),
    }


# ------------------------------------------------------------------------------ the runs


def _keras(api: Api, module: str, name: str) -> Any:
    return api.ref(api.fixture("sibling"), None, module, name)


def _grader_model(api: Api, seed: int) -> Any:
    """A small compiled MNIST classifier built by the grader (independent of build_classifier)."""
    api.call(api.fixture("seed_keras"), None, seed)
    layers = [
        api.ref(_keras(api, "keras", "Input"), None, shape=(28, 28)),
        api.ref(_keras(api, "keras.layers", "Flatten"), None),
        api.ref(_keras(api, "keras.layers", "Dense"), None, 32, activation="relu"),
        api.ref(_keras(api, "keras.layers", "Dense"), None, 10, activation="softmax"),
    ]
    model = api.ref(_keras(api, "keras", "Sequential"), None, layers)
    api.call(model, "compile", optimizer="adam", loss="sparse_categorical_crossentropy",
             metrics=["accuracy"])
    return model


def _describe(api: Api, model: Any) -> dict[str, Any]:
    return api.call(api.fixture("describe_model"), None, model)


def _labels(description: dict[str, Any], y: np.ndarray) -> np.ndarray:
    """Labels in the format the model's compiled loss expects (one-hot or integers)."""
    if str(description.get("loss")).lower() == "categorical_crossentropy":
        return np.eye(10, dtype=np.float32)[y]
    return y


def _output_facts(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    answers = {}
    for key, task, n in (("regression", "regression", 10), ("binary", "binary", 10),
                         ("multiclass", "multiclass", 10), ("multiclass_3", "multiclass", 3)):
        value = api.call("output_layer_for", None, task, n)
        if not isinstance(value, list | tuple) or len(value) != 3:
            raise CheckFailed(f"output_layer_for({task!r}, {n}) must return a tuple (units, "
                              f"activation, loss); it returned {value!r}")
        answers[key] = value
    facts = {}
    for key in ("regression", "binary", "multiclass"):
        units, activation, loss = answers[key]
        facts.update({f"{key}_units": units, f"{key}_activation": activation,
                      f"{key}_loss": _loss_name(loss)})
    facts["multiclass_units_3"] = answers["multiclass_3"][0]
    return facts, {"answers": answers}


def _shape(description: dict[str, Any]) -> str:
    """The shape of one input, as text ("(28, 28)"): stored and compared as one value."""
    return str(tuple(description["input_shape"] or [None])[1:])


def _build_facts(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    api.call(api.fixture("seed_keras"), None, 0)
    default = _describe(api, api.ref("build_classifier", None))
    small = _describe(api, api.ref("build_classifier", None, SMALL_SHAPE, SMALL_CLASSES))
    last = (default["layers"] or [{}])[-1]
    facts = {
        "input_shape": _shape(default),
        "last_class": last.get("class"),
        "last_units": last.get("units"),
        "last_activation": last.get("activation"),
        "compiled": default["compiled"],
        "loss": _loss_name(default["loss"]),
        "input_shape_8": _shape(small),
        "last_units_3": (small["layers"] or [{}])[-1].get("units"),
    }
    return facts, {"describe": default}


def _fit_facts(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    data = _mnist()
    model = _grader_model(api, seed=1)
    history = api.ref("train_classifier", None, model, data["x_fit"], data["y_fit"], FIT_EPOCHS,
                      FIT_BATCH, validation_split=FIT_SPLIT)
    returned = getattr(history, "type_name", type(history).__name__)
    facts = {"returns_history": returned == "History"}
    if not facts["returns_history"]:  # read what fit did from the model's own History
        history = api.attr_ref(model, "history")
    values = api.attr(history, "history")
    params = api.attr(history, "params")
    facts.update({
        "epochs": len(values.get("loss", [])),
        "steps": params.get("steps"),
        "validates": "val_loss" in values,
    })
    return facts, {"returned": returned}


def _learn_facts(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    data = _mnist()
    api.call(api.fixture("seed_keras"), None, LEARN_SEED)
    model = api.ref("build_classifier", None)
    labels = _labels(_describe(api, model), data["y_learn"])
    api.ref("train_classifier", None, model, data["x_learn"], labels, LEARN_EPOCHS, LEARN_BATCH)
    scores = np.asarray(api.call(model, "predict", data["x_test"], verbose=0))
    if scores.shape != (LEARN_TEST, 10):
        raise CheckFailed(f"build_classifier's model predicts an array of shape {scores.shape} "
                          f"for {LEARN_TEST} images; it must be ({LEARN_TEST}, 10)")
    accuracy = float(np.mean(scores.argmax(axis=1) == data["y_test"]))
    return {"reaches_target": accuracy >= TARGET_ACCURACY}, {"accuracy": accuracy}


def _save_facts(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    model = _grader_model(api, seed=2)
    listdir = _keras(api, "os", "listdir")
    before = set(api.call(listdir, None, "."))
    api.call("save_model", None, model, SAVE_PATH)
    new = sorted(set(api.call(listdir, None, ".")) - before - {SAVE_PATH})
    saved = bool(api.call(_keras(api, "os.path", "isfile"), None, SAVE_PATH))
    is_zip = saved and bool(api.call(_keras(api, "zipfile", "is_zipfile"), None, SAVE_PATH))
    config = False
    if is_zip:
        archive = api.ref(_keras(api, "zipfile", "ZipFile"), None, SAVE_PATH)
        config = "config.json" in api.call(archive, "namelist")
        api.call(archive, "close")
    facts = {
        "saved": saved, "zip": is_zip, "config": config,
        "h5": any(n.endswith(".h5") and not n.endswith(".weights.h5") for n in new),
        "weights": any(n.endswith(".weights.h5") for n in new),
        "other_keras": any(n.endswith(".keras") for n in new),
    }
    return facts, {"new": new}


def _load_facts(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    data = _mnist()
    model = _grader_model(api, seed=3)
    api.call(model, "save", REFERENCE_PATH)
    saved = np.asarray(api.call(model, "predict", data["x_predict"], verbose=0))
    loaded = api.ref("load_model", None, REFERENCE_PATH)
    try:
        predicted = np.asarray(api.call(loaded, "predict", data["x_predict"], verbose=0))
    except CheckFailed as failure:
        raise CheckFailed(f"load_model's result cannot predict: {failure.message}; return the "
                          "model keras.models.load_model(path) gives") from None
    same = predicted.shape == saved.shape and bool(np.allclose(predicted, saved, atol=1e-5))
    return {"same_predictions": same}, {}


RUNS: dict[str, Callable[[Api], tuple[dict[str, Any], dict[str, Any]]]] = {
    "output": _output_facts, "build": _build_facts, "fit": _fit_facts, "learn": _learn_facts,
    "save": _save_facts, "load": _load_facts,
}
RUN_REFS = {
    kind: Ref(f"{kind} run facts", RUN_INPUTS,
              lambda solution, run=run: _reference_facts(run, solution))
    for kind, run in RUNS.items()
}


def _reference_facts(run: Callable, solution: Any) -> dict[str, Any]:
    """The solution's facts, its files written in a scratch folder (as the child's cwd is)."""
    import contextlib
    import tempfile

    with tempfile.TemporaryDirectory() as scratch, contextlib.chdir(scratch):
        facts, details = run(ReferenceApi(solution))
    if "accuracy" in details:  # shown in messages only
        facts["accuracy"] = round(details["accuracy"], 2)
    return facts


def _learner_facts(ctx: Context, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """One learner run of each kind per grading (several checks read it)."""
    return ctx.once(("run", kind), lambda: RUNS[kind](LearnerApi(ctx)))


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist() if value.ndim else value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _explain(key: str, facts: dict, details: dict, expected: dict) -> str:
    if key == "reaches_target":
        return (f"after {LEARN_EPOCHS} epochs of batches of {LEARN_BATCH} on {LEARN_TRAIN} MNIST "
                f"images, the model's accuracy on {LEARN_TEST} test images is "
                f"{details['accuracy']:.3f}; the reference reaches {expected['accuracy']:.2f} and "
                f"at least {TARGET_ACCURACY} is required")
    if key == "returns_history":
        return f"train_classifier returned {details['returned']}, not a History"
    if key == "steps":
        return (f"with {FIT_N} samples, validation_split={FIT_SPLIT} and batch_size={FIT_BATCH}, "
                f"each epoch should make {expected['steps']} steps; it made {facts['steps']}")
    if key == "same_predictions":
        return (f"the loaded model's predictions on {PREDICT_N} images differ from the saved "
                "model's")
    if key in ("saved", "zip", "config"):
        written = ", ".join(details.get("new", [])) or "nothing else"
        return (f"save_model(model, {SAVE_PATH!r}) must write a .keras zip archive (holding "
                f"config.json) at that path; file there: {facts['saved']}, a zip archive: "
                f"{facts['zip']}, with config.json: {facts['config']}; other new files: {written}")
    return f"{key} is {facts[key]!r}; it should be {expected[key]!r}"


def facts_check(name: str, kind: str, keys: tuple[str, ...], mistakes: str, *,
                hints: tuple[str, ...] = (), points: float = 1, passed: str) -> Check:
    """A check that facts ``keys`` of run ``kind`` are the reference's; ``mistakes`` names the
    MISTAKES entry whose derived facts (among ``keys`` and ``hints``, facts of the same run
    that are not judged) may name a bug."""

    def run(ctx: Context) -> str:
        facts, details = _learner_facts(ctx, kind)
        expected = {k: _plain(v) for k, v in ctx.expected(RUN_REFS[kind]).items()}
        facts = {k: _plain(v) for k, v in facts.items()}
        for key in keys:
            if facts.get(key) != expected[key]:
                message = _explain(key, facts, details, expected)
                mistake = _diagnose(MISTAKES[mistakes], keys + hints, facts, expected)
                if mistake is not None:
                    raise CheckFailed(f"{mistake.message}. {message}", diagnosis=mistake.name)
                raise CheckFailed(message)
        return passed

    return Check(name=name, points=points, run=run, refs=(RUN_REFS[kind],))


def _diagnose(mistakes: list[Mistake], keys: tuple[str, ...], facts: dict,
              expected: dict) -> Mistake | None:
    """The first mistake whose derived facts (among ``keys``) are the learner's."""
    for mistake in mistakes:
        predicted = {k: v for k, v in mistake.derive(expected).items() if k in keys}
        if predicted and all(facts.get(k) == v for k, v in predicted.items()) and any(
            expected[k] != v for k, v in predicted.items()
        ):
            return mistake
    return None


OUTPUT_KEYS = {task: (f"{task}_units", f"{task}_activation", f"{task}_loss")
               for task in ("regression", "binary", "multiclass")}

EXERCISE = Exercise(
    id="ex10",
    module="ex10_keras_classifier",
    title="Keras classifier, saved and loaded",
    # TensorFlow's import takes about 5 s; the learning run about 4 s on an idle core. With the
    # default 2 GiB address space, TensorFlow's thread pools abort the child in model.fit.
    limits=Limits(import_timeout=60.0, call_timeout=60.0, cpu_seconds=300,
                  memory_bytes=4 * 1024**3),
    checks=(
        facts_check("output_layer_for('regression', ...) is (1, 'linear', 'mse')", "output",
                    OUTPUT_KEYS["regression"], "output_layer_for",
                    passed="a linear unit with the mean squared error"),
        facts_check("output_layer_for('binary', ...) is (1, 'sigmoid', 'binary_crossentropy')",
                    "output", OUTPUT_KEYS["binary"], "output_layer_for",
                    passed="a sigmoid unit with the binary cross-entropy"),
        facts_check("output_layer_for('multiclass', n_classes) is (n_classes, 'softmax', a "
                    "categorical cross-entropy)", "output",
                    (*OUTPUT_KEYS["multiclass"], "multiclass_units_3"), "output_layer_for",
                    passed="n_classes softmax units with a categorical cross-entropy"),
        facts_check("build_classifier builds a compiled model for (28, 28) images ending in "
                    "Dense(10, softmax)", "build",
                    ("input_shape", "last_class", "last_units", "last_activation", "compiled",
                     "loss"), "build_classifier",
                    passed="compiled, with a categorical cross-entropy, Dense(10, softmax) last"),
        facts_check("build_classifier follows input_shape and n_classes", "build",
                    ("input_shape_8", "last_units_3"), "build_classifier",
                    passed="build_classifier((8, 8), 3) takes 8x8 inputs and ends in Dense(3)"),
        facts_check("train_classifier fits with the given epochs, batch_size and "
                    "validation_split and returns the History", "fit",
                    ("returns_history", "epochs", "steps", "validates"), "train_classifier",
                    passed="epochs, batches and validation as asked; the History returned"),
        facts_check(f"train_classifier trains build_classifier's model to a test accuracy of at "
                    f"least {TARGET_ACCURACY} in {LEARN_EPOCHS} epochs on {LEARN_TRAIN} images",
                    "learn", ("reaches_target",), "train_classifier", points=2,
                    passed=f"test accuracy of at least {TARGET_ACCURACY}"),
        facts_check("save_model writes a .keras archive at the given path", "save",
                    ("saved", "zip", "config"), "save_model",
                    hints=("h5", "weights", "other_keras"),
                    passed="a .keras zip archive with config.json"),
        facts_check("load_model gives back the saved model: the same predictions", "load",
                    ("same_predictions",), "load_model",
                    passed="the loaded model predicts what the saved one did"),
    ),
)
