"""What one batch task runs with: the --timeout per call, and the training exercises' budgets."""

from __future__ import annotations

from grader.batch.worker import limits_for
from grader.registry import load
from grader.runner.limits import Limits


def test_the_batch_timeout_replaces_the_default_per_call_limit():
    assert load("ex01").limits is None
    assert limits_for(load("ex01"), 2.0).call_timeout == 2.0
    assert limits_for(load("ex01"), None) == Limits()


def test_a_training_exercise_keeps_its_longer_budget_but_can_be_given_more():
    own = load("ex08").limits.call_timeout
    assert own > 2.0
    assert limits_for(load("ex08"), 2.0).call_timeout == own
    assert limits_for(load("ex08"), own + 10).call_timeout == own + 10
    assert limits_for(load("ex08"), 2.0).memory_bytes == load("ex08").limits.memory_bytes
