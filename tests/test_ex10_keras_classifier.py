"""ex10 graded against the solution, the stub, correct code the spec allows, and known mistakes.

Every grading run starts TensorFlow in the learner's process (about 5 s), so the known mistakes
share runs: each submission in ``GROUPS`` holds at most one bug per function (and, for
output_layer_for, per task), whose checks are independent of each other's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import EXERCISES, SOLUTIONS, by_name, grade, write_variant
from grader.exercises.ex10_keras_classifier import EXERCISE, MISTAKES, TARGET_ACCURACY

#: Each test grades real Keras runs: seconds per test (run in CI too).
pytestmark = pytest.mark.slow

CHECKS = {
    "regression": "output_layer_for('regression', ...) is (1, 'linear', 'mse')",
    "binary": "output_layer_for('binary', ...) is (1, 'sigmoid', 'binary_crossentropy')",
    "multiclass": "output_layer_for('multiclass', n_classes) is (n_classes, 'softmax', a "
                  "categorical cross-entropy)",
    "build": "build_classifier builds a compiled model for (28, 28) images ending in "
             "Dense(10, softmax)",
    "build_args": "build_classifier follows input_shape and n_classes",
    "fit": "train_classifier fits with the given epochs, batch_size and validation_split and "
           "returns the History",
    "learn": f"train_classifier trains build_classifier's model to a test accuracy of at least "
             f"{TARGET_ACCURACY} in 2 epochs on 3000 images",
    "save": "save_model writes a .keras archive at the given path",
    "load": "load_model gives back the saved model: the same predictions",
}
MODULE = "ex10_keras_classifier"


def grade10(path: Path):
    return grade("ex10", path, limits=EXERCISE.limits)


def failed(result) -> set[str]:
    return {check.name for check in result.checks if not check.passed}


def test_check_names_are_the_ones_these_tests_use():
    assert [check.name for check in EXERCISE.checks] == list(CHECKS.values())
    assert EXERCISE.max_score == 10


def test_solution_gets_full_marks():
    result = grade10(SOLUTIONS / f"{MODULE}.py")
    assert failed(result) == set(), [(c.name, c.output) for c in result.checks if not c.passed]
    assert result.score == result.max_score


def test_untouched_stub_gets_zero_and_says_not_implemented():
    result = grade10(EXERCISES / f"{MODULE}.py")
    assert result.score == 0
    for check in result.checks:
        assert "not implemented yet" in check.output, (check.name, check.output)


def test_grader_module_does_not_import_tensorflow():
    import subprocess
    import sys

    code = ("import sys, grader.exercises.ex10_keras_classifier; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def output_layer_for(regression="(1, 'linear', 'mse')",
                     binary="(1, 'sigmoid', 'binary_crossentropy')",
                     multiclass="(n_classes, 'softmax', 'sparse_categorical_crossentropy')"):
    return f"""
        def output_layer_for(task, n_classes):
            if task == "regression":
                return {regression}
            if task == "binary":
                return {binary}
            return {multiclass}
        """


BUILD = """
    def build_classifier(input_shape=(28, 28), n_classes=10):
        model = keras.Sequential([
            keras.Input(shape=INPUT),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(UNITS, activation=ACTIVATION),
        ])
        model.compile(optimizer="adam", loss=LOSS, metrics=["accuracy"])
        return model
    """


def build_classifier(**changes: str) -> str:
    """build_classifier without output_layer_for, with some parts changed."""
    parts = {"INPUT": "input_shape", "UNITS": "n_classes", "ACTIVATION": '"softmax"',
             "LOSS": '"sparse_categorical_crossentropy"', **changes}
    source = BUILD
    for key, value in parts.items():
        source = source.replace(key, value)
    return source


def train_classifier(arguments: str) -> str:
    return f"""
        def train_classifier(model, x_train, y_train, epochs, batch_size, validation_split=0.2):
            return model.fit(x_train, y_train, {arguments}, verbose=0)
        """


TRAIN_ALL = "epochs=epochs, batch_size=batch_size, validation_split=validation_split"


def save_model(call: str) -> str:
    return f"""
        def save_model(model, path):
            {call}
        """


CORRECT = {
    "output_layer_for": output_layer_for(
        regression="(1, 'linear', 'mean_squared_error')",
        multiclass="(n_classes, 'softmax', 'categorical_crossentropy')"),
    "build_classifier": """
        def build_classifier(input_shape=(28, 28), n_classes=10):
            units, activation, loss = output_layer_for("multiclass", n_classes)
            model = keras.models.Sequential()
            model.add(keras.layers.Input(input_shape))
            model.add(keras.layers.Flatten())
            model.add(keras.layers.Dense(256, activation="relu"))
            model.add(keras.layers.Dense(units, activation=activation))
            model.compile(optimizer=keras.optimizers.Adam(), loss=loss)
            return model
        """,
    "train_classifier": """
        def train_classifier(model, x_train, y_train, epochs, batch_size, validation_split=0.2):
            history = model.fit(x_train, y_train, batch_size, epochs, 2,
                                validation_split=validation_split)
            return history
        """,
    "save_model": save_model("keras.saving.save_model(model, path)"),
    "load_model": """
        def load_model(path):
            return keras.saving.load_model(path, compile=False)
        """,
}


def test_correct_variant_with_one_hot_labels_gets_full_marks(tmp_path):
    """categorical_crossentropy (one-hot labels), no metric, Sequential.add, keras.saving."""
    result = grade10(write_variant(tmp_path, MODULE, CORRECT))
    assert failed(result) == set(), [(c.name, c.output) for c in result.checks if not c.passed]


# (function, buggy source, check key, diagnosis): several bugs of other functions share a run.
GROUPS = [
    [
        ("output_layer_for", output_layer_for(
            regression="(1, 'relu', 'mse')",
            binary="(1, 'softmax', 'binary_crossentropy')",
            multiclass="(n_classes, 'sigmoid', 'binary_crossentropy')"),
         [("regression", "activation on the regression output"),
          ("binary", "softmax for binary"), ("multiclass", "sigmoid for multiclass")]),
        ("build_classifier",
         build_classifier().replace('        model.compile(optimizer="adam", loss="sparse_'
                                    'categorical_crossentropy", metrics=["accuracy"])\n', ""),
         [("build", "not compiled")]),
        ("train_classifier", train_classifier(TRAIN_ALL).replace("return model.fit", "model.fit"),
         [("fit", "History not returned")]),
        ("save_model", save_model('model.save(path.replace(".keras", ".h5"))'),
         [("save", "HDF5 format")]),
        ("load_model", "def load_model(path):\n    return build_classifier()",
         [("load", "fresh model")]),
    ],
    [
        ("output_layer_for", output_layer_for(
            regression="(1, 'linear', 'binary_crossentropy')",
            binary="(2, 'sigmoid', 'binary_crossentropy')",
            multiclass="(n_classes, 'softmax', 'mse')"),
         [("regression", "cross-entropy for regression"), ("binary", "two units for binary"),
          ("multiclass", "mse for multiclass classification")]),
        ("build_classifier", build_classifier(ACTIVATION="None"),
         [("build", "no softmax at the end")]),
        ("train_classifier", train_classifier(
            "epochs=1, batch_size=batch_size, validation_split=validation_split"),
         [("fit", "epochs ignored")]),
        ("save_model", save_model('model.save_weights(path.replace(".keras", ".weights.h5"))'),
         [("save", "weights only")]),
    ],
    [
        ("output_layer_for", output_layer_for(
            binary="(1, 'sigmoid', 'mse')",
            multiclass="(10, 'softmax', 'sparse_categorical_crossentropy')"),
         [("binary", "mse for binary classification"), ("multiclass", "n_classes ignored")]),
        ("build_classifier", build_classifier(ACTIVATION='"sigmoid"',
                                              LOSS='"binary_crossentropy"'),
         [("build", "sigmoid and binary cross-entropy for multiclass")]),
        ("train_classifier", train_classifier(
            "epochs=epochs, validation_split=validation_split"),
         [("fit", "batch_size ignored")]),
        ("save_model", save_model('model.save("model.keras")'), [("save", "path ignored")]),
    ],
    [
        ("output_layer_for", output_layer_for(
            multiclass="(1, 'softmax', 'sparse_categorical_crossentropy')"),
         [("multiclass", "one unit for multiclass")]),
        ("build_classifier", build_classifier(LOSS='"mse"'), [("build", "mse for classification")]),
        ("train_classifier", train_classifier(
            "epochs=epochs, batch_size=batch_size, validation_split=0.2"),
         [("fit", "validation_split ignored")]),
    ],
    [
        ("build_classifier", build_classifier(UNITS="10"), [("build_args", "n_classes ignored")]),
        ("train_classifier", train_classifier("epochs=epochs, batch_size=batch_size"),
         [("fit", "no validation")]),
    ],
    [
        ("build_classifier", build_classifier(INPUT="(28, 28)"),
         [("build_args", "input_shape ignored")]),
    ],
]

#: The learning run uses build_classifier and train_classifier: a bug in either may fail it.
LEARNS_WITH = {"build_classifier", "train_classifier"}


@pytest.mark.parametrize("group", range(len(GROUPS)), ids=lambda i: f"group {i}")
def test_known_mistakes_are_caught_and_named(tmp_path, group):
    bugs = GROUPS[group]
    replacements = {func: source for func, source, _ in bugs}
    if "build_classifier" not in replacements:  # never through a buggy output_layer_for
        replacements["build_classifier"] = build_classifier()
    result = grade10(write_variant(tmp_path, MODULE, replacements))
    checks = by_name(result)
    expected = set()
    for func, _, named in bugs:
        for key, diagnosis in named:
            check = checks[CHECKS[key]]
            expected.add(check.name)
            assert not check.passed, (key, diagnosis)
            assert check.diagnosis == diagnosis, (key, check.output)
            message = next(m.message for m in MISTAKES[func] if m.name == diagnosis)
            assert check.output.startswith(message), check.output
    allowed = expected | ({CHECKS["learn"]} if LEARNS_WITH & set(replacements) else set())
    assert expected <= failed(result) <= allowed, [
        (c.name, c.output) for c in result.checks if not c.passed]


def test_every_known_mistake_has_a_buggy_submission():
    covered = {(func, diagnosis) for group in GROUPS for func, _, named in group
               for _, diagnosis in named}
    listed = {(func, m.name) for func, mistakes in MISTAKES.items() for m in mistakes}
    assert listed <= covered, listed - covered


def test_a_classifier_that_does_not_learn_is_told_its_accuracy_and_the_target(tmp_path):
    untrained = train_classifier(TRAIN_ALL).replace(
        "return model.fit(x_train, y_train,", "return model.fit(x_train[:10], y_train[:10],")
    result = grade10(write_variant(tmp_path, MODULE, {"train_classifier": untrained}))
    output = by_name(result)[CHECKS["learn"]].output
    assert f"at least {TARGET_ACCURACY} is required" in output
    assert "the reference reaches 0.9" in output
