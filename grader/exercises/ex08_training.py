"""Checks for ex08: counting iterations, and the training loop run on MNIST.

``train`` is judged by what it does to a network, not by exact numbers: the learner's own ex06
``TwoLayerNet`` and ex07 ``SGD`` are built in the learner's process (through the ``sibling``
fixture) and trained by the learner's ``train`` twice over:

* **Probe runs** (tiny, exact): a network trained with ``SGD(lr=0.0)`` never changes, so every
  batch loss it records is the loss of a fixed network on that batch, and its accuracies are
  known in advance: the probe's training images are labelled with the untrained network's own
  predictions (accuracy exactly 1) and its test images with other classes (accuracy exactly 0).
  Three probe runs (seed 0, seed 1, seed 0 again after reseeding NumPy's global generator) show
  whether the batches change at every iteration, follow ``seed`` and nothing else, and whether
  ``train`` leaves the parameters to the optimizer.
* **Main run** (a few hundred iterations of ``SGD(lr=0.1)`` on 2,000 MNIST training images):
  the loss must start near ln 10 and fall, the parameters must change, and the network's
  accuracy on the 10,000 test images (computed here from its parameters) must reach a threshold
  calibrated on the reference solution (``benchmarks/bench_ex08.py``).

What each run shows is summarised as named *facts* (booleans and counts). The reference
solution's facts are stored like any reference value, and each known mistake is data: a
``derive`` that says which facts the buggy loop changes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from grader.checks import (
    Api,
    Case,
    Check,
    CheckFailed,
    Context,
    Exercise,
    LearnerApi,
    Mistake,
    Ref,
    ReferenceApi,
    call_replacing,
    function_check,
)
from grader.checks.compare import float_array, value_shape
from grader.runner.limits import Limits

# ------------------------------------------------------------------------------ the budgets

#: The main run: 20 epochs of 20 iterations on 2,000 training images, as the notebook trains
#: (TwoLayerNet(784, 50, 10), SGD(lr=0.1), batches of 100). About 0.6 s of the learner's time.
MAIN_TRAIN, MAIN_HISTORY_TEST, MAIN_BATCH, MAIN_ITERS, MAIN_LR = 2000, 500, 100, 400, 0.1
#: Test accuracy (on all 10,000 test images) the main run must reach. Correct loops reach 0.877
#: to 0.895 over 20 seeds, sampling methods and subsets (0.882 for the grader's seed 0); a loop
#: that trains on one fixed batch reaches at most 0.783, one that never updates 0.191
#: (benchmarks/bench_ex08.py has the figures).
TARGET_ACCURACY = 0.84
#: The probe: 12 iterations of batches of 50 from 200 images, 4 iterations per epoch.
PROBE_TRAIN, PROBE_TEST, PROBE_BATCH, PROBE_ITERS = 200, 100, 50, 12
#: The learner's network, as the spec's notebook builds it.
SIZES = (784, 50, 10)
PARAM_SHAPES = {"W1": (784, 50), "b1": (50,), "W2": (50, 10), "b2": (10,)}
HISTORY_SLACK = 16  # a history longer than this many values per iteration is refused unread
LN10 = math.log(10)

rng = np.random.default_rng(8)
MAIN_INDEX = np.sort(rng.choice(60000, MAIN_TRAIN, replace=False))
HISTORY_INDEX = np.sort(rng.choice(10000, MAIN_HISTORY_TEST, replace=False))
PROBE_INDEX = np.sort(rng.choice(60000, PROBE_TRAIN + PROBE_TEST, replace=False))

#: Everything the runs depend on, to fingerprint the stored reference facts.
RUN_INPUTS = (MAIN_INDEX, HISTORY_INDEX, PROBE_INDEX, SIZES, MAIN_BATCH, MAIN_ITERS, MAIN_LR,
              TARGET_ACCURACY, PROBE_BATCH, PROBE_ITERS)

# --------------------------------------------------------------------- iterations and epochs

ITERATION_CASES = (
    Case("60000 samples, batch 100", (60000, 100)),
    Case("100 samples, batch 50", (100, 50)),
    Case("1000 samples, batch 300 (does not divide)", (1000, 300)),
    Case("100 samples, batch 100", (100, 100)),
    Case("50 samples, batch 100 (batch larger than the data)", (50, 100)),
)
TOTAL_CASES = (
    Case("100 samples, batch 50, 100 epochs (the spec's example)", (100, 50, 100)),
    Case("60000 samples, batch 100, 17 epochs", (60000, 100, 17)),
    Case("1000 samples, batch 400, 2 epochs (2.5 iterations per epoch)", (1000, 400, 2)),
    Case("50 samples, batch 100, 7 epochs (batch larger than the data)", (50, 100, 7)),
)

#: In a mistake's derived facts: this fact may come out either way with the mistake.
ANY = object()

# Known mistakes. For iterations_per_epoch and total_iterations, a buggy function in
# solutions/mistakes/ex08_training.py whose results are stored; for train, which facts of the
# runs (see _probe_facts and _main_facts) the buggy loop changes.
MISTAKES: dict[str, list[Mistake]] = {
    "iterations_per_epoch": [
        Mistake("integer division",
                "iterations_per_epoch uses integer division (//): 1000 samples in batches of 300 "
                "make 3.33 iterations per epoch, not 3; use max(train_size / batch_size, 1)",
                variant={"iterations_per_epoch": "iterations_per_epoch_floored"}),
        Mistake("rounded up",
                "iterations_per_epoch rounds up to whole batches; it is the exact ratio "
                "max(train_size / batch_size, 1), a float when the batch size does not divide "
                "the training set",
                variant={"iterations_per_epoch": "iterations_per_epoch_rounded_up"}),
        Mistake("no minimum of 1",
                "iterations_per_epoch gives less than 1 when the batch is larger than the "
                "training set; an epoch is at least one iteration: max(train_size / batch_size, 1)",
                variant={"iterations_per_epoch": "iterations_per_epoch_without_minimum"}),
    ],
    "total_iterations": [
        Mistake("epochs ignored",
                "total_iterations returns the iterations of one epoch; multiply by epochs",
                variant={"total_iterations": "total_iterations_of_one_epoch"}),
        Mistake("batch size ignored",
                "total_iterations counts samples (epochs * train_size), not weight updates: one "
                "update uses a whole batch, so divide by batch_size (with at least 1 iteration "
                "per epoch)", variant={"total_iterations": "total_iterations_of_samples"}),
        Mistake("no minimum of 1 per epoch",
                "total_iterations gives less than one iteration per epoch when the batch is "
                "larger than the training set; use iterations_per_epoch, which is at least 1",
                variant={"total_iterations": "total_iterations_without_minimum"}),
        Mistake("rounded before multiplying",
                "total_iterations rounds the iterations per epoch down before multiplying "
                "(2.5 per epoch makes 5 updates in 2 epochs, not 4); compute "
                "int(epochs * iterations_per_epoch(train_size, batch_size))",
                variant={"total_iterations": "total_iterations_floored_first"}),
    ],
    "train": [
        Mistake("not a batch loss",
                "train's train_loss holds values that no batch loss of the network can have "
                "(an accuracy, or the loss of something else?): append "
                "network.loss(x_batch, t_batch) at every iteration",
                derive=lambda e: {"losses_in_range": False, "distinct_losses": ANY,
                                  "whole_set_loss": ANY, "starts_near_ln10": ANY,
                                  "loss_falls": ANY}),
        Mistake("loss of the whole training set",
                "train records the loss of the whole training set; record the loss of each "
                "iteration's batch, network.loss(x_batch, t_batch)",
                derive=lambda e: {"distinct_losses": False, "whole_set_loss": True}),
        Mistake("one fixed batch",
                "train uses the same batch at every iteration; draw a new one each time with "
                "batch_mask = rng.choice(train_size, batch_size), from one generator "
                "rng = np.random.default_rng(seed) created before the loop (a generator created "
                "inside the loop starts again at every iteration)",
                derive=lambda e: {"distinct_losses": False, "fits_its_batches": True,
                                  "reaches_target": False}),
        Mistake("loss once per epoch",
                "train records the loss once per epoch; append the batch loss at every "
                "iteration", derive=lambda e: {"loss_records": e["accuracy_records"]}),
        Mistake("accuracy every iteration",
                "train records the accuracies at every iteration; record them once per epoch, "
                "when i % iter_per_epoch == 0",
                derive=lambda e: {"accuracy_records": e["loss_records"]}),
        Mistake("accuracies swapped",
                "train swaps the accuracies: train_acc must hold the accuracy on x_train and "
                "test_acc the accuracy on x_test",
                derive=lambda e: {"train_acc": e["test_acc"], "test_acc": e["train_acc"]}),
        Mistake("test accuracy as train accuracy",
                "train records the accuracy on the test set in train_acc; use "
                "network.accuracy(x_train, t_train)",
                derive=lambda e: {"train_acc": e["test_acc"]}),
        Mistake("train accuracy as test accuracy",
                "train records the accuracy on the training set in test_acc; use "
                "network.accuracy(x_test, t_test)",
                derive=lambda e: {"test_acc": e["train_acc"]}),
        Mistake("seed ignored",
                "train draws the same batches whatever its seed: sample with "
                "rng = np.random.default_rng(seed) and rng.choice(train_size, batch_size), not "
                "with np.random.choice (NumPy's global generator)",
                derive=lambda e: {"seed_changes_batches": False, "seed_reproduces": False}),
        Mistake("fixed seed",
                "train draws the same batches whatever its seed, always the same ones: create "
                "the generator from the seed it is given, rng = np.random.default_rng(seed), "
                "not from a fixed number",
                derive=lambda e: {"seed_changes_batches": False}),
        Mistake("generator not reproducible",
                "train's batches depend on more than its seed (a generator made outside train, "
                "or NumPy's global one): create rng = np.random.default_rng(seed) inside train, "
                "before the loop", derive=lambda e: {"seed_reproduces": False}),
        Mistake("update without the optimizer",
                "train changes the parameters itself instead of through the optimizer it is "
                "given (with an optimizer of learning rate 0 they still changed): call "
                "optimizer.update(network.params, grads) and nothing else",
                derive=lambda e: {"changes_params_at_lr_0": True}),
        Mistake("never updates",
                "train never changes network.params: call optimizer.update(network.params, "
                "grads) at every iteration, on the network's own dict (not a copy)",
                derive=lambda e: {"changes_params": False, "loss_falls": False,
                                  "reaches_target": False}),
        # Not a fact of a run: named when a run of train takes longer than the time limit.
        Mistake("too slow",
                "train is far too slow; it must use network.gradient (backpropagation), not "
                "network.numerical_gradient, which takes seconds per batch"),
    ],
}
TRAIN_MISTAKES = {m.name: m for m in MISTAKES["train"]}

def _iterations_per_epoch_is_wrong(ctx: Context) -> bool:
    """Whether the learner's iterations_per_epoch misses the spec's max(N / B, 1) anywhere."""
    def probe() -> bool:
        for case in ITERATION_CASES:
            try:
                got = ctx.call("iterations_per_epoch", *case.args)
                if not np.isclose(float(got), max(case.args[0] / case.args[1], 1), rtol=1e-9):
                    return True
            except (CheckFailed, TypeError, ValueError):
                return True
        return False

    return ctx.once("iterations_per_epoch is wrong", probe)


def _call_total(ctx: Context, func: str, case: Case) -> Any:
    """total_iterations on ``case``, judged on its own: with a right iterations_per_epoch in
    place of the learner's when theirs is wrong (it is charged in its own check)."""
    if not _iterations_per_epoch_is_wrong(ctx):
        return ctx.call(func, *case.args, what=func)
    train_size, batch_size = case.args[:2]
    per_epoch = [[[train_size, batch_size], max(train_size / batch_size, 1)]]  # the spec's
    return call_replacing(ctx, func, case.args, case.kwargs,
                          {"iterations_per_epoch": per_epoch})


# ------------------------------------------------------------------------------ MNIST subsets


@functools.cache
def _mnist() -> dict[str, np.ndarray]:
    """The subsets the runs use, from the course's MNIST files (decoded once per process)."""
    from dataset import mnist

    try:
        mnist.ensure_cache()  # checks the files, decodes them once (about a second)
        (x_train, t_train), (x_test, t_test) = mnist.load_mnist(normalize=False, flatten=True)
    except OSError as error:  # DatasetError: a missing or corrupt file, said in one line
        raise CheckFailed(f"cannot load MNIST to train on: {error}") from None

    def pixels(rows: np.ndarray) -> np.ndarray:  # as load_mnist(normalize=True) scales them
        return np.asarray(rows).astype(np.float32) / np.float32(255.0)

    def labels(values: np.ndarray) -> np.ndarray:
        return np.asarray(values).astype(np.int64)

    return {
        "x_main": pixels(x_train[MAIN_INDEX]), "t_main": labels(t_train[MAIN_INDEX]),
        "x_history": pixels(x_test[HISTORY_INDEX]), "t_history": labels(t_test[HISTORY_INDEX]),
        "x_probe": pixels(x_train[PROBE_INDEX]),
        "x_test": pixels(x_test), "t_test": labels(t_test),
    }


# ------------------------------------------------------------------------------ the runs


def _network(api: Api, lr: float) -> tuple[Any, Any]:
    """The learner's TwoLayerNet(784, 50, 10) (global generator seeded with 0) and SGD(lr).

    Each method ``train`` relies on is tried once first, so that an unfinished ex06 or ex07 is
    named as such rather than as a failure of ``train``.
    """
    sibling = api.fixture("sibling")
    api.call(api.fixture("seed_numpy"), None, 0)
    net_class = _prerequisite("TwoLayerNet (ex06_two_layer_net)", api.ref, sibling, None,
                              "ex06_two_layer_net", "TwoLayerNet")
    network = _prerequisite("TwoLayerNet(784, 50, 10)", api.ref, net_class, None, *SIZES)
    sgd_class = _prerequisite("SGD (ex07_optimizers)", api.ref, sibling, None,
                              "ex07_optimizers", "SGD")
    optimizer = _prerequisite(f"SGD(lr={lr})", api.ref, sgd_class, None, lr=lr)
    x, t = np.zeros((2, SIZES[0])), np.array([0, 1])
    for method in ("predict", "loss", "accuracy", "gradient"):
        _prerequisite(f"TwoLayerNet.{method}", api.call, network, method,
                      *((x,) if method == "predict" else (x, t)))
    zeros = {"W": np.zeros(2)}
    _prerequisite("SGD.update", api.call, optimizer, "update", zeros, zeros, may_modify=(0,))
    return network, optimizer


def _prerequisite(what: str, call: Callable, *args: Any, **kwargs: Any) -> Any:
    """``call(*args, **kwargs)``; a failure names ``what`` of ex06 or ex07 as the cause."""
    try:
        return call(*args, **kwargs)
    except CheckFailed as failure:
        if failure.kind == "not_implemented":
            raise CheckFailed(
                f"train trains your ex06 TwoLayerNet with your ex07 SGD, and {what} is not "
                "implemented yet: finish ex06 and ex07 first", diagnosis="not implemented",
                kind=failure.kind) from None
        raise CheckFailed(
            f"train trains your ex06 TwoLayerNet with your ex07 SGD, and {what} failed: "
            f"{failure.message}. Keep ex03, ex05, ex06 and ex07 beside ex08, make their "
            "checks pass, and grade the folder", kind=failure.kind) from None


def _params(api: Api, network: Any) -> dict[str, np.ndarray]:
    params = api.attr(network, "params")
    if not isinstance(params, dict) or any(
        value_shape(params.get(key)) != shape for key, shape in PARAM_SHAPES.items()
    ):
        raise CheckFailed("the network's params must be a dict of W1 (784, 50), b1 (50,), "
                          "W2 (50, 10) and b2 (10,) (ex06)")
    return {key: float_array(params[key], what=f"params[{key!r}]", shape=shape, lists=True)
            for key, shape in PARAM_SHAPES.items()}


def _changed(before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> bool:
    return any(not np.array_equal(before[key], after[key]) for key in PARAM_SHAPES)


def _scores(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Affine -> ReLU -> Affine, as ex06's predict, computed here in chunks."""
    out = []
    for start in range(0, len(x), 2500):
        hidden = np.maximum(0.0, x[start:start + 2500] @ params["W1"] + params["b1"])
        out.append(hidden @ params["W2"] + params["b2"])
    return np.concatenate(out)


def _history(value: Any, iters: int) -> dict[str, np.ndarray]:
    """``train``'s return value as three float arrays; CheckFailed when it is not a history."""
    keys = ("train_loss", "train_acc", "test_acc")
    if not isinstance(value, dict) or any(key not in value for key in keys):
        got = "None (a missing return?)" if value is None else f"a {type(value).__name__}"
        if isinstance(value, dict):
            got = f"a dict with keys {sorted(map(str, value))}"
        raise CheckFailed(f"train must return a dict with the lists 'train_loss', 'train_acc' "
                          f"and 'test_acc'; it returned {got}")
    history = {}
    most = HISTORY_SLACK * iters + 1000  # one loss per iteration, far fewer accuracies
    for key in keys:
        found = value_shape(value[key])
        if found is not None and np.prod(found, dtype=np.float64) > most:
            raise CheckFailed(f"train's history[{key!r}] holds {int(np.prod(found))} values "
                              f"after {iters} iterations; record one loss per iteration and "
                              "the accuracies once per epoch")
        try:
            history[key] = float_array(value[key], what=f"train's history[{key!r}]",
                                       max_size=most, lists=True).reshape(-1)
        except CheckFailed:
            raise CheckFailed(f"train's history[{key!r}] must be a list of numbers, got "
                              f"{type(value[key]).__name__}") from None
    if len(history["train_acc"]) != len(history["test_acc"]):
        raise CheckFailed(f"train recorded {len(history['train_acc'])} training accuracies but "
                          f"{len(history['test_acc'])} test accuracies; record both once per "
                          "epoch")
    if not all(np.all(np.isfinite(values)) for values in history.values()):
        raise CheckFailed(f"train's history holds NaN or inf after {iters} iterations")
    return history


def _train(api: Api, network: Any, optimizer: Any, data: tuple, iters: int, batch: int,
           seed: int) -> dict[str, np.ndarray]:
    try:
        value = api.call("train", None, network, optimizer, *data, iters, batch, seed=seed)
    except CheckFailed as failure:
        if failure.kind == "timeout":
            mistake = TRAIN_MISTAKES["too slow"]
            raise CheckFailed(f"{failure.message}: {mistake.message}", diagnosis=mistake.name,
                              kind=failure.kind) from None
        raise
    return _history(value, iters)


def _probe_facts(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    """Facts of the probe runs, and details for messages.

    One run trains a frozen network (SGD with lr=0): its losses and accuracies are those of a
    fixed network. Three runs train fresh, identical networks with SGD(lr=0.1): seed 0, seed 1
    and seed 0 again with NumPy's global generator in another state. Their batches show in the
    losses and in the parameters they end with (either may be recorded wrongly, not both).
    """
    data = _mnist()
    network, frozen = _network(api, lr=0.0)
    before = _params(api, network)
    x = data["x_probe"]
    scores = float_array(api.call(network, "predict", x), what="TwoLayerNet.predict",
                         shape=(len(x), SIZES[-1]), lists=True)
    predicted = np.argmax(scores, axis=1)
    x_train, t_train = x[:PROBE_TRAIN], predicted[:PROBE_TRAIN]  # accuracy exactly 1
    x_test, t_test = x[PROBE_TRAIN:], (predicted[PROBE_TRAIN:] + 1) % 10  # exactly 0
    probe = (x_train, t_train, x_test, t_test)
    whole = float_array(api.call(network, "loss", x_train, t_train), what="TwoLayerNet.loss",
                        shape=())  # of the whole training set, by the network's own loss
    # Every batch loss of the frozen network is a mean of these per-image losses
    # (cross-entropy of each image with its own label), so it lies between their extremes.
    own = _per_image_loss(scores[:PROBE_TRAIN], t_train)
    api.call(api.fixture("seed_numpy"), None, 0)
    first = _train(api, network, frozen, probe, PROBE_ITERS, PROBE_BATCH, seed=0)
    after = _params(api, network)
    losses = first["train_loss"]
    runs = {(numpy_seed, seed): _seed_run(api, probe, numpy_seed, seed)
            for numpy_seed, seed in ((0, 0), (0, 1), (1, 0))}
    facts = {
        "loss_records": len(losses),
        "distinct_losses": bool(len(losses) > 1 and np.ptp(losses) > 0),
        "whole_set_loss": bool(len(losses) > 0 and np.allclose(losses, whole, rtol=1e-5)),
        # (only a frozen network's losses are known: one that changed is charged elsewhere)
        "losses_in_range": _changed(before, after) or bool(np.all(
            (losses >= own.min() - 1e-3) & (losses <= own.max() + 1e-3))),
        "accuracy_records": len(first["train_acc"]),
        "train_acc": round(float(np.mean(first["train_acc"])), 6) if len(first["train_acc"])
        else None,
        "test_acc": round(float(np.mean(first["test_acc"])), 6) if len(first["test_acc"])
        else None,
        "seed_changes_batches": not _same_run(runs[0, 0], runs[0, 1]),
        "seed_reproduces": _same_run(runs[0, 0], runs[1, 0]),
        "changes_params_at_lr_0": _changed(before, after),
    }
    details = {"losses": losses, "train_acc": first["train_acc"], "test_acc": first["test_acc"]}
    return facts, details


def _per_image_loss(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Cross-entropy of each row of ``scores`` (N, C) with its label (N,), shape (N,)."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(labels)), labels]


def _seed_run(api: Api, probe: tuple, numpy_seed: int, seed: int) -> tuple:
    """Losses and final parameters of train(seed=seed) on a fresh network, NumPy's global
    generator seeded with ``numpy_seed`` just before."""
    network, optimizer = _network(api, lr=MAIN_LR)
    api.call(api.fixture("seed_numpy"), None, numpy_seed)
    history = _train(api, network, optimizer, probe, PROBE_ITERS, PROBE_BATCH, seed=seed)
    return history["train_loss"], _params(api, network)


def _same_run(a: tuple, b: tuple) -> bool:
    return bool(np.array_equal(a[0], b[0])) and not _changed(a[1], b[1])


def _main_facts(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    """Facts of a real training run (SGD with lr=0.1), and details for messages."""
    data = _mnist()
    network, optimizer = _network(api, lr=MAIN_LR)
    before = _params(api, network)
    run = (data["x_main"], data["t_main"], data["x_history"], data["t_history"])
    history = _train(api, network, optimizer, run, MAIN_ITERS, MAIN_BATCH, seed=0)
    after = _params(api, network)
    accuracy = float(np.mean(np.argmax(_scores(after, data["x_test"]), axis=1) == data["t_test"]))
    losses = history["train_loss"]
    tail = max(1, len(losses) // 10)
    start, end = (float(losses[0]), float(np.mean(losses[-tail:]))) if len(losses) else (0, 0)
    facts = {
        "changes_params": _changed(before, after),
        "reaches_target": accuracy >= TARGET_ACCURACY,
        "fits_its_batches": end < 0.1,
        "starts_near_ln10": abs(start - LN10) < 0.1,
        "loss_falls": end < 0.5 * start,
    }
    details = {"accuracy": accuracy, "start": start, "end": end, "tail": tail}
    return facts, details


RUNS: dict[str, Callable[[Api], tuple[dict[str, Any], dict[str, Any]]]] = {
    "probe": _probe_facts, "main": _main_facts,
}
RUN_REFS = {
    kind: Ref(f"train {kind} run facts", RUN_INPUTS,
              lambda solution, run=run: _reference_facts(run, solution))
    for kind, run in RUNS.items()
}


def _reference_facts(run: Callable, solution: Any) -> dict[str, Any]:
    facts, details = run(ReferenceApi(solution))
    if "accuracy" in details:  # shown in messages, never judged; two digits, as BLAS
        facts["accuracy"] = round(details["accuracy"], 2)  # builds may differ in the last image
    return facts


def _learner_facts(ctx: Context, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """One learner run of each kind per grading (several checks read it)."""
    return ctx.once(("train run", kind), lambda: RUNS[kind](LearnerApi(ctx)))


# ------------------------------------------------------------------------------ judging facts


def _agrees(key: str, got: Any, expected: Any) -> bool:
    if key == "accuracy_records":  # before the first update too (CS231n's Solver) is fine
        return got in (expected, expected + 1)
    if isinstance(expected, float) and isinstance(got, float):
        return abs(got - expected) <= 1e-6
    return got == expected


def _explain(key: str, facts: dict, details: dict, expected: dict) -> str:
    """What is wrong with fact ``key``, for the learner."""
    frozen = ("(the grader trains with SGD(lr=0.0), so the network never changes, labels its "
              "training images with the untrained network's own predictions and its test images "
              "with other classes: the accuracy is exactly 1 on x_train and 0 on x_test)")
    epochs = PROBE_ITERS // (PROBE_TRAIN // PROBE_BATCH)
    if key == "loss_records":
        return (f"train recorded {facts['loss_records']} losses in {PROBE_ITERS} iterations; "
                "record one batch loss per iteration")
    if key == "losses_in_range":
        values = ", ".join(f"{v:g}" for v in details["losses"][:3])
        return (f"train recorded [{values}, ...] as batch losses, but every batch loss of the "
                "grader's frozen network (SGD with lr=0.0) lies between the smallest and the "
                "largest loss of one of its images")
    if key == "distinct_losses":
        value = details["losses"][0] if len(details["losses"]) else float("nan")
        return (f"every batch loss train recorded is the same ({value:.6f}) although the network "
                "never changed (SGD with lr=0.0): the batches must differ from one iteration to "
                "the next")
    if key == "accuracy_records":
        return (f"train recorded {facts['accuracy_records']} accuracies in {PROBE_ITERS} "
                f"iterations of {PROBE_TRAIN // PROBE_BATCH} per epoch; record train_acc and "
                f"test_acc once per epoch ({epochs} values)")
    if key in ("train_acc", "test_acc"):
        data = "x_train" if key == "train_acc" else "x_test"
        values = ", ".join(f"{v:g}" for v in details[key][:5])
        return (f"{key} holds [{values}{', ...' if len(details[key]) > 5 else ''}] but the "
                f"accuracy on {data} is {expected[key]:g} {frozen}")
    if key == "seed_changes_batches":
        return ("train(..., seed=0) and train(..., seed=1), each on a new network with the same "
                "initial weights, recorded the same losses and ended with the same parameters: "
                "the seed must choose the batches")
    if key == "seed_reproduces":
        return ("two runs of train(..., seed=0), each on a new network with the same initial "
                "weights, ended differently (NumPy's global generator was seeded differently "
                "before each): the batches must depend on the seed only")
    if key == "changes_params_at_lr_0":
        return "network.params changed during train although the optimizer's learning rate was 0"
    if key == "changes_params":
        return f"network.params did not change in {MAIN_ITERS} iterations of SGD(lr={MAIN_LR})"
    if key == "starts_near_ln10":
        return (f"the first batch loss is {details['start']:.4f}; with small initial weights "
                f"every class has probability about 1/10, so it should be close to "
                f"ln 10 = {LN10:.4f}")
    if key == "loss_falls":
        return (f"the batch loss went from {details['start']:.4f} to {details['end']:.4f} (mean "
                f"of the last {details['tail']}) in {MAIN_ITERS} iterations of SGD(lr={MAIN_LR}); "
                "it should fall to less than half")
    if key == "reaches_target":
        return (f"after {MAIN_ITERS} iterations of SGD(lr={MAIN_LR}) in batches of {MAIN_BATCH} "
                f"from {MAIN_TRAIN} MNIST training images, the network's test accuracy is "
                f"{details['accuracy']:.3f}; the reference reaches {expected['accuracy']:.2f} "
                f"and at least {TARGET_ACCURACY} is required")
    return f"{key}: got {facts[key]!r}, expected {expected[key]!r}"


def _diagnose(keys: tuple[str, ...], facts: dict, expected: dict) -> Mistake | None:
    """The first mistake of train whose facts, among ``keys``, are the learner's: the facts it
    changes as it derives them, every other one as the reference's (a mistake is named only
    when nothing else in these facts differs)."""
    for mistake in MISTAKES["train"]:
        if mistake.derive is None:
            continue
        try:
            derived = mistake.derive(expected)
        except KeyError:  # derived from facts of a run this check does not make
            continue
        if not any(k in keys for k in derived):
            continue
        predicted = {k: derived.get(k, expected[k]) for k in keys
                     if k in expected and k in facts and derived.get(k) is not ANY}
        if predicted and all(_agrees(k, facts[k], v) for k, v in predicted.items()) and any(
            not _agrees(k, v, expected[k]) for k, v in predicted.items()
        ):
            return mistake
    return None


def train_check(name: str, judged: dict[str, tuple[str, ...]], *, hints: tuple[str, ...] = (),
                frozen: bool = False, points: float = 1, passed: str) -> Check:
    """A check of ``train``: facts ``judged[kind]`` of run ``kind`` must be the reference's.

    ``hints`` are facts of the same runs that only help name a mistake. With ``frozen``, the
    facts hold only if the probe's network stayed frozen, which is checked first.
    """
    keys = tuple(k for group in judged.values() for k in group) + hints

    def run(ctx: Context) -> str:
        facts, details, expected = {}, {}, {}
        for kind in judged:
            got, more = _learner_facts(ctx, kind)
            facts.update(got)
            details.update(more)
            stored = ctx.expected(RUN_REFS[kind])
            expected.update({k: v.item() if isinstance(v, np.ndarray) else v
                             for k, v in stored.items()})
        if frozen and facts["changes_params_at_lr_0"]:
            mistake = TRAIN_MISTAKES["update without the optimizer"]
            changed = _explain("changes_params_at_lr_0", facts, details, expected)
            raise CheckFailed(f"{mistake.message}. {changed}, so the accuracies it recorded "
                              "could not be checked", diagnosis=mistake.name)
        for key in (k for group in judged.values() for k in group):
            if not _agrees(key, facts[key], expected[key]):
                message = _explain(key, facts, details, expected)
                mistake = _diagnose(keys, facts, expected)
                if mistake is not None:
                    raise CheckFailed(f"{mistake.message}. {message}", diagnosis=mistake.name)
                raise CheckFailed(message)
        return passed

    refs = tuple(RUN_REFS[kind] for kind in judged)
    return Check(name=name, points=points, run=run, refs=refs)


EXERCISE = Exercise(
    id="ex08",
    module="ex08_training",
    title="Training on MNIST",
    requires=("ex06", "ex07"),
    # The main run takes about 0.6 s and each probe run 0.05 s on an idle core: 30 s leaves room
    # for a busy machine, and stops a loop that uses the numerical gradient.
    limits=Limits(call_timeout=30.0),
    checks=(
        function_check("iterations_per_epoch", ITERATION_CASES,
                       name="iterations_per_epoch matches the reference",
                       mistakes=MISTAKES["iterations_per_epoch"]),
        function_check("total_iterations", TOTAL_CASES,
                       name="total_iterations matches the reference (100 samples, batch 50, "
                            "100 epochs: 200)",
                       mistakes=MISTAKES["total_iterations"], call=_call_total),
        train_check("train records one batch loss per iteration, from a new batch each time",
                    {"probe": ("loss_records", "losses_in_range", "distinct_losses")},
                    hints=("whole_set_loss",),
                    passed="one loss per iteration, batches change"),
        train_check("train records train and test accuracy once per epoch",
                    {"probe": ("accuracy_records", "train_acc", "test_acc")},
                    frozen=True,
                    passed="train_acc and test_acc once per epoch, on the right data"),
        train_check("train draws its batches from np.random.default_rng(seed)",
                    {"probe": ("seed_changes_batches", "seed_reproduces")},
                    passed="the same seed gives the same batches, another seed others"),
        train_check("train updates the network only through optimizer.update",
                    {"probe": ("changes_params_at_lr_0",), "main": ("changes_params",)},
                    passed="parameters change through the optimizer only"),
        train_check("train's batch loss starts near ln 10 and falls",
                    {"main": ("starts_near_ln10", "loss_falls"), "probe": ()},
                    hints=("changes_params", "losses_in_range"),
                    passed="the loss starts near ln 10 and falls"),
        train_check(f"train learns MNIST: test accuracy of at least {TARGET_ACCURACY} after "
                    f"{MAIN_ITERS} iterations", {"main": ("reaches_target",)},
                    hints=("fits_its_batches", "changes_params"), points=2,
                    passed=f"test accuracy of at least {TARGET_ACCURACY}"),
    ),
)
