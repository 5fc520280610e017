"""ex09 graded against the solution, correct variants the spec allows, and known mistakes.

Every grading run starts TensorFlow in the learner's process (about 5 s), so buggy submissions
share runs: one submission may hold a mistake in build_deep_model's input, hidden layers,
output layer and compile call plus one in layer_gradient_norms, as each is judged by its own
check. Runs that only test layer_gradient_norms leave out the two checks that train.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conftest import EXERCISES, SOLUTIONS, by_name, write_variant
from grader.authoring.stubs import parse_percent
from grader.engine import grade_path
from grader.exercises.ex09_vanishing import EXERCISE, MISTAKES, _judge_accuracy, _judge_ratio

#: Each grades with TensorFlow (seconds per test; run in CI too).
pytestmark = pytest.mark.slow

CHECKS = {
    "input": "build_deep_model starts with Input((28, 28)) and Flatten",
    "hidden": "build_deep_model has one Dense per entry of hidden_units, with the given activation",
    "output": "build_deep_model ends in Dense(10, softmax)",
    "compile": "build_deep_model compiles with sparse_categorical_crossentropy, accuracy and the "
               "given optimizer",
    "norms": "layer_gradient_norms matches an independent tf.GradientTape computation",
    "ratio": "build_deep_model shows the vanishing gradient: first/last gradient norm below 0.01 "
             "with sigmoid, above 0.1 with relu",
    "accuracy": "build_deep_model: after one epoch of SGD relu is far more accurate than sigmoid",
}
FINDING = (CHECKS["ratio"], CHECKS["accuracy"])
WITHOUT_TRAINING = replace(EXERCISE, checks=tuple(c for c in EXERCISE.checks
                                                  if c.name not in FINDING))


def grade09(path, exercise=EXERCISE):
    return grade_path(exercise, path, limits=EXERCISE.limits)


def failed(result):
    return [(c.name, c.output) for c in result.checks if not c.passed]


def test_check_names_and_points():
    assert {c.name: c.points for c in EXERCISE.checks} == {
        **{CHECKS[k]: 1 for k in ("input", "hidden", "output", "compile", "ratio")},
        CHECKS["norms"]: 2, CHECKS["accuracy"]: 2,
    }


def test_solution_gets_full_marks():
    result = grade09(SOLUTIONS)
    assert result.error is None
    assert failed(result) == []
    assert result.score == result.max_score == 9


def test_untouched_stub_gets_zero_and_says_not_implemented():
    result = grade09(EXERCISES)
    assert result.score == 0
    for check in result.checks:
        assert "not implemented yet" in check.output, check.output


def test_importing_the_solution_runs_no_experiment():
    code = "import ex09_vanishing, sys; assert 'dataset.mnist' not in sys.modules"
    done = subprocess.run([sys.executable, "-c", code], cwd=SOLUTIONS, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_checks_module_does_not_import_tensorflow():
    code = ("import sys, grader.exercises.ex09_vanishing; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr


# A book-style submission (Geron's "Hands-on Machine Learning", chapter 11): model.add, loss and
# metric objects, the gradients of trainable_variables[::2], norms left as tensors.
BOOK_STYLE = {
    "build_deep_model": """
        def build_deep_model(activation, hidden_units=(64, 128, 256, 256, 128, 64),
                             optimizer="sgd"):
            model = keras.models.Sequential()
            model.add(keras.layers.Input(shape=[28, 28]))
            model.add(keras.layers.Flatten())
            for n_units in hidden_units:
                model.add(keras.layers.Dense(n_units, activation=activation))
            model.add(keras.layers.Dense(10, activation="softmax"))
            model.compile(loss=keras.losses.SparseCategoricalCrossentropy(),
                          optimizer=optimizer,
                          metrics=[keras.metrics.SparseCategoricalAccuracy()])
            return model
        """,
    "layer_gradient_norms": """
        def layer_gradient_norms(model, x, y):
            with tf.GradientTape() as tape:
                y_pred = model(x)
                loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, y_pred))
            kernels = model.trainable_variables[::2]
            grads = tape.gradient(loss, kernels)
            return [tf.norm(g) for g in grads]
        """,
}


def test_book_style_submission_gets_full_marks(tmp_path):
    result = grade09(write_variant(tmp_path / "s", "ex09_vanishing", BOOK_STYLE))
    assert failed(result) == []


def test_solution_notebook_is_graded_without_running_the_experiment(tmp_path):
    """The notebook keeps every cell; the guarded experiment (and its plot) must not run."""
    cells = parse_percent((SOLUTIONS / "ex09_vanishing.py").read_text())
    assert any('if __name__ == "__main__":' in c.text for c in cells if c.kind == "code")
    notebook = new_notebook(cells=[
        (new_markdown_cell if cell.kind == "markdown" else new_code_cell)(cell.text)
        for cell in cells
    ])
    nbformat.write(notebook, tmp_path / "ex09_vanishing.ipynb")
    result = grade09(tmp_path / "ex09_vanishing.ipynb", WITHOUT_TRAINING)
    assert result.graded_file.endswith("ex09_vanishing.ipynb")
    assert failed(result) == []


# ------------------------------------------------------------------------------ known mistakes

BUILDER = """
    def build_deep_model(activation, hidden_units=(64, 128, 256, 256, 128, 64),
                         optimizer="sgd"):
        layers = [keras.Input({input}), {flatten}]
        layers += [keras.layers.Dense(units, activation={activation}) for units in {units}]
        layers.append(keras.layers.Dense({out_units}{out_activation}))
        model = keras.Sequential([layer for layer in layers if layer is not None])
        model.compile(optimizer={optimizer}, loss="{loss}"{metrics})
        return model
    """
RIGHT = {"input": "(28, 28)", "flatten": "keras.layers.Flatten()", "activation": "activation",
         "units": "hidden_units", "out_units": "10", "out_activation": ', activation="softmax"',
         "optimizer": "optimizer", "loss": "sparse_categorical_crossentropy",
         "metrics": ', metrics=["accuracy"]'}


def builder(**changes):
    return BUILDER.format(**{**RIGHT, **changes})


NORMS = """
    def layer_gradient_norms(model, x, y):
        dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        loss_fn = keras.losses.SparseCategoricalCrossentropy({reduction})
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        variables = {variables}
        grads = tape.gradient(loss, variables)
        return {result}
    """
NORMS_RIGHT = {"reduction": "", "variables": "[layer.kernel for layer in dense]",
               "result": "[float(tf.norm(g)) for g in grads]"}


def norms(**changes):
    return NORMS.format(**{**NORMS_RIGHT, **changes})


#: name -> (replacements, {check: diagnosis}, grade the training checks too?)
BUGS = {
    "builder bugs 1, norms reversed": (
        {"build_deep_model": builder(activation='"relu"', flatten="None",
                                     out_units="16", loss="categorical_crossentropy"),
         "layer_gradient_norms": norms(result="[float(tf.norm(g)) for g in grads][::-1]")},
        {"input": "missing Flatten", "hidden": "activation ignored",
         "output": "wrong output units", "compile": "categorical loss",
         "norms": "last layer first"}, True),
    "builder bugs 2, bias norms": (
        {"build_deep_model": builder(input="(784,)", units="(64, 128, 256, 256, 128, 64)",
                                     out_activation="", metrics=""),
         "layer_gradient_norms": norms(variables="[layer.bias for layer in dense]")},
        {"input": "wrong input shape", "hidden": "hidden_units ignored",
         "output": "no softmax", "compile": "missing metric", "norms": "bias gradients"},
        False),
    "optimizer ignored, all variables": (
        {"build_deep_model": builder(optimizer='"sgd"'),
         "layer_gradient_norms": norms(variables="model.trainable_variables")},
        {"compile": "optimizer ignored", "norms": "kernels and biases"}, True),
    "squared norms": (
        {"layer_gradient_norms": norms(result="[float(tf.reduce_sum(g ** 2)) for g in grads]")},
        {"norms": "squared norms"}, False),
    "L1 norms": (
        {"layer_gradient_norms": norms(result="[float(tf.reduce_sum(tf.abs(g))) "
                                              "for g in grads]")},
        {"norms": "L1 norms"}, False),
    "mean absolute value": (
        {"layer_gradient_norms": norms(result="[float(tf.reduce_mean(tf.abs(g))) "
                                              "for g in grads]")},
        {"norms": "mean absolute value"}, False),
    "summed loss": (
        {"layer_gradient_norms": norms(reduction='reduction="sum"')},
        {"norms": "summed loss"}, False),
}


@pytest.mark.parametrize("name", BUGS)
def test_known_mistake_is_diagnosed_and_other_checks_keep_their_points(tmp_path, name):
    replacements, diagnoses, training = BUGS[name]
    path = write_variant(tmp_path / "s", "ex09_vanishing", replacements)
    result = grade09(path, EXERCISE if training else WITHOUT_TRAINING)
    checks = by_name(result)
    for key, diagnosis in diagnoses.items():
        check = checks[CHECKS[key]]
        assert not check.passed, (key, check.output)
        assert check.diagnosis == diagnosis, (key, check.output)
        mistake = next(m for ms in MISTAKES.values() for m in ms if m.name == diagnosis)
        assert check.output.startswith(mistake.message), check.output
    broken_builder = "build_deep_model" in replacements and (
        name != "optimizer ignored, all variables")
    for check in result.checks:
        key = next(k for k, v in CHECKS.items() if v == check.name)
        if key in diagnoses or (key in ("ratio", "accuracy") and broken_builder):
            continue
        assert check.passed, (check.name, check.output)
    if training and broken_builder:  # the finding fails with a broken model
        assert not checks[CHECKS["ratio"]].passed and not checks[CHECKS["accuracy"]].passed


def test_every_known_mistake_has_a_buggy_submission():
    listed = {m.name for mistakes in MISTAKES.values() for m in mistakes}
    covered = {d for _, diagnoses, _ in BUGS.values() for d in diagnoses.values()}
    assert listed == covered


def test_findings_that_are_nan_are_judged_wrong():
    """A run whose gradient norms or accuracies are NaN shows nothing: every threshold must
    fail for NaN, not pass because NaN compares False both ways."""
    good = {"sigmoid": {"ratio": 1e-4, "accuracy": 0.5}, "relu": {"ratio": 0.5, "accuracy": 0.9}}
    assert _judge_ratio(good, good) is None and _judge_accuracy(good, good) is None
    nan = float("nan")
    for model in ("sigmoid", "relu"):
        for key, judge in (("ratio", _judge_ratio), ("accuracy", _judge_accuracy)):
            found = {m: dict(v) for m, v in good.items()}
            found[model][key] = nan
            assert judge(found, good) is not None, (model, key)
