"""The time budget of an exercise: slow but correct code, a call that never returns or a child
that must be restarted again and again cannot hold a worker longer than the budget allows."""

from __future__ import annotations

import time

import pytest

from conftest import SOLUTIONS, TEST_LIMITS, write_variant
from grader.batch.run import worst_case
from grader.batch.worker import RUN_OVERHEAD, limits_for, worst_case_seconds
from grader.checks.base import BUDGET_KIND, Budget, budget_message
from grader.cli import _duration
from grader.engine import grade_path, with_timeout
from grader.registry import load
from grader.result import fault_of
from grader.runner.limits import BUDGET_CALLS, Limits

EX01 = "ex01_activations"
#: What a grading may take beyond its budget: the import (a fraction of a second here, bounded
#: by its own timeout) and stopping the child; far below what the budget saves in each test.
MARGIN = 3.0
#: Appended to a solution: every public function sleeps this long per call, then answers right.
SLEEP = 0.9
SLEEPY = f"""

import functools as _functools
import time as _time


def _sleepy(function):
    @_functools.wraps(function)
    def slow(*args, **kwargs):
        _time.sleep({SLEEP})
        return function(*args, **kwargs)
    return slow


for _name, _value in list(globals().items()):
    if callable(_value) and getattr(_value, "__module__", None) == __name__ \\
            and not _name.startswith("_"):
        globals()[_name] = _sleepy(_value)
"""


def timed_grade(path, limits):
    start = time.monotonic()
    result = grade_path(load("ex01"), path, limits=limits)
    return result, time.monotonic() - start


def split_at_budget(result):
    """The checks before the first one the budget cut, and that one with all after it."""
    cut = next(i for i, c in enumerate(result.checks) if c.kind == BUDGET_KIND)
    return result.checks[:cut], result.checks[cut:]


def test_slow_correct_code_keeps_the_points_earned_before_the_budget_ran_out(tmp_path):
    path = tmp_path / f"{EX01}.py"
    path.write_text((SOLUTIONS / f"{EX01}.py").read_text() + SLEEPY)
    budget = 4.0
    limits = Limits(call_timeout=3.0, import_timeout=5.0, exercise_seconds=budget)
    result, seconds = timed_grade(path, limits)
    before, after = split_at_budget(result)
    assert before and all(c.passed for c in before), [c.output for c in before]
    message = budget_message(budget)
    assert message == "time budget for this exercise used up (4 s)"
    assert after and all(not c.passed and c.output == message and c.kind == BUDGET_KIND
                         and c.score == 0 for c in after)
    assert result.score == sum(c.max_score for c in before) > 0
    assert result.fault == "timeout"  # counted as a timeout in a batch's failed runs
    # Without the budget each of ex01's many calls would sleep 0.9 s: 85 s (measured).
    assert seconds < budget + MARGIN


def test_the_budget_also_bounds_one_call_that_is_within_its_own_timeout(variant):
    path = variant(EX01, {"sigmoid": "def sigmoid(x):\n    import time\n    time.sleep(60)"})
    limits = Limits(call_timeout=30.0, import_timeout=5.0, exercise_seconds=2.0)
    result, seconds = timed_grade(path, limits)
    first = next(c for c in result.checks if "sigmoid" in c.name)
    assert first.output == budget_message(2.0) and first.kind == BUDGET_KIND
    assert seconds < 2.0 + MARGIN  # not the call's own 30 s
    assert any(c.passed for c in result.checks)  # the checks before sigmoid's kept their points


def test_the_budget_bounds_restarting_a_child_that_crashes_on_every_call(tmp_path):
    # Every call kills the child, and every restart imports the code again (0.5 s here): a
    # budget that bounded only calls would let this take 16 s (measured).
    replacements = {name: f"def {name}(*args, **kwargs):\n    import os\n    os._exit(3)"
                    for name in ("step_function", "sigmoid", "sigmoid_grad", "tanh", "tanh_grad",
                                 "relu", "relu_grad", "leaky_relu", "leaky_relu_grad", "elu",
                                 "elu_grad", "softmax", "identity_function")}
    path = write_variant(tmp_path, EX01, replacements, prelude="import time\ntime.sleep(0.5)\n")
    limits = Limits(call_timeout=3.0, import_timeout=5.0, exercise_seconds=2.0)
    result, seconds = timed_grade(path, limits)
    assert result.score == 0
    assert any(c.kind == "crashed" for c in result.checks)
    assert result.checks[-1].output == budget_message(2.0)
    assert seconds < 0.5 + 2.0 + MARGIN


def test_honest_code_is_far_inside_the_budget():
    result, seconds = timed_grade(SOLUTIONS, TEST_LIMITS)  # about 0.3 s of its 9 s
    assert result.full_marks and not any(c.kind == BUDGET_KIND for c in result.checks)


def test_a_budget_refuses_calls_once_used_up():
    now = [100.0]
    budget = Budget(5.0, clock=lambda: now[0])
    assert budget.left() == 5.0 and not budget.used_up
    now[0] = 106.0
    assert budget.left() == -1.0
    failure = budget.failure()
    assert budget.used_up and failure.kind == BUDGET_KIND
    assert failure.message == "time budget for this exercise used up (5 s)"
    assert fault_of([None, BUDGET_KIND]) == "timeout"


# --------------------------------------------------------------------------- the stated rule


def test_the_default_budget_is_a_number_of_per_call_timeouts_and_follows_the_timeout():
    assert Limits().budget == BUDGET_CALLS * Limits().call_timeout == 30.0
    assert with_timeout(Limits(), 2.0).budget == BUDGET_CALLS * 2.0
    own = Limits(call_timeout=4.0, exercise_seconds=10.0)
    assert with_timeout(own, 8.0).budget == 20.0  # a budget of its own scales the same way
    assert with_timeout(own, None) is own
    with pytest.raises(ValueError, match="exercise_seconds"):
        Limits(exercise_seconds=0)


@pytest.mark.parametrize(("exercise", "timeout", "budget"), [
    ("ex01", None, 30.0), ("ex01", 2.0, 6.0), ("ex07", 20.0, 60.0),
    ("ex08", None, 90.0), ("ex08", 2.0, 90.0), ("ex09", None, 180.0), ("ex10", 100.0, 300.0),
])
def test_each_exercise_budget(exercise, timeout, budget):
    limits = limits_for(load(exercise), timeout)
    assert limits.budget == budget
    assert worst_case_seconds(load(exercise), timeout) == (
        budget + limits.import_timeout + RUN_OVERHEAD)


def test_the_worst_case_of_a_class():
    # 100 students, ex01 and ex02, 2 jobs: 100 x 2 x (30 + 20 + 5) / 2
    assert worst_case(["ex01", "ex02"], None, 100, 2) == 100 * 2 * 55 / 2
    assert worst_case(["ex01"], 2.0, 1, 8) == 6 + 20 + RUN_OVERHEAD  # one run: one job
    assert worst_case(["ex01"], None, 0, 2) == 0.0
    assert [_duration(s) for s in (42, 720, 11100)] == ["42 s", "12 min", "3 h 05 min"]
