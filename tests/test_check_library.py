"""The shared check library on its own: comparison messages, diagnosis, reference stores."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import SOLUTIONS
from grader.checks import (
    Case,
    Check,
    CheckFailed,
    Exercise,
    Mistake,
    Ref,
    assert_close,
    same_value,
)
from grader.checks.mistakes import RAISED, diagnose
from grader.expected import StoredOracle, StoreError, build, fingerprint, stale
from grader.registry import UnknownExercise, all_exercises, resolve


def test_assert_close_names_largest_error_index_and_values():
    expected = np.zeros((2, 3))
    got = expected.copy()
    got[1, 2] = 0.5
    got[0, 0] = 0.1
    with pytest.raises(CheckFailed) as info:
        assert_close(got, expected, what="f(x)")
    message = info.value.message
    assert "largest error 0.5 at index (1, 2)" in message
    assert "expected 0, got 0.5" in message and "2 of 6 elements differ" in message


@pytest.mark.parametrize(("got", "needle"), [
    (np.zeros(3), "got shape (3,), expected shape (2, 3)"),
    (None, "got None (a missing return?)"),
    ([1.0, 2.0], "expected a number or array"),
    (np.full((2, 3), np.nan), "got NaN at index (0, 0)"),
])
def test_assert_close_explains_wrong_kinds_of_result(got, needle):
    with pytest.raises(CheckFailed) as info:
        assert_close(got, np.zeros((2, 3)), what="f(x)")
    assert needle in info.value.message


def test_assert_close_accepts_within_tolerance_scalars_and_nan_where_expected():
    assert_close(np.float64(1.0 + 1e-9), 1.0, what="x")
    assert_close(np.array([1.0]), np.array(1.0), what="size-1 for a scalar")
    assert_close(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]), what="nan")
    assert_close((np.ones(2), {"a": 1.0}), (np.ones(2), {"a": 1.0}), what="tree")
    with pytest.raises(CheckFailed, match=r"tree\[1\]\['a'\]"):
        assert_close((np.ones(2), {"a": 2.0}), (np.ones(2), {"a": 1.0}), what="tree")


def test_assert_close_needs_inf_where_inf_is_expected_and_vice_versa():
    with pytest.raises(CheckFailed, match="expected inf, got 5"):
        assert_close(5.0, np.inf, what="x")
    with pytest.raises(CheckFailed, match="largest error inf"):
        assert_close(np.inf, 16.1, what="x", rtol=1e-3)
    assert_close(np.array([np.inf, 1.0]), np.array([np.inf, 1.0]), what="x")


def test_same_value_is_strict_about_shape_and_structure():
    assert same_value({"a": (np.ones(2), 1)}, {"a": (np.ones(2), 1)})
    assert not same_value(np.ones(2), np.ones((1, 2)))
    assert not same_value((1, 2), (1, 2, 3))
    assert same_value(np.array([np.nan]), np.array([np.nan]))


def test_diagnose_needs_a_mistake_that_reproduces_every_outcome_and_is_wrong():
    double = Mistake("doubled", "doubles", lambda x: 2 * x)
    same = Mistake("identity", "correct in disguise", lambda x: x)
    raises = Mistake("raises", "raises on input", lambda x: x.undefined)
    x = np.arange(3.0)
    assert diagnose([same, double], [((x,), {}, 2 * x, x)], 1e-6, 1e-9) is double
    assert diagnose([same, double], [((x,), {}, 3 * x, x)], 1e-6, 1e-9) is None
    assert diagnose([double, raises], [((x,), {}, RAISED, x)], 1e-6, 1e-9) is raises


def test_fingerprint_changes_with_inputs():
    a = np.arange(4.0)
    assert fingerprint((a, {"k": 1})) == fingerprint((a.copy(), {"k": 1}))
    assert fingerprint(a) != fingerprint(a.astype(np.float32))
    assert fingerprint(a) != fingerprint(a.reshape(2, 2))


@pytest.mark.slow  # grades or recomputes every exercise, Keras ones included
def test_stored_values_match_the_solutions():
    assert stale(all_exercises(), SOLUTIONS) == []


def test_stored_oracle_rejects_values_made_from_other_inputs(tmp_path):
    ref = Ref("double/a", np.arange(3.0), lambda solution: solution.double(np.arange(3.0)))
    exercise = Exercise("ex99", "ex99_demo", "demo",
                        checks=(Check("c", 1, lambda ctx: "ok", refs=(ref,)),))
    (tmp_path / "ex99_demo.py").write_text("def double(x):\n    return 2 * x\n")
    build([exercise], tmp_path, tmp_path / "store")
    oracle = StoredOracle(tmp_path / "store")
    assert np.array_equal(oracle.expected(exercise, ref), [0.0, 2.0, 4.0])
    moved = Ref("double/a", np.arange(4.0), ref.compute)
    with pytest.raises(StoreError, match="out of date"):
        oracle.expected(exercise, moved)


def test_case_defaults():
    case = Case("x", (1,))
    assert case.kwargs == {}


@pytest.mark.parametrize("name", ["ex01", "ex1", "1", "EX01", "ex01_activations"])
def test_resolve_accepts_common_spellings(name):
    assert resolve(name) == "ex01"


@pytest.mark.parametrize("name", ["ex99", "ex01_losses", "softmax", ""])
def test_resolve_rejects_unknown_names_listing_the_known(name):
    with pytest.raises(UnknownExercise, match="known exercises: ex01"):
        resolve(name)


def test_check_names_are_unique_within_each_exercise():
    for exercise in all_exercises():
        names = [c.name for c in exercise.checks]
        assert len(names) == len(set(names)), exercise.id


def test_store_keeps_strings_and_nested_structure(tmp_path):
    from grader import expected as store

    value = {"layers": [{"class": "Dense", "units": 10, "activation": None}], "ok": True,
             "pair": (1.5, "x")}
    exercise = Exercise("ex99", "ex99_demo", "demo", checks=())
    store.write_store(exercise, {"k": ("hash", value)}, tmp_path / "ex99_demo.npz")
    ref = Ref("k", None, lambda solution: None)
    oracle = StoredOracle(tmp_path)
    oracle._load(exercise)[0]["k"]["hash"] = fingerprint(None)
    assert same_value(oracle.expected(exercise, ref), value)


def test_context_once_computes_once_per_grading_and_replays_failures():
    from grader.checks import Context

    ctx, calls = Context(session=None, oracle=None, exercise=None), []

    def run():
        calls.append(1)
        return {"accuracy": 0.9}

    def broken():
        calls.append(2)
        raise CheckFailed("train timed out", kind="timeout")

    assert ctx.once("main", run) == {"accuracy": 0.9} and ctx.once("main", run) is ctx.once(
        "main", run)
    for _ in range(2):
        with pytest.raises(CheckFailed, match="train timed out"):
            ctx.once("probe", broken)
    assert calls == [1, 2]
    assert Context(None, None, None).once("main", run) == {"accuracy": 0.9}  # a new grading
    assert calls == [1, 2, 1]
