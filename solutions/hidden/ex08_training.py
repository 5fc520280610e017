"""Hidden checks of ex08 (instructors only): iteration counts and a training probe drawn from
the seed.

Counts on random training-set and batch sizes (batches that do not divide the set, or are
larger than it); and the public probe (a network frozen by ``SGD(lr=0.0)``, trained by the
learner's ``train`` on images labelled with its own predictions) on another subset of MNIST
(test images instead of training ones), with another batch size, iteration count and seed. Its
facts are compared with the reference solution's on the same runs, computed live; it takes a
fraction of a second.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.checks import (
    Api,
    Case,
    Check,
    CheckFailed,
    Context,
    LearnerApi,
    Ref,
    ReferenceApi,
    function_check,
)
from grader.exercises.ex08_training import (
    MISTAKES,
    SIZES,
    _agrees,
    _call_total,
    _changed,
    _diagnose,
    _mnist,
    _network,
    _params,
    _same_run,
    _train,
)


def _count_cases(rng: np.random.Generator, epochs: bool) -> list[Case]:
    """Sizes that divide, that do not, and a batch larger than the training set."""
    cases = []
    for kind in ("divides", "does not divide", "larger"):
        batch = int(rng.integers(10, 500))
        if kind == "divides":
            size = batch * int(rng.integers(2, 50))
        elif kind == "does not divide":
            size = batch * int(rng.integers(2, 50)) + int(rng.integers(1, batch))
        else:
            size = int(rng.integers(1, batch))
        args: tuple = (size, batch)
        label = f"{size} samples, batch {batch}"
        if epochs:
            count = int(rng.integers(1, 30))
            args, label = (*args, count), f"{label}, {count} epochs"
        cases.append(Case(label, args))
    return cases


def _probe(rows: np.ndarray, n_train: int, batch: int, iters: int, seed: int):
    """The public probe's facts on ``rows`` of the MNIST test images (the first ``n_train``
    to train on), with batches of ``batch``, ``iters`` iterations and train's ``seed``."""

    def scenario(api: Api) -> dict[str, Any]:
        x = _mnist()["x_test"][rows]
        network, frozen = _network(api, lr=0.0)
        before = _params(api, network)
        scores = np.asarray(api.call(network, "predict", x), dtype=np.float64)
        predicted = np.argmax(scores.reshape(len(x), SIZES[-1]), axis=1)
        probe = (x[:n_train], predicted[:n_train], x[n_train:], (predicted[n_train:] + 1) % 10)
        api.call(api.fixture("seed_numpy"), None, 0)
        first = _train(api, network, frozen, probe, iters, batch, seed=seed)
        after = _params(api, network)

        def run(numpy_seed: int, train_seed: int) -> tuple:
            net, sgd = _network(api, lr=0.1)
            api.call(api.fixture("seed_numpy"), None, numpy_seed)
            history = _train(api, net, sgd, probe, iters, batch, seed=train_seed)
            return history["train_loss"], _params(api, net)

        same, other, reseeded = run(0, seed), run(0, seed + 1), run(1, seed)
        losses = first["train_loss"]
        return {
            "loss_records": len(losses),
            "distinct_losses": bool(len(losses) > 1 and np.ptp(losses) > 0),
            "accuracy_records": len(first["train_acc"]),
            "train_acc": round(float(np.mean(first["train_acc"])), 6)
            if len(first["train_acc"]) else None,
            "test_acc": round(float(np.mean(first["test_acc"])), 6)
            if len(first["test_acc"]) else None,
            "seed_changes_batches": not _same_run(same, other),
            "seed_reproduces": _same_run(same, reseeded),
            "changes_params_at_lr_0": _changed(before, after),
        }

    return scenario


def _probe_check(rows: np.ndarray, n_train: int, batch: int, iters: int, seed: int) -> Check:
    """The probe's facts must agree with the reference's, as the public checks judge them."""
    scenario = _probe(rows, n_train, batch, iters, seed)
    ref = Ref("hidden: train probe facts", (rows, n_train, batch, iters, seed),
              lambda solution: scenario(ReferenceApi(solution)))

    def run(ctx: Context) -> str:
        expected, facts = ctx.expected(ref), scenario(LearnerApi(ctx))
        wrong = [key for key in expected if not _agrees(key, facts[key], expected[key])]
        if wrong:
            mistake = _diagnose(tuple(expected), facts, expected)
            said = ", ".join(f"{key} {facts[key]!r} (expected {expected[key]!r})"
                             for key in wrong)
            raise CheckFailed(f"{mistake.message}. {said}" if mistake else said,
                              diagnosis=mistake.name if mistake else None)
        return ("one loss per iteration, accuracies once per epoch, batches from its seed, "
                "updates only through the optimizer")

    return Check("hidden: train on another MNIST subset, batch size, iteration count and seed",
                 1, run, refs=(ref,), hidden=True)


def hidden_checks(rng: np.random.Generator) -> list[Check]:
    """The hidden checks of ex08 for ``rng``.

    The probe's epochs are whole numbers of batches and its iterations whole epochs, as in the
    public probe, so that every way the spec allows to count epochs records the same number of
    accuracies (or one more, before the first update).
    """
    batch, per_epoch = int(rng.integers(5, 30)), int(rng.integers(2, 7))
    n_train, n_test = batch * per_epoch, int(rng.integers(20, 80))
    iters = per_epoch * int(rng.integers(2, 5))
    seed = int(rng.integers(0, 2**31 - 2))
    rows = np.sort(rng.choice(10000, n_train + n_test, replace=False))
    return [
        function_check("iterations_per_epoch", _count_cases(rng, epochs=False),
                       name="hidden: iterations_per_epoch on random sizes", hidden=True,
                       mistakes=MISTAKES["iterations_per_epoch"]),
        function_check("total_iterations", _count_cases(rng, epochs=True),
                       name="hidden: total_iterations on random sizes and epochs", hidden=True,
                       mistakes=MISTAKES["total_iterations"], call=_call_total),
        _probe_check(rows, n_train, batch, iters, seed),
    ]
