"""Scenario checks end to end: one scenario, run on a reference and on learner code."""

from __future__ import annotations

import numpy as np

from conftest import TEST_LIMITS
from grader.checks import Exercise, Mistake, scenario_check
from grader.engine import grade_submission
from grader.expected import LiveOracle, StoredOracle, build
from grader.runner.submission import locate

X = np.arange(6.0).reshape(3, 2)
DOUT = np.ones((3, 2))

REFERENCE = """
import numpy as np

class Scale:
    def __init__(self, k):
        self.k, self.dk = k, None

    def forward(self, x):
        self.x = x
        return self.k * x

    def backward(self, dout):
        self.dk = np.sum(dout * self.x, axis=0)
        dout *= self.k  # allowed: backward may modify dout
        return dout
"""


def scale_scenario(api):
    layer = api.new("Scale", np.array([2.0, 3.0]))
    out = api.call(layer, "forward", X)
    dx = api.call(layer, "backward", DOUT, may_modify=(0,))
    return {"out": out, "dx": dx, "dk": api.attr(layer, "dk")}


NOT_SUMMED = Mistake("dk not summed", "dk keeps one row per sample",
                     derive=lambda e: {"dk": DOUT * X})
EXERCISE = Exercise("ex99", "ex99_scale", "demo", checks=(
    scenario_check("Scale forward and backward", scale_scenario, inputs=(X, DOUT),
                   mistakes=[NOT_SUMMED]),
))


def grade_source(tmp_path, source):
    (tmp_path / "solutions").mkdir(exist_ok=True)
    (tmp_path / "solutions" / "ex99_scale.py").write_text(REFERENCE)
    learner = tmp_path / "learner.py"
    learner.write_text(source)
    return grade_submission(EXERCISE, locate(learner, "ex99_scale"),
                            oracle=LiveOracle(tmp_path / "solutions"), limits=TEST_LIMITS)


def test_reference_passes_a_scenario_run_through_the_runner(tmp_path):
    result = grade_source(tmp_path, REFERENCE)
    assert result.full_marks, result.checks


def test_derived_mistake_is_named(tmp_path):
    result = grade_source(tmp_path, REFERENCE.replace("np.sum(dout * self.x, axis=0)",
                                                      "dout * self.x"))
    check = result.checks[0]
    assert not check.passed and check.diagnosis == "dk not summed"
    assert "dk: got shape (3, 2), expected shape (2,)" in check.output


def test_other_wrong_results_fail_without_a_diagnosis(tmp_path):
    result = grade_source(tmp_path, REFERENCE.replace("return self.k * x", "return x"))
    check = result.checks[0]
    assert not check.passed and check.diagnosis is None and check.output.startswith("out:")


def test_forward_modifying_its_input_is_caught(tmp_path):
    source = REFERENCE.replace("return self.k * x", "x *= self.k\n        return x")
    check = grade_source(tmp_path, source).checks[0]
    assert not check.passed and check.diagnosis == "modifies its input"


FIXTURE_USER = """
import numpy as np

def apply(f, x):
    return f(x)
"""


def fixture_scenario(api):
    return {"cubic": api.call("apply", None, api.fixture("cubic_sum"), np.arange(3.0))}


def test_a_grader_fixture_function_can_be_passed_to_learner_code(tmp_path):
    exercise = Exercise("ex99", "ex98_apply", "demo", checks=(
        scenario_check("apply a fixture", fixture_scenario, inputs=("cubic",)),))
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "ex98_apply.py").write_text(FIXTURE_USER)
    learner = tmp_path / "learner.py"
    learner.write_text(FIXTURE_USER)
    result = grade_submission(exercise, locate(learner, "ex98_apply"),
                              oracle=LiveOracle(tmp_path / "solutions"), limits=TEST_LIMITS)
    assert result.full_marks, result.checks


COUNTER = """
class Counter:
    def __init__(self):
        self.n = 0

    def step(self, k):
        self.n += k
        return self.n
"""
FORGETFUL = """
class ForgetfulCounter:
    def step(self, k):
        self.n = 0  # state re-created on every call
        self.n += k
        return self.n
"""


def counter_scenario(api):
    counter = api.new("Counter")
    return {"steps": [api.call(counter, "step", k) for k in (1, 2, 3)]}


def test_variant_mistake_is_stored_from_instructor_code_and_named(tmp_path):
    forgets = Mistake("state not kept", "the counter forgets its state between calls",
                      variant={"Counter": "ForgetfulCounter"})
    exercise = Exercise("ex96", "ex96_counter", "demo", checks=(
        scenario_check("Counter keeps its state", counter_scenario, inputs=("steps",),
                       mistakes=[forgets]),))
    solutions = tmp_path / "solutions"
    (solutions / "mistakes").mkdir(parents=True)
    (solutions / "ex96_counter.py").write_text(COUNTER)
    (solutions / "mistakes" / "ex96_counter.py").write_text(FORGETFUL)
    build([exercise], solutions, tmp_path / "store")
    buggy = tmp_path / "learner.py"
    buggy.write_text(COUNTER.replace("self.n += k", "self.n = 0\n        self.n += k"))
    result = grade_submission(exercise, locate(buggy, "ex96_counter"),
                              oracle=StoredOracle(tmp_path / "store"), limits=TEST_LIMITS)
    check = result.checks[0]
    assert not check.passed and check.diagnosis == "state not kept", check.output
    honest = tmp_path / "honest.py"
    honest.write_text(COUNTER)
    result = grade_submission(exercise, locate(honest, "ex96_counter"),
                              oracle=StoredOracle(tmp_path / "store"), limits=TEST_LIMITS)
    assert result.full_marks


DOUBLING = """
class DoublingCounter:
    def __init__(self):
        self.n = 0

    def step(self, k):
        self.n += 2 * k
        return self.n
"""


def test_mistakes_of_different_classes_may_share_a_name(tmp_path):
    """Each keeps its own stored prediction ("dout ignored" of MulLayer and of AddLayer)."""
    forgets = Mistake("wrong state", "the counter forgets its state between calls",
                      variant={"Counter": "ForgetfulCounter"})
    doubles = Mistake("wrong state", "the counter adds twice the step",
                      variant={"Counter": "DoublingCounter"})
    exercise = Exercise("ex96", "ex96_counter", "demo", checks=(
        scenario_check("Counter keeps its state", counter_scenario, inputs=("steps",),
                       mistakes=[forgets, doubles]),))
    assert len(exercise.checks[0].refs) == 3  # the reference and one per mistake
    solutions = tmp_path / "solutions"
    (solutions / "mistakes").mkdir(parents=True)
    (solutions / "ex96_counter.py").write_text(COUNTER)
    (solutions / "mistakes" / "ex96_counter.py").write_text(FORGETFUL + DOUBLING)
    build([exercise], solutions, tmp_path / "store")
    for bug, message in [("self.n = 0\n        self.n += k", forgets.message),
                         ("self.n += 2 * k", doubles.message)]:
        learner = tmp_path / "learner.py"
        learner.write_text(COUNTER.replace("self.n += k", bug))
        check = grade_submission(exercise, locate(learner, "ex96_counter"),
                                 oracle=StoredOracle(tmp_path / "store"),
                                 limits=TEST_LIMITS).checks[0]
        assert not check.passed and check.diagnosis == "wrong state", check.output
        assert message in check.output, check.output


UPDATER = """
import numpy as np

def scale_all(params, k):
    for key in params:
        params[key] *= k
"""


def updater_scenario(api):
    value, after = api.call_with_args("scale_all", None, {"a": np.ones(2), "b": np.zeros(1)}, 3.0)
    return {"returned": value is None, "a": after[0]["a"], "b": after[0]["b"]}


def test_call_with_args_shows_in_place_updates(tmp_path):
    exercise = Exercise("ex95", "ex95_updater", "demo", checks=(
        scenario_check("scale_all updates in place", updater_scenario, inputs=("u",)),))
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "ex95_updater.py").write_text(UPDATER)
    learner = tmp_path / "learner.py"
    learner.write_text(UPDATER)
    oracle = LiveOracle(tmp_path / "solutions")
    assert oracle.expected(exercise, exercise.checks[0].refs[0])["a"].tolist() == [3.0, 3.0]
    result = grade_submission(exercise, locate(learner, "ex95_updater"), oracle=oracle,
                              limits=TEST_LIMITS)
    assert result.full_marks, result.checks
    learner.write_text(UPDATER.replace("params[key] *= k", "params[key] = params[key] * 1"))
    result = grade_submission(exercise, locate(learner, "ex95_updater"), oracle=oracle,
                              limits=TEST_LIMITS)
    assert not result.full_marks and result.checks[0].output.startswith("a:")


def test_reference_api_passes_objects_it_handed_out_without_copying_them():
    import types

    from grader.checks import ReferenceApi

    module = types.SimpleNamespace(scale_all=lambda params, k: [params[key].__imul__(k)
                                                                  for key in params])
    api = ReferenceApi(module)
    params = api.ref(api.fixture("new_dict"), None, a=np.ones(2))
    original = api.ref(params, "__getitem__", "a")
    api.call("scale_all", None, params, 3.0)
    assert api.call(original, "copy", None).tolist() == [3.0, 3.0]
    plain = {"a": np.ones(2)}
    api.call("scale_all", None, plain, 3.0)
    assert plain["a"].tolist() == [1.0, 1.0]  # plain data is copied, as over the pipe


def test_mistakes_that_predict_the_same_values_are_named_together(tmp_path):
    # Reset and forgetting give the same steps here; a doubled step gives others.
    resets = Mistake("reset", "step starts again from 0", derive=lambda e: {"steps": [1, 2, 3]})
    forgets = Mistake("state not kept", "the counter forgets its state between calls",
                      variant={"Counter": "ForgetfulCounter"})
    doubles = Mistake("doubled", "step adds 2k", derive=lambda e: {"steps": [2, 6, 12]})
    exercise = Exercise("ex94", "ex94_counter", "demo", checks=(
        scenario_check("Counter keeps its state", counter_scenario, inputs=("steps",),
                       mistakes=[doubles, resets, forgets]),))
    solutions = tmp_path / "solutions"
    (solutions / "mistakes").mkdir(parents=True)
    (solutions / "ex94_counter.py").write_text(COUNTER)
    (solutions / "mistakes" / "ex94_counter.py").write_text(FORGETFUL)
    learner = tmp_path / "learner.py"

    def graded(source: str):
        learner.write_text(source)
        return grade_submission(exercise, locate(learner, "ex94_counter"),
                                oracle=LiveOracle(solutions), limits=TEST_LIMITS).checks[0]

    check = graded(COUNTER.replace("self.n += k", "self.n = k"))
    assert (check.passed, check.diagnosis) == (False, "reset or state not kept")
    assert check.output.startswith("one of these (its results here cannot tell them apart): "
                                   "step starts again from 0; or the counter forgets its state")
    check = graded(COUNTER.replace("self.n += k", "self.n += 2 * k"))
    assert (check.diagnosis, check.output.split(". ")[0]) == ("doubled", "step adds 2k")
