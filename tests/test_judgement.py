"""The grader's judgement on the corpus of learners' submissions (tests/judgement/).

Every buggy submission fails exactly the checks it should (no correct function loses a point,
no bug goes unnoticed), is named by its own diagnosis and by no other; every correct idiom
scores full marks. ``benchmarks/bench_diagnosis.py`` prints the same measures as figures.
"""

from __future__ import annotations

import pytest
from judgement import Buggy, Correct, everything, graded, judge


def _param(case: Buggy | Correct):
    marks = [pytest.mark.slow] if case.slow else []
    return pytest.param(case, id=f"{case.module[:4]}: {case.label}", marks=marks)


BUGGY = [_param(c) for c in everything() if isinstance(c, Buggy)]
CORRECT = [_param(c) for c in everything() if isinstance(c, Correct)]


@pytest.mark.parametrize("case", BUGGY)
def test_a_buggy_submission_is_named_and_charged_where_it_fails(case: Buggy, tmp_path):
    verdict = judge(case, graded(case, tmp_path))
    assert verdict.wrong == [], "a diagnosis the code does not support"
    assert verdict.unfair == [], "a check of correct code lost its point"
    assert verdict.missed == [], "the bug passed a check that should catch it"
    if not case.unnamed:
        assert verdict.named, f"none of {case.diagnosis} was named"


@pytest.mark.parametrize("case", CORRECT)
def test_correct_code_as_learners_write_it_gets_full_marks(case: Correct, tmp_path):
    result = graded(case, tmp_path)
    assert [(c.name, c.output) for c in result.checks if not c.passed] == []
