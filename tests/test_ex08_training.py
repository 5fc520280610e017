"""ex08 graded against the solution, correct training loops the spec allows, and known mistakes.

ex08 trains the learner's ex06 TwoLayerNet with their ex07 SGD, so every submission here is a
folder holding the reference ex03, ex05, ex06 and ex07 beside the ex08 under test. Most tests
skip grading those prerequisites (``requires=()``) to stay fast; the tests of the solution and
of the prerequisite notes keep them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conftest import EXERCISES, SOLUTIONS, by_name, write_variant
from grader.authoring.stubs import parse_percent
from grader.engine import grade_path
from grader.exercises.ex08_training import EXERCISE, MISTAKES
from grader.result import ExerciseResult

#: Each grades real training runs or waits for timeouts: seconds per test (run in CI too).
pytestmark = pytest.mark.slow

SIBLINGS = ("ex03_gradient", "ex05_layers", "ex06_two_layer_net", "ex07_optimizers")
WITHOUT_PREREQUISITES = replace(EXERCISE, requires=())
CHECKS = {
    "iterations": "iterations_per_epoch matches the reference",
    "total": "total_iterations matches the reference (100 samples, batch 50, 100 epochs: 200)",
    "loss": "train records one batch loss per iteration, from a new batch each time",
    "accuracy": "train records train and test accuracy once per epoch",
    "seed": "train draws its batches from np.random.default_rng(seed)",
    "update": "train updates the network only through optimizer.update",
    "falls": "train's batch loss starts near ln 10 and falls",
    "learns": "train learns MNIST: test accuracy of at least 0.84 after 400 iterations",
}


def with_siblings(folder: Path, modules=SIBLINGS) -> Path:
    """Copy the reference solutions of ``modules`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for module in modules:
        shutil.copy(SOLUTIONS / f"{module}.py", folder / f"{module}.py")
    return folder


def grade08(path: Path, exercise=WITHOUT_PREREQUISITES, limits=None) -> ExerciseResult:
    return grade_path(exercise, path, limits=limits or EXERCISE.limits)


@pytest.fixture
def submit(tmp_path: Path):
    """``submit({name: source})`` grades the solution with those definitions replaced."""

    def make(replacements: dict[str, str], **options) -> ExerciseResult:
        folder = with_siblings(tmp_path / "submission")
        write_variant(folder, "ex08_training", replacements)
        return grade08(folder, **options)

    return make


def failed(result: ExerciseResult) -> list[tuple[str, str]]:
    return [(c.name, c.output) for c in result.checks if not c.passed]


def test_check_names_are_the_ones_these_tests_use():
    assert [c.name for c in EXERCISE.checks] == list(CHECKS.values())
    assert EXERCISE.requires == ("ex06", "ex07")


def test_solution_gets_full_marks_and_its_prerequisites_pass():
    result = grade08(SOLUTIONS, exercise=EXERCISE)
    assert result.error is None
    assert failed(result) == []
    assert result.score == result.max_score == 9
    assert result.notes == []


def test_untouched_stubs_get_zero_and_say_not_implemented():
    result = grade08(EXERCISES, exercise=EXERCISE)
    assert result.score == 0
    assert all("not implemented yet" in c.output for c in result.checks), failed(result)
    # The prerequisites are stubs too: the learner is told to finish them first.
    assert any("builds on your ex06" in note for note in result.notes), result.notes
    assert any("builds on your ex07" in note for note in result.notes), result.notes


def test_train_stub_beside_finished_prerequisites_says_train_is_not_implemented(tmp_path):
    folder = with_siblings(tmp_path / "submission")
    shutil.copy(EXERCISES / "ex08_training.py", folder / "ex08_training.py")
    result = grade08(folder)
    assert result.score == 0
    for check in result.checks:
        assert "not implemented yet" in check.output
        if check.name.startswith("train"):
            assert check.output.startswith("train is not implemented yet"), check.output


def test_unfinished_ex07_is_named_in_the_notes_and_in_the_train_checks(tmp_path):
    folder = with_siblings(tmp_path / "submission", SIBLINGS[:3])
    shutil.copy(EXERCISES / "ex07_optimizers.py", folder / "ex07_optimizers.py")
    shutil.copy(SOLUTIONS / "ex08_training.py", folder / "ex08_training.py")
    result = grade08(folder, exercise=EXERCISE)
    assert any(note.startswith("ex08 builds on your ex07") for note in result.notes), result.notes
    assert by_name(result)[CHECKS["iterations"]].passed
    check = by_name(result)[CHECKS["learns"]]
    assert not check.passed
    assert "SGD.update is not implemented yet: finish ex06 and ex07 first" in check.output


def test_missing_ex06_is_named_in_the_notes_and_in_the_train_checks(tmp_path):
    folder = with_siblings(tmp_path / "submission", ("ex07_optimizers",))
    shutil.copy(SOLUTIONS / "ex08_training.py", folder / "ex08_training.py")
    result = grade08(folder, exercise=EXERCISE)
    assert any("needs your ex06" in note and "missing" in note for note in result.notes)
    check = by_name(result)[CHECKS["loss"]]
    assert not check.passed
    assert "TwoLayerNet (ex06_two_layer_net) failed" in check.output
    assert "ex06_two_layer_net" in check.output.split("failed: ")[1]


def test_solution_notebook_is_graded_without_running_the_training_cell(tmp_path):
    """The notebook keeps every code cell; the guarded MNIST run must not run when imported."""
    folder = with_siblings(tmp_path / "submission")
    cells = parse_percent((SOLUTIONS / "ex08_training.py").read_text())
    notebook = new_notebook(cells=[
        (new_markdown_cell if cell.kind == "markdown" else new_code_cell)(cell.text)
        for cell in cells
    ])
    assert any('if __name__ == "__main__":' in c.text for c in cells if c.kind == "code")
    nbformat.write(notebook, folder / "ex08_training.ipynb")
    start = time.perf_counter()
    result = grade08(folder)
    assert result.graded_file.endswith("ex08_training.ipynb")
    assert failed(result) == []
    assert time.perf_counter() - start < 20


def test_importing_the_solution_does_not_train():
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", "import ex08_training"], cwd=SOLUTIONS,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert time.perf_counter() - start < 5


BOOK_LOOP = """
    def train(network, optimizer, x_train, t_train, x_test, t_test, iters_num, batch_size,
              seed=0):
        train_loss_list, train_acc_list, test_acc_list = [], [], []
        train_size = x_train.shape[0]
        iter_per_epoch = max(train_size / batch_size, 1)
        for i in range(iters_num):
            batch_mask = np.random.choice(train_size, batch_size)
            x_batch = x_train[batch_mask]
            t_batch = t_train[batch_mask]
            grad = network.gradient(x_batch, t_batch)
            optimizer.update(network.params, grad)
            loss = network.loss(x_batch, t_batch)
            train_loss_list.append(loss)
            if i % iter_per_epoch == 0:
                train_acc = network.accuracy(x_train, t_train)
                test_acc = network.accuracy(x_test, t_test)
                train_acc_list.append(train_acc)
                test_acc_list.append(test_acc)
        return {"train_loss": train_loss_list, "train_acc": train_acc_list,
                "test_acc": test_acc_list}
    """

# Correct code the spec allows: full marks.
CORRECT_VARIANTS = {
    "the book's loop with a seeded generator, numpy values in the lists": {
        "train": BOOK_LOOP.replace("np.random.choice(", "rng.choice(").replace(
            "train_loss_list, train_acc_list, test_acc_list = [], [], []",
            "train_loss_list, train_acc_list, test_acc_list = [], [], []\n"
            "        rng = np.random.default_rng(seed)"),
    },
    "accuracy at the end of each epoch, batches from rng.integers": {
        "train": """
            def train(network, optimizer, x_train, t_train, x_test, t_test, iters_num,
                      batch_size, seed=0):
                rng = np.random.default_rng(seed)
                n = len(x_train)
                per_epoch = iterations_per_epoch(n, batch_size)
                history = {"train_loss": [], "train_acc": [], "test_acc": []}
                for i in range(iters_num):
                    idx = rng.integers(0, n, size=batch_size)
                    grads = network.gradient(x_train[idx], t_train[idx])
                    optimizer.update(network.params, grads)
                    history["train_loss"].append(network.loss(x_train[idx], t_train[idx]))
                    if (i + 1) % per_epoch == 0:
                        history["train_acc"].append(network.accuracy(x_train, t_train))
                        history["test_acc"].append(network.accuracy(x_test, t_test))
                return history
            """,
    },
    "shuffled epochs, loss before the update, accuracy before training and after each epoch": {
        "train": """
            def train(network, optimizer, x_train, t_train, x_test, t_test, iters_num,
                      batch_size, seed=0):
                rng = np.random.default_rng(seed)
                n = x_train.shape[0]
                per_epoch = int(iterations_per_epoch(n, batch_size))
                history = {"train_loss": [], "train_acc": [network.accuracy(x_train, t_train)],
                           "test_acc": [network.accuracy(x_test, t_test)]}
                order = rng.permutation(n)
                for i in range(iters_num):
                    if i % per_epoch == 0:
                        order = rng.permutation(n)
                    j = i % per_epoch
                    batch = order[j * batch_size:(j + 1) * batch_size]
                    x_batch, t_batch = x_train[batch], t_train[batch]
                    history["train_loss"].append(float(network.loss(x_batch, t_batch)))
                    optimizer.update(network.params, network.gradient(x_batch, t_batch))
                    if (i + 1) % per_epoch == 0:
                        history["train_acc"].append(network.accuracy(x_train, t_train))
                        history["test_acc"].append(network.accuracy(x_test, t_test))
                return history
            """,
        "iterations_per_epoch": """
            def iterations_per_epoch(train_size, batch_size):
                return max(1.0, train_size / float(batch_size))
            """,
        "total_iterations": """
            def total_iterations(train_size, batch_size, epochs):
                return round(epochs * max(train_size / batch_size, 1))
            """,
    },
}


@pytest.mark.parametrize("name", CORRECT_VARIANTS)
def test_correct_variant_gets_full_marks(submit, name):
    assert failed(submit(CORRECT_VARIANTS[name])) == []


def test_the_books_unseeded_loop_loses_only_the_seed_check(submit):
    """np.random.choice ignores train's seed (the spec asks for np.random.default_rng(seed)):
    one point, with a message that says what to change; the loop itself learns."""
    result = submit({"train": BOOK_LOOP})
    assert [name for name, _ in failed(result)] == [CHECKS["seed"]]
    assert by_name(result)[CHECKS["seed"]].diagnosis == "seed ignored"
    assert result.score == result.max_score - 1


SOLUTION_TRAIN = """
    def train(network, optimizer, x_train, t_train, x_test, t_test, iters_num, batch_size,
              seed=0):
        rng = np.random.default_rng(seed)
        train_size = x_train.shape[0]
        iter_per_epoch = iterations_per_epoch(train_size, batch_size)
        history = {"train_loss": [], "train_acc": [], "test_acc": []}
        for i in range(iters_num):
            batch_mask = rng.choice(train_size, batch_size)
            x_batch = x_train[batch_mask]
            t_batch = t_train[batch_mask]
            grads = network.gradient(x_batch, t_batch)
            optimizer.update(network.params, grads)
            history["train_loss"].append(float(network.loss(x_batch, t_batch)))
            if i % iter_per_epoch < 1:
                history["train_acc"].append(float(network.accuracy(x_train, t_train)))
                history["test_acc"].append(float(network.accuracy(x_test, t_test)))
        return history
    """


def buggy_train(old: str, new: str) -> str:
    """The solution's train with one line changed."""
    assert old in SOLUTION_TRAIN, old
    return SOLUTION_TRAIN.replace(old, new)


ONCE_PER_EPOCH = "            if i % iter_per_epoch < 1:\n"
LOSS_LINE = '            history["train_loss"].append(float(network.loss(x_batch, t_batch)))\n'
TRAIN_ACC = "network.accuracy(x_train, t_train)"
TEST_ACC = "network.accuracy(x_test, t_test)"

# (function, buggy source, check that must fail, diagnosis it must name)
BUGS = [
    ("iterations_per_epoch",
     "def iterations_per_epoch(train_size, batch_size):\n"
     "    return max(train_size // batch_size, 1)",
     CHECKS["iterations"], "integer division"),
    ("iterations_per_epoch",
     "def iterations_per_epoch(train_size, batch_size):\n"
     "    return max(-(-train_size // batch_size), 1)",
     CHECKS["iterations"], "rounded up"),
    ("iterations_per_epoch",
     "def iterations_per_epoch(train_size, batch_size):\n    return train_size / batch_size",
     CHECKS["iterations"], "no minimum of 1"),
    ("total_iterations",
     "def total_iterations(train_size, batch_size, epochs):\n"
     "    return iterations_per_epoch(train_size, batch_size)",
     CHECKS["total"], "epochs ignored"),
    ("total_iterations",
     "def total_iterations(train_size, batch_size, epochs):\n    return epochs * train_size",
     CHECKS["total"], "batch size ignored"),
    ("total_iterations",
     "def total_iterations(train_size, batch_size, epochs):\n"
     "    return int(epochs * train_size / batch_size)",
     CHECKS["total"], "no minimum of 1 per epoch"),
    ("total_iterations",
     "def total_iterations(train_size, batch_size, epochs):\n"
     "    return int(iterations_per_epoch(train_size, batch_size)) * epochs",
     CHECKS["total"], "rounded before multiplying"),
    ("train", buggy_train(LOSS_LINE, LOSS_LINE.replace("x_batch, t_batch", "x_train, t_train")),
     CHECKS["loss"], "loss of the whole training set"),
    ("train", buggy_train("            batch_mask = rng.choice(train_size, batch_size)\n",
                          "            rng = np.random.default_rng(seed)\n"
                          "            batch_mask = rng.choice(train_size, batch_size)\n"),
     CHECKS["loss"], "one fixed batch"),
    ("train", buggy_train("            batch_mask = rng.choice(train_size, batch_size)\n",
                          "            batch_mask = np.arange(batch_size)\n"),
     CHECKS["learns"], "one fixed batch"),
    ("train", buggy_train(LOSS_LINE + ONCE_PER_EPOCH, ONCE_PER_EPOCH + "    " + LOSS_LINE),
     CHECKS["loss"], "loss once per epoch"),
    ("train", buggy_train(ONCE_PER_EPOCH, "            if True:\n"),
     CHECKS["accuracy"], "accuracy every iteration"),
    ("train", buggy_train(TRAIN_ACC, "TEMP").replace(TEST_ACC, TRAIN_ACC).replace("TEMP", TEST_ACC),
     CHECKS["accuracy"], "accuracies swapped"),
    ("train", buggy_train(TRAIN_ACC, TEST_ACC),
     CHECKS["accuracy"], "test accuracy as train accuracy"),
    ("train", buggy_train(TEST_ACC, TRAIN_ACC),
     CHECKS["accuracy"], "train accuracy as test accuracy"),
    ("train", buggy_train("rng.choice(train_size", "np.random.choice(train_size"),
     CHECKS["seed"], "seed ignored"),
    ("train", buggy_train("np.random.default_rng(seed)", "np.random.default_rng()"),
     CHECKS["seed"], "generator not reproducible"),
    ("train", buggy_train("np.random.default_rng(seed)", "np.random.default_rng(42)"),
     CHECKS["seed"], "fixed seed"),
    # the accuracy of each batch appended as its loss
    ("train", buggy_train("float(network.loss(x_batch, t_batch))",
                          "float(network.accuracy(x_batch, t_batch))"),
     CHECKS["loss"], "not a batch loss"),
    ("train", buggy_train("            optimizer.update(network.params, grads)\n",
                          "            for key in network.params:\n"
                          "                network.params[key] -= 0.1 * grads[key]\n"),
     CHECKS["update"], "update without the optimizer"),
    ("train", buggy_train("            optimizer.update(network.params, grads)\n", ""),
     CHECKS["update"], "never updates"),
    ("train", buggy_train("optimizer.update(network.params, grads)",
                          "optimizer.update({k: v.copy() for k, v in network.params.items()}, "
                          "grads)"),
     CHECKS["learns"], "never updates"),
]

#: The solution's total_iterations calls iterations_per_epoch (as the book's Trainer does).
USERS = {"iterations_per_epoch": ("total_iterations",)}

BUGS_THAT_TIME_OUT = [
    ("train", buggy_train("network.gradient(", "network.numerical_gradient("),
     CHECKS["learns"], "too slow"),
]


#: Every check of train that each mistake of train fails (keyed by its BUGS check and
#: diagnosis): checks whose facts the mistake does not touch keep their points.
TRAIN_FAILURES = {
    ("loss", "loss of the whole training set"): {"loss"},
    ("loss", "one fixed batch"): {"loss", "learns"},
    ("learns", "one fixed batch"): {"loss", "seed", "learns"},  # np.arange: no seed at all
    ("loss", "loss once per epoch"): {"loss"},
    ("accuracy", "accuracy every iteration"): {"accuracy"},
    ("accuracy", "accuracies swapped"): {"accuracy"},
    ("accuracy", "test accuracy as train accuracy"): {"accuracy"},
    ("accuracy", "train accuracy as test accuracy"): {"accuracy"},
    ("seed", "seed ignored"): {"seed"},
    ("seed", "generator not reproducible"): {"seed"},
    ("seed", "fixed seed"): {"seed"},
    ("loss", "not a batch loss"): {"loss", "falls"},  # the "loss" starts far from ln 10
    ("update", "update without the optimizer"): {"accuracy", "update"},  # accuracies unknowable
    ("update", "never updates"): {"update", "falls", "learns"},
    ("learns", "never updates"): {"update", "falls", "learns"},
}


@pytest.mark.parametrize(("func", "source", "check", "diagnosis"), BUGS,
                         ids=[f"{b[0]}: {b[3]}" for b in BUGS])
def test_known_mistake_is_caught_and_named(submit, func, source, check, diagnosis):
    result = submit({func: source})
    checks = by_name(result)
    assert not checks[check].passed
    assert checks[check].diagnosis == diagnosis, checks[check].output
    assert checks[check].output.startswith(
        next(m.message for m in MISTAKES[func] if m.name == diagnosis))
    # Only checks of the buggy function (and of those that call it) fail: others keep their points.
    for other in result.checks:
        if not other.name.startswith((func, *USERS.get(func, ()))):
            assert other.passed, (other.name, other.output)
    if func == "train":  # and only the checks of train the mistake concerns, each naming it
        short = {name: key for key, name in CHECKS.items()}
        failing = {short[name] for name, _ in failed(result)}
        assert failing == TRAIN_FAILURES[short[check], diagnosis], failed(result)
        for other in result.checks:  # (a batch fixed by np.arange has no seed either)
            if not other.passed and (short[other.name], diagnosis) != ("seed", "one fixed batch"):
                assert other.diagnosis == diagnosis, (other.name, other.output)


@pytest.mark.parametrize(("func", "source", "check", "diagnosis"), BUGS_THAT_TIME_OUT,
                         ids=[f"{b[0]}: {b[3]}" for b in BUGS_THAT_TIME_OUT])
def test_far_too_slow_loop_is_stopped_and_named(submit, func, source, check, diagnosis):
    start = time.perf_counter()
    result = submit({func: source}, limits=replace(EXERCISE.limits, call_timeout=2.0))
    assert time.perf_counter() - start < 30
    checks = by_name(result)
    assert checks[check].diagnosis == diagnosis, checks[check].output
    assert "network.gradient (backpropagation)" in checks[check].output
    assert all(c.passed for c in result.checks if not c.name.startswith("train"))


def test_every_known_mistake_has_a_buggy_submission():
    covered = {(func, diagnosis) for func, _, _, diagnosis in BUGS + BUGS_THAT_TIME_OUT}
    listed = {(func, m.name) for func, mistakes in MISTAKES.items() for m in mistakes}
    assert listed <= covered, listed - covered


def test_a_loop_that_does_not_learn_is_told_its_accuracy_and_the_target(submit):
    result = submit({"train": buggy_train("            optimizer.update(network.params, grads)\n",
                                          "")})
    output = by_name(result)[CHECKS["learns"]].output
    assert "test accuracy is 0." in output and "at least 0.84 is required" in output
    assert "the reference reaches 0.88 and" in output
    falls = by_name(result)[CHECKS["falls"]].output
    assert "the batch loss went from 2.30" in falls


def test_history_that_is_not_a_dict_of_lists_fails_every_train_check(submit):
    result = submit({"train": buggy_train("        return history\n",
                                          '        return history["train_loss"]\n')})
    for check in result.checks:
        if check.name.startswith("train"):
            assert not check.passed
            assert "train must return a dict with the lists 'train_loss'" in check.output
            assert "it returned a list" in check.output


def test_train_that_modifies_its_inputs_is_caught(submit):
    result = submit({"train": buggy_train("        rng = np.random.default_rng(seed)\n",
                                          "        rng = np.random.default_rng(seed)\n"
                                          "        x_train *= 1.5\n")})
    check = by_name(result)[CHECKS["loss"]]
    assert not check.passed and check.diagnosis == "modifies its input", check.output
