"""The library's probes of a failed check (grader/checks/kinds.py: probing, confirmed_probe,
naming_when_raising): a probe names the mistake it confirms in the learner's code, only on the
failures it may explain, and never on a failure that cannot come from the code's values."""

from __future__ import annotations

import pytest

from grader.checks import (
    Check,
    CheckFailed,
    Mistake,
    confirmed_probe,
    naming_when_raising,
    probing,
    unexplained,
)

STORED = Mistake("not stored", "forward does not keep x")
OTHER = Mistake("other", "something else")


def failing(failure: CheckFailed) -> Check:
    def run(ctx) -> str:
        raise failure

    return Check("a check", 1, run)


def outcome(check: Check) -> tuple[str | None, str]:
    try:
        return None, check.run(None)
    except CheckFailed as failure:
        return failure.diagnosis, failure.message


RAISED = CheckFailed("TypeError: NoneType has no len", kind="exception", exception="TypeError")
WRONG = CheckFailed("largest error 0.5 at index 0")


def test_a_confirmed_probe_names_its_mistake_and_keeps_the_failure_detail():
    probe = confirmed_probe(STORED, lambda f: f.kind == "exception", lambda ctx: True)
    diagnosis, message = outcome(probing(failing(RAISED), probe))
    assert diagnosis == "not stored"
    assert message == "forward does not keep x. TypeError: NoneType has no len"


@pytest.mark.parametrize("when, confirm", [
    (lambda f: f.kind == "exception", lambda ctx: False),  # not found in the code
    (lambda f: False, lambda ctx: True),  # not a failure it explains
])
def test_a_probe_that_is_not_confirmed_leaves_the_failure_as_it_was(when, confirm):
    diagnosis, message = outcome(probing(failing(RAISED), confirmed_probe(STORED, when, confirm)))
    assert (diagnosis, message) == (None, RAISED.message)


def test_a_probe_that_fails_on_the_learners_code_finds_nothing_and_the_next_one_runs():
    def broken(ctx) -> bool:
        raise CheckFailed("the learner's code raised in the probe")

    first = confirmed_probe(OTHER, lambda f: True, broken)
    second = confirmed_probe(STORED, lambda f: True, lambda ctx: True)
    assert outcome(probing(failing(WRONG), first, second))[0] == "not stored"


@pytest.mark.parametrize("kind", ["timeout", "crashed", "not_implemented", "import"])
def test_failures_that_are_not_about_values_are_never_probed(kind):
    probe = confirmed_probe(STORED, lambda f: True, lambda ctx: True)
    failure = CheckFailed("stopped", kind=kind)
    assert outcome(probing(failing(failure), probe)) == (None, "stopped")


def test_a_named_value_failure_keeps_its_name_but_an_exceptions_reading_gives_way():
    named = CheckFailed("factor 2", diagnosis="factor 2")
    general = CheckFailed("keep the axis", diagnosis="missing keepdims", kind="exception")
    assert not unexplained(named) and unexplained(general) and unexplained(WRONG)
    probe = confirmed_probe(STORED, lambda f: True, lambda ctx: True)
    assert outcome(probing(failing(named), probe))[0] == "factor 2"
    assert outcome(probing(failing(general), probe))[0] == "not stored"


def test_a_passing_check_is_never_probed():
    def probe(ctx, failure):
        raise AssertionError("probed a passing check")

    assert probing(Check("ok", 1, lambda ctx: "fine"), probe).run(None) == "fine"


def test_naming_when_raising_names_only_unnamed_exceptions():
    check = naming_when_raising(failing(RAISED), STORED, lambda ctx: True)
    assert outcome(check)[0] == "not stored"
    assert outcome(naming_when_raising(failing(WRONG), STORED, lambda ctx: True))[0] is None
    named = CheckFailed("x", diagnosis="other", kind="exception")
    assert outcome(naming_when_raising(failing(named), STORED, lambda ctx: True))[0] == "other"
