"""The shared check library on its own: comparison messages, diagnosis, reference stores."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from conftest import SOLUTIONS, TEST_LIMITS
from grader.checks import (
    Case,
    Check,
    CheckFailed,
    Exercise,
    Mistake,
    Ref,
    assert_close,
    function_check,
    property_check,
    same_value,
)
from grader.checks.mistakes import RAISED, Raised, diagnose
from grader.engine import grade_submission
from grader.expected import (
    LiveOracle,
    StoredOracle,
    StoreError,
    build,
    fingerprint,
    main,
    stale,
)
from grader.registry import UnknownExercise, all_exercises, resolve
from grader.runner.submission import locate


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
    double, same, raises = (Mistake(name, name) for name in ("doubled", "identity", "raises"))
    x, y = np.arange(3.0), np.arange(1.0, 4.0)
    candidates = [(same, [x, y]), (double, [2 * x, 2 * y]), (raises, [RAISED, RAISED])]
    assert diagnose(candidates, [(2 * x, x), (2 * y, y)], 1e-6, 1e-9) is double
    assert diagnose(candidates, [(2 * x, x), (3 * y, y)], 1e-6, 1e-9) is None  # not everywhere
    assert diagnose(candidates, [(x, x), (y, y)], 1e-6, 1e-9) is None  # right is no mistake
    assert diagnose(candidates, [(RAISED, x), (RAISED, y)], 1e-6, 1e-9) is raises
    assert diagnose(candidates, [(RAISED, x), (2 * y, y)], 1e-6, 1e-9) is None


# A function check whose known mistakes are buggy functions beside a tiny reference solution.
DEMO_SOLUTION = "import numpy as np\n\n\ndef double(x):\n    return np.multiply(2, x)\n"
DEMO_MISTAKES = """
import numpy as np


def triple(x):
    return np.multiply(3, x)


def refuses_lists(x):
    if isinstance(x, list):
        raise TypeError("no lists")
    return np.multiply(2, x)
"""
TRIPLED = Mistake("tripled", "double triples", variant={"double": "triple"})
REFUSES = Mistake("refuses lists", "double raises on a list", variant={"double": "refuses_lists"})
DEMO_CASES = (Case("an array", (np.arange(3.0),)), Case("a list", ([1.0, 2.0],)))
DEMO = Exercise("ex98", "ex98_double", "demo", checks=(
    function_check("double", DEMO_CASES, name="double matches", mistakes=[TRIPLED, REFUSES]),
    property_check("double", DEMO_CASES[:1], lambda got, case: None if np.all(
        np.asarray(got) <= 2 * case.args[0]) else "too large", name="double is not too large",
                   mistakes=[TRIPLED, REFUSES]),
))


def _grade_double(tmp_path, body: str, oracle) -> dict:
    learner = tmp_path / "learner.py"
    learner.write_text(f"import numpy as np\n\n\ndef double(x):\n    {body}\n")
    result = grade_submission(DEMO, locate(learner, "ex98_double"), oracle=oracle,
                              limits=TEST_LIMITS)
    return {c.name: (c.passed, c.diagnosis, c.output) for c in result.checks}


def _diagnoses(tmp_path, oracle) -> None:
    checks = _grade_double(tmp_path, "return 3 * np.asarray(x)", oracle)
    assert checks["double matches"][:2] == (False, "tripled")
    assert checks["double matches"][2].startswith("double triples. double on an array")
    assert checks["double is not too large"][:2] == (False, "tripled")
    checks = _grade_double(tmp_path, "return 2 * x.reshape(-1)", oracle)  # not on a list
    assert checks["double matches"][:2] == (False, "refuses lists")
    assert checks["double is not too large"][:2] == (True, None)
    checks = _grade_double(tmp_path, "return 2 * np.asarray(x) + 1", oracle)  # unlisted
    assert checks["double matches"][:2] == (False, None)
    assert checks["double is not too large"][:2] == (False, None)
    checks = _grade_double(tmp_path, "return 4 * np.asarray(x)", oracle)  # read from values
    assert checks["double matches"][:2] == (False, "factor 2")
    checks = _grade_double(tmp_path, "return 2 * np.asarray(x)", oracle)
    assert all(passed for passed, _, _ in checks.values())


def test_function_check_names_mistakes_from_stored_results_only(tmp_path):
    solutions = tmp_path / "solutions"
    (solutions / "mistakes").mkdir(parents=True)
    (solutions / "ex98_double.py").write_text(DEMO_SOLUTION)
    (solutions / "mistakes" / "ex98_double.py").write_text(DEMO_MISTAKES)
    keys = [ref.key for ref in DEMO.refs()]
    assert "double matches/a list :: mistake :: refuses lists" in keys
    assert "double is not too large/an array :: mistake :: tripled" in keys
    raised = DEMO.checks[0].refs[-1]
    assert LiveOracle(solutions).expected(DEMO, raised) == Raised("TypeError")
    _diagnoses(tmp_path, LiveOracle(solutions))
    build([DEMO], solutions, tmp_path / "store")
    shutil.rmtree(solutions)  # grading from the store needs neither solutions nor mistakes
    assert StoredOracle(tmp_path / "store").expected(DEMO, raised) == Raised("TypeError")
    _diagnoses(tmp_path, StoredOracle(tmp_path / "store"))


def test_mistakes_with_code_in_hidden_checks_are_reference_values_too():
    impl = Mistake("tripled", "triples", impl=lambda x: 3 * x)
    check = function_check("double", DEMO_CASES, name="hidden: double", mistakes=[impl],
                           hidden=True)
    predicted = [ref.compute(None) for ref in check.refs if ":: mistake ::" in ref.key]
    assert np.array_equal(predicted[0], [0.0, 3.0, 6.0]) and predicted[1] == [1.0, 2.0] * 3


def test_fingerprint_changes_with_inputs():
    a = np.arange(4.0)
    assert fingerprint((a, {"k": 1})) == fingerprint((a.copy(), {"k": 1}))
    assert fingerprint(a) != fingerprint(a.astype(np.float32))
    assert fingerprint(a) != fingerprint(a.reshape(2, 2))


@pytest.mark.slow  # grades or recomputes every exercise, Keras ones included
def test_stored_values_match_the_solutions():
    assert stale(all_exercises(), SOLUTIONS) == []


@pytest.mark.parametrize(("drift", "new_value", "is_stale"), [
    (0.0, "0.47", True), (0.25, "0.47", False), (0.25, "0.9", True)])
def test_a_stored_figure_may_drift_only_as_far_as_its_ref_allows(tmp_path, drift, new_value,
                                                                  is_stale):
    ref = Ref("figure", "inputs", lambda solution: solution.figure(), drift=drift)
    exercise = Exercise("ex99", "ex99_figure", "demo",
                        checks=(Check("c", 1, lambda ctx: "ok", refs=(ref,)),))
    (tmp_path / "ex99_figure.py").write_text("def figure():\n    return 0.46\n")
    build([exercise], tmp_path, tmp_path / "store")
    later = tmp_path / "later"
    later.mkdir()
    (later / "ex99_figure.py").write_text(f"def figure():\n    return {new_value}\n")
    problems = stale([exercise], later, tmp_path / "store")
    assert bool(problems) == is_stale, problems


@pytest.mark.parametrize("argv, needle", [
    (["--check", "--solutions", "{tmp}/none"], "error: no reference solutions at {tmp}/none"),
    (["--check", "ex99"], "error: unknown exercise 'ex99'"),
])
def test_the_store_command_fails_in_one_line(argv, needle, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([a.format(tmp=tmp_path) for a in argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(needle.format(tmp=tmp_path)) and err.count("\n") == 1, err


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


def test_a_reference_key_stands_for_one_computation_within_each_exercise():
    """Two references under one key would share a stored value: mistakes of different classes
    named alike ("dout ignored" of MulLayer and of AddLayer) once did."""
    for exercise in all_exercises():
        seen: dict[str, str] = {}
        for ref in exercise.refs():
            made = fingerprint(ref.inputs)
            assert seen.setdefault(ref.key, made) == made, (exercise.id, ref.key)
        mistake_refs = [r.key for c in exercise.checks for r in c.refs if ":: mistake ::" in r.key]
        assert len(set(mistake_refs)) == len(mistake_refs), exercise.id


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
