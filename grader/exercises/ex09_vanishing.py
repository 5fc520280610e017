"""Checks for ex09: a deep Keras network and the gradient norm of each of its layers.

A Keras model cannot cross the runner's pipe, so everything about a model is asked of it in the
learner's process: its structure as plain data (fixture ``describe_model``), the reference
gradient norms by an independent ``tf.GradientTape`` computation (fixtures
``dense_kernel_gradient_norms`` and ``dense_gradient_summaries``), its predictions. TensorFlow
is never imported here: the grader's process only compares plain values.

* **Structure** of ``build_deep_model("sigmoid")`` and ``build_deep_model("relu",
  hidden_units=(32, 16), optimizer="adam")``, compared with the reference solution's (stored).
* **Gradient norms** of ``layer_gradient_norms`` on models the grader builds itself (so that a
  faulty ``build_deep_model`` costs no points here), against the fixture's computation on the
  same model and batch; the fixture's other summaries of the gradients (of the biases, L1
  norms...) predict what the known mistakes return (bias gradients, squared or L1 norms, a
  summed loss...).
* **The finding**, on the learner's own models, seeded: the first-to-last gradient-norm ratio
  is tiny with sigmoid and not with relu, and after one epoch of SGD on 3,000 MNIST images the
  relu model is far more accurate than the sigmoid one. Float results of TensorFlow vary
  slightly across machines, so these are judged by thresholds calibrated on the reference
  (sigmoid ratio about 3e-4, relu about 4; accuracy about 0.10 against 0.46 to 0.53 for seeds
  0 and 1), with wide margins; the reference's own figures are stored for the messages only.
"""

from __future__ import annotations

import functools
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
from grader.checks.compare import close_enough
from grader.runner.limits import Limits

# ------------------------------------------------------------------------------ the inputs

#: The two models whose structure is checked: (label, args, kwargs, the arguments as said).
CONFIGS = (
    ("sigmoid", ("sigmoid",), {}, 'build_deep_model("sigmoid")'),
    ("relu", ("relu",), {"hidden_units": (32, 16), "optimizer": "adam"},
     'build_deep_model("relu", hidden_units=(32, 16), optimizer="adam")'),
)
#: The grader's own models for layer_gradient_norms: (activation, hidden units).
NORM_MODELS = (("sigmoid", (48, 32, 24, 16)), ("relu", (40, 20)))
NORM_BATCH = 200
#: The finding: gradient norms on 500 images, one epoch of SGD (batch 8) on 3,000 training
#: images, accuracy on 1,000 test images; the models are seeded with keras.utils.set_random_seed.
RATIO_BATCH, TRAIN_SIZE, TEST_SIZE, FIT_BATCH, SEED = 500, 3000, 1000, 8, 0
#: Thresholds, calibrated on the reference (first/last ratio 3e-4 with sigmoid, 4 with relu;
#: test accuracy 0.10 with sigmoid, 0.46 and 0.53 with relu for seeds 0 and 1).
SIGMOID_RATIO_MAX, RELU_RATIO_MIN = 0.01, 0.1
RELU_ACCURACY_MIN, ACCURACY_GAP_MIN = 0.3, 0.2
RTOL = 1e-3  # float32 gradients of the same model, computed twice

rng = np.random.default_rng(9)
TRAIN_INDEX = np.sort(rng.choice(60000, TRAIN_SIZE, replace=False))
TEST_INDEX = np.sort(rng.choice(10000, TEST_SIZE, replace=False))

FINDING_INPUTS = (TRAIN_INDEX, TEST_INDEX, RATIO_BATCH, FIT_BATCH, SEED)


@functools.cache
def _mnist() -> dict[str, np.ndarray]:
    """The fixed MNIST subsets, pixels scaled to [0, 1] (float32), labels int64."""
    from dataset import mnist

    try:
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
    except OSError as error:  # DatasetError: a missing or corrupt file, said in one line
        raise CheckFailed(f"cannot load MNIST: {error}") from None
    scale = np.float32(255.0)
    return {
        "x_train": (x_train[TRAIN_INDEX] / scale).astype(np.float32),
        "y_train": y_train[TRAIN_INDEX].astype(np.int64),
        "x_test": (x_test[TEST_INDEX] / scale).astype(np.float32),
        "y_test": y_test[TEST_INDEX].astype(np.int64),
    }


def _plain(value: Any) -> Any:
    """Stored values come back as 0-d arrays: turn them into Python values again."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value]
    return value


# ------------------------------------------------------------------------------ mistakes

# build_deep_model's mistakes say which facts of the structure (see _structure_facts) change;
# layer_gradient_norms' mistakes what the buggy function returns, from the fixture's summaries
# of the gradients (see _norm_outcomes: kernel and bias gradient norms, L1 norms, batch size).
MISTAKES: dict[str, list[Mistake]] = {
    "build_deep_model": [
        Mistake("activation ignored",
                "build_deep_model ignores its activation argument: pass it to every hidden "
                "layer, keras.layers.Dense(units, activation=activation)",
                derive=lambda e: {"hidden_activations": False}),
        Mistake("hidden_units ignored",
                "build_deep_model ignores hidden_units: make one Dense layer per entry, "
                "[keras.layers.Dense(units, activation=activation) for units in hidden_units]",
                derive=lambda e: {"hidden_units": False}),
        Mistake("missing Flatten",
                "build_deep_model has no Flatten layer after the input: a Dense layer on a "
                "(N, 28, 28) batch acts on the last axis only; add keras.layers.Flatten() right "
                "after keras.Input((28, 28))",
                derive=lambda e: {"flatten_first": False}),
        Mistake("wrong input shape",
                "build_deep_model's input is not one 28 x 28 image: start with "
                "keras.Input((28, 28)) (the batch dimension is implicit), then Flatten",
                derive=lambda e: {"input_shape": False}),
        Mistake("no softmax",
                "build_deep_model's output layer has no softmax: the loss "
                "sparse_categorical_crossentropy expects probabilities; use "
                'keras.layers.Dense(10, activation="softmax")',
                derive=lambda e: {"output_units": True, "output_softmax": False}),
        Mistake("wrong output units",
                "build_deep_model's output layer does not have one unit per digit: use "
                'keras.layers.Dense(10, activation="softmax")',
                derive=lambda e: {"output_units": False}),
        Mistake("categorical loss",
                "build_deep_model compiles with categorical_crossentropy, which expects one-hot "
                "labels; MNIST's labels are class numbers 0..9, so use "
                'loss="sparse_categorical_crossentropy"',
                derive=lambda e: {"loss": "categorical_crossentropy"}),
        Mistake("missing metric",
                'build_deep_model compiles without the accuracy metric: add metrics=["accuracy"]',
                derive=lambda e: {"accuracy_metric": False}),
        Mistake("optimizer ignored",
                "build_deep_model ignores its optimizer argument: compile with "
                "optimizer=optimizer",
                derive=lambda e: {"optimizer": False}),
    ],
    "layer_gradient_norms": [
        Mistake("last layer first",
                "layer_gradient_norms lists the layers from the output back to the input; "
                "return them in the model's order, first hidden layer first",
                derive=lambda e: {"norms": e["norms"][::-1]}),
        Mistake("bias gradients",
                "layer_gradient_norms measures the gradients of the biases; use each Dense "
                "layer's weight matrix, layer.kernel (model.trainable_variables alternates "
                "kernel and bias)",
                derive=lambda e: {"norms": e["bias_norms"]}),
        Mistake("kernels and biases",
                "layer_gradient_norms returns a norm for every trainable variable, biases "
                "included; keep one per Dense layer, the gradient of layer.kernel",
                derive=lambda e: {"norms": [v for pair in zip(e["norms"], e["bias_norms"],
                                                              strict=True) for v in pair]}),
        Mistake("squared norms",
                "layer_gradient_norms returns squared norms (the sum of the squared gradient); "
                "the L2 norm is its square root: tf.norm(g)",
                derive=lambda e: {"norms": [v**2 for v in e["norms"]]}),
        Mistake("L1 norms",
                "layer_gradient_norms sums the absolute values of the gradient (an L1 norm); "
                "use the L2 norm, tf.norm(g) = sqrt(sum(g ** 2))",
                derive=lambda e: {"norms": e["l1_norms"]}),
        Mistake("mean absolute value",
                "layer_gradient_norms returns the mean absolute value of the gradient; use the "
                "L2 norm, tf.norm(g) = sqrt(sum(g ** 2))",
                derive=lambda e: {"norms": e["mean_abs"]}),
        Mistake("summed loss",
                "layer_gradient_norms differentiates the loss summed over the batch; use the "
                "mean over the batch, as keras.losses.SparseCategoricalCrossentropy() and "
                "model.fit do",
                derive=lambda e: {"norms": [v * e["batch"] for v in e["norms"]]}),
    ],
}

# ------------------------------------------------------------------------------ structure


def _describe(api: Api, label: str) -> dict[str, Any]:
    """describe_model of the learner's (or the reference's) model for CONFIGS[label]."""
    _, args, kwargs, _ = next(c for c in CONFIGS if c[0] == label)
    model = api.ref("build_deep_model", None, *args, **kwargs)
    return api.call(api.fixture("describe_model"), None, model)


def _structure(api: Api) -> dict[str, Any]:
    return {label: _describe(api, label) for label, *_ in CONFIGS}


STRUCTURE_REF = Ref("build_deep_model structure", CONFIGS,
                    lambda solution: _structure(ReferenceApi(solution)))


def _layer(layer: dict) -> str:
    if layer.get("class") == "Dense":
        return f"Dense({layer.get('units')}, {layer.get('activation')})"
    return str(layer.get("class"))


def _parts(description: dict) -> dict[str, Any]:
    """The aspects of one description that the facts compare."""
    layers = description.get("layers") or []
    dense = [layer for layer in layers if layer.get("class") == "Dense"]
    hidden, output = dense[:-1], (dense[-1] if dense else {})
    metrics = [str(m) for m in description.get("metrics") or []]
    return {
        "input_shape": description.get("input_shape"),
        "first": layers[0].get("class") if layers else None,
        "hidden_units": [layer.get("units") for layer in hidden],
        "hidden_activations": [layer.get("activation") for layer in hidden],
        "output_units": output.get("units"),
        "output_activation": output.get("activation"),
        "loss": description.get("loss"),
        "accuracy_metric": any(m in ("accuracy", "acc", "sparse_categorical_accuracy")
                               for m in metrics),
        "optimizer": description.get("optimizer"),
        "layers": ", ".join(_layer(layer) for layer in layers),
        "metrics": metrics,
    }


def _structure_facts(got: dict, expected: dict) -> dict[str, Any]:
    """Booleans (and the loss name): does each aspect of both learner models match?"""
    g = {label: _parts(got[label]) for label in got}
    e = {label: _parts(expected[label]) for label in expected}

    def same(key: str) -> bool:
        return all(g[label][key] == e[label][key] for label in e)

    loss = g["sigmoid"]["loss"]
    return {
        "input_shape": same("input_shape"),
        "flatten_first": all(g[label]["first"] == "Flatten" for label in g),
        "hidden_units": same("hidden_units"),
        "hidden_activations": all(set(g[label]["hidden_activations"])
                                  == set(e[label]["hidden_activations"]) for label in e),
        "output_units": same("output_units"),
        "output_softmax": same("output_activation"),
        "loss": loss if all(g[label]["loss"] == loss for label in g) else "(differs)",
        "accuracy_metric": all(g[label]["accuracy_metric"] for label in g),
        "optimizer": same("optimizer"),
    }


def _said(description: dict) -> str:
    p = _parts(description)
    return (f"input {p['input_shape']}, layers [{p['layers']}], loss {p['loss']!r}, "
            f"metrics {p['metrics']}, optimizer {p['optimizer']}")


def _learner_structure(ctx: Context) -> dict[str, Any]:
    """The learner's models described once per grading (four checks read them)."""
    return ctx.once("structure", lambda: _structure(LearnerApi(ctx)))


def structure_check(name: str, keys: tuple[str, ...], passed: str) -> Check:
    """Facts ``keys`` of the learner's two models must match the reference's."""

    def run(ctx: Context) -> str:
        expected_models = _plain(ctx.expected(STRUCTURE_REF))
        got_models = _learner_structure(ctx)
        facts = _structure_facts(got_models, expected_models)
        reference = _structure_facts(expected_models, expected_models)
        wrong = [key for key in keys if facts[key] != reference[key]]
        if not wrong:
            return passed
        label, _, _, call = next((c for c in CONFIGS if _parts(got_models[c[0]]) != _parts(
            expected_models[c[0]])), CONFIGS[0])
        detail = (f"{call} gives {_said(got_models[label])}; expected "
                  f"{_said(expected_models[label])}")
        for mistake in MISTAKES["build_deep_model"]:
            predicted = {k: v for k, v in mistake.derive(reference).items() if k in keys}
            if predicted and all(facts[k] == v for k, v in predicted.items()):
                raise CheckFailed(f"{mistake.message}. {detail}", diagnosis=mistake.name)
        raise CheckFailed(f"build_deep_model: wrong {', '.join(wrong)}. {detail}")

    return Check(name=name, points=1, run=run, refs=(STRUCTURE_REF,))


# ------------------------------------------------------------------------------ gradient norms


def _keras(api: Api, module: str, name: str) -> Any:
    return api.ref(api.fixture("sibling"), None, module, name)


def _grader_model(api: Api, activation: str, units: tuple[int, ...]) -> Any:
    """A Sequential built by the grader in the learner's process (not by build_deep_model)."""
    api.call(api.fixture("seed_keras"), None, SEED)
    dense = _keras(api, "keras.layers", "Dense")
    layers = [api.ref(_keras(api, "keras", "Input"), None, (28, 28)),
              api.ref(_keras(api, "keras.layers", "Flatten"), None)]
    layers += [api.ref(dense, None, u, activation=activation) for u in units]
    layers.append(api.ref(dense, None, 10, activation="softmax"))
    return api.ref(_keras(api, "keras", "Sequential"), None, layers)


def _norm_outcomes(api: Api, activation: str, units: tuple[int, ...]) -> tuple[Any, dict]:
    """The learner's norms for a grader model, and what the truth and the mistakes need."""
    data = _mnist()
    x, y = data["x_train"][:NORM_BATCH], data["y_train"][:NORM_BATCH]
    model = _grader_model(api, activation, units)
    summaries = api.call(api.fixture("dense_gradient_summaries"), None, model, x, y)
    expected = {key: [float(v) for v in values] for key, values in summaries.items()}
    expected["batch"] = NORM_BATCH
    # Whatever the learner returns (floats, tensors, a list of tensors), as a float array.
    result = api.ref("layer_gradient_norms", None, model, x, y)
    try:
        asarray = _keras(api, "numpy", "asarray")
        if isinstance(api, LearnerApi):  # the result may hold tensors, which cannot be sent
            got = api.ctx.call(asarray, result, dtype="float64", check_inputs=False)
        else:
            got = api.call(asarray, None, result, dtype="float64")
    except CheckFailed as failure:
        raise CheckFailed("layer_gradient_norms must return a list of floats, one per Dense "
                          f"layer ({failure.message})") from None
    return got, expected


def _norms_check() -> Check:
    def run(ctx: Context) -> str:
        api = LearnerApi(ctx)
        for activation, units in NORM_MODELS:
            got, expected = _norm_outcomes(api, activation, units)
            what = (f"for a model Input((28, 28)), Flatten, "
                    f"{', '.join(f'Dense({u}, {activation})' for u in units)}, "
                    f"Dense(10, softmax) on {NORM_BATCH} MNIST images")
            n = len(units) + 1
            if np.shape(got) == (n,) and close_enough(
                    np.asarray(got), np.asarray(expected["norms"]), RTOL, 0.0):
                continue
            shown = np.array2string(np.asarray(got), precision=4) if np.ndim(got) else str(got)
            detail = (f"{what}, it returned {shown}; tf.GradientTape gives "
                      f"{np.array2string(np.asarray(expected['norms']), precision=4)}")
            for mistake in MISTAKES["layer_gradient_norms"]:
                predicted = np.asarray(mistake.derive(expected)["norms"])
                if np.shape(got) == predicted.shape and close_enough(
                        np.asarray(got), predicted, RTOL, 0.0):
                    raise CheckFailed(f"{mistake.message}. {detail}", diagnosis=mistake.name)
            if np.shape(got) != (n,):
                raise CheckFailed(f"layer_gradient_norms must return {n} values, one per "
                                  f"Dense layer: {detail}")
            raise CheckFailed(f"layer_gradient_norms: wrong norms. {detail}")
        return "the kernel gradient norms of every Dense layer, first first, match tf.GradientTape"

    return Check(name="layer_gradient_norms matches an independent tf.GradientTape computation",
                 points=2, run=run)


# ------------------------------------------------------------------------------ the finding


def _finding(api: Api) -> dict[str, dict[str, float]]:
    """For sigmoid and relu: first/last gradient-norm ratio of build_deep_model(activation)
    before training, and its test accuracy after one epoch of SGD."""
    data = _mnist()
    out = {}
    for activation in ("sigmoid", "relu"):
        api.call(api.fixture("seed_keras"), None, SEED)
        model = api.ref("build_deep_model", None, activation)
        norms = api.call(api.fixture("dense_kernel_gradient_norms"), None, model,
                         data["x_train"][:RATIO_BATCH], data["y_train"][:RATIO_BATCH])
        if len(norms) < 2 or not norms[-1] > 0:
            raise CheckFailed(f'build_deep_model("{activation}") must have Dense layers whose '
                              "last kernel gets a gradient")
        api.ref(model, "fit", data["x_train"], data["y_train"], epochs=1, batch_size=FIT_BATCH,
                verbose=0)
        scores = np.asarray(api.call(model, "predict", data["x_test"], verbose=0))
        if scores.shape != (TEST_SIZE, 10):
            raise CheckFailed(f'build_deep_model("{activation}") predicts an array of shape '
                              f"{scores.shape} for {TEST_SIZE} images; expected "
                              f"({TEST_SIZE}, 10)")
        accuracy = float(np.mean(np.argmax(scores, axis=1) == data["y_test"]))
        out[activation] = {"ratio": float(norms[0] / norms[-1]), "accuracy": accuracy}
    return out


def _reference_finding(solution: Any) -> dict[str, dict[str, float]]:
    found = _finding(ReferenceApi(solution))  # shown in messages only: two significant digits
    return {a: {k: float(f"{v:.2g}") for k, v in d.items()} for a, d in found.items()}


#: The figures move a little with TensorFlow's version (relu accuracy 0.46 or 0.47), and the
#: judges' thresholds sit far from them: a fresh computation within 25% still matches the store.
FINDING_REF = Ref("build_deep_model finding", FINDING_INPUTS, _reference_finding, drift=0.25)
def _learner_finding(ctx: Context) -> dict[str, dict[str, float]]:
    """The learner's experiment run once per grading (two checks read it)."""
    return ctx.once("finding", lambda: _finding(LearnerApi(ctx)))


def finding_check(name: str, judge: Callable[[dict, dict], str | None], points: float,
                  passed: str) -> Check:
    """``judge(found, reference)`` returns what is wrong with the learner's finding, or None."""

    def run(ctx: Context) -> str:
        reference = _plain(ctx.expected(FINDING_REF))
        problem = judge(_learner_finding(ctx), reference)
        if problem is not None:
            raise CheckFailed(problem)
        return passed

    return Check(name=name, points=points, run=run, refs=(FINDING_REF,))


def _judge_ratio(found: dict, reference: dict) -> str | None:
    sigmoid, relu = found["sigmoid"]["ratio"], found["relu"]["ratio"]
    said = (f"the first layer's gradient norm over the last's is {sigmoid:.2g} with sigmoid and "
            f"{relu:.2g} with relu (the reference: {reference['sigmoid']['ratio']:.2g} and "
            f"{reference['relu']['ratio']:.2g})")
    if not sigmoid < SIGMOID_RATIO_MAX:  # written so that NaN fails too
        return (f"with sigmoid hidden layers the gradient should vanish towards the input: {said}; "
                f"below {SIGMOID_RATIO_MAX} is expected. Do the hidden layers use activation?")
    if not relu > RELU_RATIO_MIN:
        return (f"with relu hidden layers the gradient should not vanish: {said}; above "
                f"{RELU_RATIO_MIN} is expected. Do the hidden layers use activation?")
    return None


def _judge_accuracy(found: dict, reference: dict) -> str | None:
    sigmoid, relu = found["sigmoid"]["accuracy"], found["relu"]["accuracy"]
    said = (f"after one epoch of SGD (batch {FIT_BATCH}) on {TRAIN_SIZE} MNIST images, test "
            f"accuracy is {sigmoid:.3f} with sigmoid and {relu:.3f} with relu (the reference: "
            f"{reference['sigmoid']['accuracy']:.2f} and {reference['relu']['accuracy']:.2f})")
    if not (relu >= RELU_ACCURACY_MIN and relu - sigmoid >= ACCURACY_GAP_MIN):  # NaN fails
        return (f"{said}; relu should reach at least {RELU_ACCURACY_MIN} and beat sigmoid by "
                f"{ACCURACY_GAP_MIN} or more. Check the activation, the loss and that the "
                'optimizer is "sgd"')
    return None


EXERCISE = Exercise(
    id="ex09",
    module="ex09_vanishing",
    title="Vanishing gradients (Keras)",
    # TensorFlow's import takes about 5 s in the child; one epoch of 375 SGD steps a few
    # seconds on an idle core.
    limits=Limits(import_timeout=60.0, call_timeout=60.0, cpu_seconds=600,
                  memory_bytes=4 * 1024**3),  # TensorFlow aborts in fit() at 2 GiB
    checks=(
        structure_check("build_deep_model starts with Input((28, 28)) and Flatten",
                        ("input_shape", "flatten_first"),
                        passed="input (None, 28, 28), then Flatten"),
        structure_check("build_deep_model has one Dense per entry of hidden_units, with the "
                        "given activation", ("hidden_units", "hidden_activations"),
                        passed="the hidden Dense layers follow hidden_units and activation"),
        structure_check("build_deep_model ends in Dense(10, softmax)",
                        ("output_units", "output_softmax"), passed="Dense(10, softmax) last"),
        structure_check("build_deep_model compiles with sparse_categorical_crossentropy, "
                        "accuracy and the given optimizer",
                        ("loss", "accuracy_metric", "optimizer"),
                        passed="compiled with the right loss, metric and optimizer"),
        _norms_check(),
        finding_check(f"build_deep_model shows the vanishing gradient: first/last gradient "
                      f"norm below {SIGMOID_RATIO_MAX} with sigmoid, above {RELU_RATIO_MIN} "
                      "with relu", _judge_ratio, points=1,
                      passed="the gradient vanishes with sigmoid, not with relu"),
        finding_check("build_deep_model: after one epoch of SGD relu is far more accurate "
                      "than sigmoid", _judge_accuracy, points=2,
                      passed="relu learns, sigmoid barely does"),
    ),
)
