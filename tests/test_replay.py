"""Resampled checks (grader/replay.py): in a batch, the stored answer key cannot be replayed.

A "replayer" implements nothing: it returns the reference values shipped in
grader/data/expected/ for the published inputs, found by a hash of its arguments, and zeros for
anything else. It scores as well as correct code on the public checks; in a batch, where every
public value check runs again on fresh inputs judged by the live solutions, it must score no
more than a file of zeros, while correct code keeps full marks.
"""

from __future__ import annotations

import ast
import base64
import dataclasses
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import EXERCISES, SOLUTIONS, TEST_LIMITS
from grader.batch.fingerprint import grader_hash
from grader.batch.gradebook import Gradebook
from grader.checks import Check, CheckFailed, Exercise, Ref, assert_close
from grader.engine import grade_submission
from grader.expected import LiveOracle, StoredOracle
from grader.registry import load
from grader.replay import (
    FRESH_INPUTS,
    STRENGTH,
    Resampler,
    calibrate,
    is_value_check,
    resampled,
)
from grader.result import ExerciseResult
from grader.runner.submission import locate

LIVE = LiveOracle(SOLUTIONS)
SEED = "replay-test-seed"
PUBLIC_IDS = ("ex01", "ex02", "ex03", "ex04", "ex05", "ex06", "ex07")

# ------------------------------------------------------------------------------ submissions

#: How the replayer finds a stored value: the callee and every argument's dtype, shape and
#: bytes. The test builds the replayer's table with this very function.
KEY_SOURCE = '''
import hashlib
import numpy as np

def _key(name, args, kwargs):
    digest = hashlib.sha256(name.encode())
    for item in [*args, *(kwargs[k] for k in sorted(kwargs))]:
        a = np.asarray(item)
        digest.update(a.dtype.str.encode() + str(a.shape).encode() + a.tobytes())
    digest.update(repr(sorted(kwargs)).encode())
    return digest.hexdigest()
'''
_namespace: dict = {}
exec(KEY_SOURCE, _namespace)
_key = _namespace["_key"]


def _functions(module: str) -> list[str]:
    """The functions the students' stub of ``module`` asks for."""
    tree = ast.parse((EXERCISES / f"{module}.py").read_text())
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]


def _zero(exercise_id: str) -> str:
    """What every function of a file of zeros returns (losses are numbers)."""
    return "0.0" if exercise_id == "ex02" else "np.zeros_like(np.asarray(args[0], dtype=float))"


def zeros_source(exercise_id: str) -> str:
    """A file whose every function returns zeros (of its input's shape, or 0.0 for a loss)."""
    body = "".join(f"\ndef {name}(*args, **kwargs):\n    return {_zero(exercise_id)}\n"
                   for name in _functions(load(exercise_id).module))
    return "import numpy as np\n" + body


def _answer_key(exercise: Exercise) -> dict[str, np.ndarray]:
    """The stored reference value of every published call of ``exercise``, by ``_key``."""
    stored, table = StoredOracle(), {}
    for ref in exercise.refs():
        inputs = ref.inputs
        if " :: " in ref.key or not isinstance(inputs, tuple):
            continue
        if len(inputs) == 3 and isinstance(inputs[0], str):  # a function check's call
            name, args, kwargs = inputs
        elif len(inputs) == 5 and isinstance(inputs[0], str):  # a derivative check's
            name, args, kwargs = inputs[0], (np.asarray(inputs[3][0], dtype=np.float64),
                                             *inputs[3][1:]), inputs[4]
        else:
            continue
        value = np.asarray(stored.expected(exercise, ref))
        if value.dtype.kind in "fiub":
            table[_key(name, args, kwargs)] = value
    return table


def replayer_source(exercise_id: str) -> str:
    """A file that returns the stored answer for a published input, zeros for any other."""
    buffer = io.BytesIO()
    np.savez(buffer, **_answer_key(load(exercise_id)))
    encoded = base64.b64encode(buffer.getvalue()).decode()
    functions = "".join(
        f"\ndef {name}(*args, **kwargs):\n"
        f"    found = _TABLE.get(_key({name!r}, args, kwargs))\n"
        f"    return found[()] if found is not None else {_zero(exercise_id)}\n"
        for name in _functions(load(exercise_id).module))
    return (KEY_SOURCE + "import base64, io\n"
            f"with np.load(io.BytesIO(base64.b64decode({encoded!r}))) as _data:\n"
            "    _TABLE = {name: _data[name] for name in _data.files}\n" + functions)


def write(folder: Path, exercise_id: str, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{load(exercise_id).module}.py"
    path.write_text(source)
    return folder


def graded(exercise: Exercise, folder: Path) -> ExerciseResult:
    return grade_submission(exercise, locate(folder, exercise.module), limits=TEST_LIMITS,
                            prerequisites=False)


# ------------------------------------------------------------------------------ the resampler


def test_fresh_inputs_keep_what_gives_an_input_its_meaning():
    resampler = Resampler(SEED, "ex01")
    x = np.array([-1000.0, -3.0, -1.0, -0.4, 0.0, 0.05, 0.5, 0.95, 1.0, 1.2, 720.0,
                  np.inf, -np.inf, np.nan])
    labels = np.array([3, 0, 9])
    fresh = resampler.value({"x": x, "t": labels, "lr": 0.1, "n": 5, "name": "relu"})
    y = fresh["x"]
    assert y.shape == x.shape and y.dtype == x.dtype
    fixed = np.isin(x, [0.0, 1.0, -1.0]) | ~np.isfinite(x)
    assert np.array_equal(y[fixed], x[fixed], equal_nan=True)  # 0, +-1, inf and NaN kept
    moved = ~fixed
    assert np.all(y[moved] != x[moved])
    assert np.array_equal(np.sign(y), np.sign(x), equal_nan=True)  # no kink is crossed
    inside, outside = moved & (np.abs(x) < 1), moved & (np.abs(x) > 1)
    assert np.all(np.abs(y[inside]) < 1) and np.all(np.abs(y[outside]) > 1)
    # Probabilities keep at least 90 % of their distance to 0 and to 1; +-1000 stays huge.
    for ends in (0.0, 1.0):
        near = inside & (x > 0)
        assert np.all(np.abs(y[near] - ends) >= (1 - STRENGTH) * np.abs(x[near] - ends))
    assert np.abs(y[0]) > 900 and np.abs(y[10]) > 648
    assert fresh["t"] is not labels and np.array_equal(fresh["t"], labels)
    assert fresh["n"] == 5 and fresh["name"] == "relu"
    assert isinstance(fresh["lr"], float) and fresh["lr"] != 0.1 and 0 < fresh["lr"] < 1
    assert type(resampler.value(np.float32(0.3))) is np.float32


def test_fresh_inputs_depend_on_the_seed_and_the_exercise_only():
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    same = Resampler(SEED, "ex01").value(x)
    assert np.array_equal(same, Resampler(SEED, "ex01").value(x.copy()))
    assert not np.array_equal(same, Resampler("another seed", "ex01").value(x))
    assert not np.array_equal(same, Resampler(SEED, "ex02").value(x))


def test_a_call_of_only_zeros_and_ones_still_changes_with_its_rows_kept_together():
    # ex02's "probability of exactly 0 at the true class": nothing in it may move.
    y, t = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]), np.array([0, 1])
    fresh_y, fresh_t = Resampler(SEED, "ex02").arguments((y, t))
    assert not np.array_equal(fresh_y, y) and not np.array_equal(fresh_t, t)
    assert sorted(map(tuple, fresh_y)) == sorted(map(tuple, y))
    for row, label in zip(fresh_y, fresh_t, strict=True):  # each row keeps its label
        assert row[label] == 0.0
    # The shift does not depend on the arguments' order (a swapped-arguments diagnosis).
    b, a = Resampler(SEED, "ex02").arguments((t, y))
    assert np.array_equal(a, fresh_y) and np.array_equal(b, fresh_t)


def test_what_a_call_changes_in_place_comes_back_as_a_change_of_the_published_inputs():
    resampler = Resampler(SEED, "ex07")
    params, grads = {"W": np.linspace(-3, 3, 6).reshape(2, 3)}, {"W": np.full((2, 3), 2.0)}

    def update(args: tuple, kwargs: dict) -> tuple:
        fresh_params, fresh_grads = args
        step = -kwargs["lr"] * fresh_grads["W"]
        fresh_params["W"] += step
        return step, [fresh_params, fresh_grads]

    step, (after, grads_after) = resampler.call(update, (params, grads), {"lr": 0.1})
    assert grads_after["W"] is not grads["W"] and np.array_equal(grads_after["W"], grads["W"])
    np.testing.assert_allclose(after["W"] - params["W"], step, rtol=1e-12, atol=1e-15)
    assert not np.allclose(step, -0.1 * grads["W"])  # the step was taken on fresh inputs


# ------------------------------------------------------------------------------ the checks


@pytest.mark.parametrize("exercise_id", PUBLIC_IDS)
def test_every_public_value_check_is_resampled_and_the_solution_passes_them(exercise_id):
    exercise = load(exercise_id)
    names = calibrate(exercise, LIVE, SEED)  # grades the solution on fresh inputs
    values = {c.name for c in exercise.checks if is_value_check(c)}
    assert values <= set(names), (
        "a value check is not resampled: the solution fails it on fresh inputs, or its "
        "reference values cannot be computed on them (see grader/replay.py)")
    assert set(names) <= {c.name for c in exercise.checks if c.refs and not c.hidden}
    result = graded(resampled(exercise, LIVE, SEED, only=names), SOLUTIONS)
    assert result.score == exercise.max_score, [c.output for c in result.checks if not c.passed]


def test_the_training_exercises_are_left_to_their_hidden_checks():
    for exercise_id in ("ex08", "ex09", "ex10"):
        exercise = load(exercise_id)
        assert resampled(exercise, LIVE, SEED) is exercise
        assert calibrate(exercise, LIVE, SEED) == ()


def test_a_check_whose_logic_does_not_carry_over_to_fresh_inputs_is_left_as_published():
    x = np.array([0.5, -2.0, 3.0])

    def run(ctx):  # also compares the result with its own (published) x
        got = ctx.call("relu", x)
        assert_close(got, ctx.expected(ref), what="relu")
        if not np.array_equal(got, np.maximum(x, 0)):
            raise CheckFailed("not relu of the published x")
        return "ok"

    ref = Ref("own/relu", ("relu", (x,), {}), lambda solution: solution.relu(x))
    plain = Check("relu of x", 1, lambda ctx: "ok", refs=(ref,))
    exercise = dataclasses.replace(load("ex01"), checks=(Check("own", 1, run, refs=(ref,)),
                                                         plain))
    assert calibrate(exercise, LIVE, SEED) == ("relu of x",)


# ------------------------------------------------------------------------------ the replayer


@pytest.mark.parametrize(("exercise_id", "public_at_least"), [("ex01", 21), ("ex02", 7)])
def test_a_replayed_answer_key_scores_no_more_than_zeros_on_fresh_inputs(
        tmp_path, exercise_id, public_at_least):
    exercise = load(exercise_id)
    replayer = write(tmp_path / "replayer", exercise_id, replayer_source(exercise_id))
    zeros = write(tmp_path / "zeros", exercise_id, zeros_source(exercise_id))
    public = graded(exercise, replayer)
    assert public.score >= public_at_least  # on a laptop, the answer key pays

    protected = resampled(exercise, LIVE, SEED, only=calibrate(exercise, LIVE, SEED))
    replayed, nothing = graded(protected, replayer), graded(protected, zeros)
    assert replayed.score <= nothing.score < exercise.max_score
    assert nothing.score == graded(exercise, zeros).score  # zeros lose nothing more
    fresh = [c for c in replayed.checks if c.output.startswith(FRESH_INPUTS)]
    assert len(fresh) >= public.score - nothing.score > 0


# ------------------------------------------------------------------------------ the gradebook


def test_the_gradebook_draws_the_batch_seed_once_and_keeps_it(tmp_path):
    with Gradebook(tmp_path / "gradebook.sqlite") as book:
        seed = book.resample_seed()
        assert len(seed) == 32 and book.resample_seed() == seed
    with Gradebook(tmp_path / "gradebook.sqlite") as book:
        assert book.resample_seed() == seed
    with Gradebook(tmp_path / "other.sqlite") as book:
        assert book.resample_seed() != seed


def test_the_batch_seed_is_part_of_what_a_result_depends_on():
    plain = grader_hash(None)
    assert grader_hash(None, resample_seed="a", solutions=SOLUTIONS) not in (
        plain, grader_hash(None, resample_seed="b", solutions=SOLUTIONS))
    assert grader_hash(None, "h", SOLUTIONS) == grader_hash(None, "h", SOLUTIONS)


# ------------------------------------------------------------------------------ a batch


def _batch(submissions: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out),
         "--exercises", "ex01,ex02", "--jobs", "2", "--isolation", "none", *args],
        capture_output=True, text=True, timeout=600, cwd=out.parent)


def _results(out: Path) -> dict[tuple[str, str], dict]:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        rows = db.execute("SELECT student, exercise, result_json FROM results").fetchall()
    return {(s, e): json.loads(text) for s, e, text in rows}


def _seed(out: Path) -> str:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return db.execute("SELECT value FROM meta WHERE key='resample_seed'").fetchone()[0]


@pytest.mark.slow
def test_in_a_batch_the_replayer_scores_no_more_than_zeros_and_resumes_alike(tmp_path):
    root, out = tmp_path / "submissions", tmp_path / "out"
    for exercise_id in ("ex01", "ex02"):
        module = load(exercise_id).module
        write(root / "alice", exercise_id, (SOLUTIONS / f"{module}.py").read_text())
        write(root / "rex", exercise_id, replayer_source(exercise_id))
        write(root / "zoe", exercise_id, zeros_source(exercise_id))
    done = _batch(root, out, "--hidden", "--seed", "s3cret")
    assert done.returncode == 0, done.stderr
    first, seed = _results(out), _seed(out)

    def score(student: str, exercise_id: str, results: dict) -> float:
        return sum(t["score"] for t in results[(student, exercise_id)]["tests"]
                   if not t.get("visibility"))  # the public checks only

    for exercise_id in ("ex01", "ex02"):
        assert score("alice", exercise_id, first) == load(exercise_id).max_score
        assert score("rex", exercise_id, first) <= score("zoe", exercise_id, first)
        tests = first[("rex", exercise_id)]["tests"]
        assert any(t.get("visibility") for t in tests)  # --hidden adds its checks on top
        assert any(t["output"].startswith(FRESH_INPUTS) for t in tests)
    feedback = (out / "feedback" / "rex" / "feedback.md").read_text()
    assert "fresh inputs of the same shape" in feedback

    # A resumed batch (here: the replayer handed in again) resamples with the recorded seed:
    # the same fresh inputs, so the very same results.
    replayer = root / "rex" / f"{load('ex01').module}.py"
    replayer.write_text(replayer.read_text() + "\n# handed in again\n")
    again = _batch(root, out, "--hidden", "--seed", "s3cret")
    assert again.returncode == 0, again.stderr
    assert "graded 2 run(s), reused 4" in again.stdout, again.stdout
    assert _seed(out) == seed
    second = _results(out)
    for exercise_id in ("ex01", "ex02"):
        assert [(t["name"], t["score"], t["output"]) for t in second[("rex", exercise_id)]
                ["tests"]] == [(t["name"], t["score"], t["output"])
                               for t in first[("rex", exercise_id)]["tests"]]
