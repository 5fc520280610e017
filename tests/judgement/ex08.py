"""ex08 training: learners' mistakes and correct loops, as they write them (issue 11).

Each submission is graded beside the reference solutions of ex03 and ex05 to ex07 (``graded``),
with ex08's own limits: every entry trains, so all are slow.
"""

from __future__ import annotations

from conftest import SOLUTIONS
from grader.exercises.ex08_training import EXERCISE
from judgement import Buggy, Correct

M = "ex08_training"
ITERATIONS = "iterations_per_epoch matches the reference"
TOTAL = "total_iterations matches the reference (100 samples, batch 50, 100 epochs: 200)"
LOSSES = "train records one batch loss per iteration, from a new batch each time"
ACCURACIES = "train records train and test accuracy once per epoch"
SEED = "train draws its batches from np.random.default_rng(seed)"
FALLS = "train's batch loss starts near ln 10 and falls"
LEARNS = next(c.name for c in EXERCISE.checks if c.name.startswith("train learns MNIST"))

_TRAIN = (SOLUTIONS / f"{M}.py").read_text()
_TRAIN = _TRAIN[_TRAIN.index("def train("):]
_TRAIN = _TRAIN[:_TRAIN.index("    ### END SOLUTION")] + "\n"


def _train(old: str, new: str) -> dict[str, str]:
    """The solution's ``train`` with one text edit."""
    assert _TRAIN.count(old) == 1, old
    return {"train": _TRAIN.replace(old, new)}


BUGGY = [
    Buggy("iterations_per_epoch with integer division (the book's int(max(...)))", M,
          {"iterations_per_epoch": """
def iterations_per_epoch(train_size, batch_size):
    return max(train_size // batch_size, 1)
"""}, ("integer division",), (ITERATIONS,), slow=True),
    Buggy("accuracy appended as the loss", M, _train(
        'history["train_loss"].append(float(network.loss(x_batch, t_batch)))',
        'history["train_loss"].append(float(network.accuracy(x_batch, t_batch)))'),
          ("not a batch loss",), (LOSSES, FALLS), slow=True),
    Buggy("batches from NumPy's global generator (np.random.choice)", M, _train(
        "batch_mask = rng.choice(train_size, batch_size)",
        "batch_mask = np.random.choice(train_size, batch_size)"),
          ("seed ignored", "generator not reproducible"), (SEED,), slow=True),
    Buggy("the generator seeded with a fixed number", M, _train(
        "rng = np.random.default_rng(seed)  # once", "rng = np.random.default_rng(0)  #"),
          ("fixed seed",), (SEED,), slow=True),
    Buggy("a new generator inside the loop (one batch for ever)", M, _train(
        "        batch_mask = rng.choice(train_size, batch_size)",
        "        rng = np.random.default_rng(seed)\n"
        "        batch_mask = rng.choice(train_size, batch_size)"),
          ("one fixed batch",), (LOSSES, LEARNS), slow=True),
    Buggy("inputs and targets drawn by separate rng.choice calls", M, _train(
        """        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]""",
        """        x_batch = x_train[batch_mask]
        t_batch = t_train[rng.choice(train_size, batch_size)]"""),
          ("inputs and targets of different samples",), (FALLS, LEARNS), slow=True,
          unnamed="the facts of a run show a loss that does not fall and no learning, which "
                  "several mistakes share; nothing yet tells mismatched rows apart"),
]

CORRECT = [
    Correct("the loss recorded before the update", M, _train(
        """        grads = network.gradient(x_batch, t_batch)
        optimizer.update(network.params, grads)
        history["train_loss"].append(float(network.loss(x_batch, t_batch)))""",
        """        loss = network.loss(x_batch, t_batch)
        grads = network.gradient(x_batch, t_batch)
        optimizer.update(network.params, grads)
        history["train_loss"].append(loss)"""), slow=True),
    Correct("NumPy floats in the history (no float())", M, _train(
        'history["train_loss"].append(float(network.loss(x_batch, t_batch)))',
        'history["train_loss"].append(network.loss(x_batch, t_batch))'), slow=True),
]
