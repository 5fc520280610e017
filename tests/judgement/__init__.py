"""A corpus of learners' submissions, buggy and correct, and how to judge the grader on them.

Each ``tests/judgement/exNN.py`` defines ``BUGGY: list[Buggy]`` and ``CORRECT: list[Correct]``:
submissions written the way learners write them (from the book's editions, their study
repositories, CS231n), each one the reference solution with some definitions replaced. A buggy
submission states the mistake it makes (the diagnosis ids a failed check may carry) and the
checks it must fail; every other check must pass. The tests (``tests/test_judgement.py``) and
``benchmarks/bench_diagnosis.py`` grade them all and measure the grader's judgement:

- *named*: a failed check carries one of the submission's diagnoses;
- *wrong*: a failed check carries a diagnosis that is not one of them;
- *unfair*: a check not in ``charged`` failed (a correct function lost a point);
- *missed*: a check in ``charged`` passed (the bug went unnoticed there).
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from conftest import SOLUTIONS, TEST_LIMITS, write_variant
from grader.engine import grade_submission
from grader.registry import load
from grader.result import ExerciseResult
from grader.runner.submission import locate

#: The corpus modules, one per exercise.
MODULES = tuple(sorted(p.stem for p in Path(__file__).parent.glob("ex*.py")))


@dataclass(frozen=True)
class Buggy:
    """A buggy submission: ``module``'s solution with ``replacements`` (name -> source).

    ``diagnosis``: the ids (``CheckResult.diagnosis``) that name this mistake; at least one failed
    check must carry one, and no failed check may carry any other. ``charged``: the names of
    the checks that must fail; every other public check must pass. ``unnamed``: why no
    diagnosis can name it yet (it then counts as not named, and the test only asks that no
    wrong diagnosis is shown); empty for a mistake the grader must name.
    """

    label: str
    module: str
    replacements: dict[str, str]
    diagnosis: tuple[str, ...]
    charged: tuple[str, ...]
    prelude: str = ""
    unnamed: str = ""
    slow: bool = False


@dataclass(frozen=True)
class Correct:
    """Correct code the spec allows, as learners write it: it must score full marks."""

    label: str
    module: str
    replacements: dict[str, str]
    prelude: str = ""
    slow: bool = False


@dataclass
class Verdict:
    """How the grader judged one buggy submission (see the module's docstring)."""

    named: bool
    wrong: list[str] = field(default_factory=list)
    unfair: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)


def judge(case: Buggy, result: ExerciseResult) -> Verdict:
    """The verdict on ``result``, the grading of ``case``."""
    failed = [c for c in result.checks if not c.passed and not c.hidden]
    shown = {c.diagnosis for c in failed if c.diagnosis}
    return Verdict(
        named=bool(shown & set(case.diagnosis)),
        wrong=sorted(f"{c.name}: {c.diagnosis}" for c in failed
                     if c.diagnosis and c.diagnosis not in case.diagnosis),
        unfair=sorted(c.name for c in failed if c.name not in case.charged),
        missed=sorted(name for name in case.charged
                      if name not in {c.name for c in failed}),
    )


def graded(case: Buggy | Correct, folder: Path) -> ExerciseResult:
    """Grade ``case`` from ``folder``: its variant, beside the reference solutions of the
    exercises its exercise builds on (``requires``: ex08 imports ex03 and ex05 to ex07), with
    the exercise's own limits when it has some (training takes longer than a call of the test
    limits) and without grading those exercises (their solutions are the reference)."""
    exercise = load(case.module[:4])
    write_variant(folder, case.module, case.replacements, case.prelude)
    if exercise.requires:
        for path in SOLUTIONS.glob("ex[0-9][0-9]_*.py"):
            if path.stem != case.module:
                shutil.copy(path, folder / path.name)
    return grade_submission(exercise, locate(folder, case.module),
                            limits=exercise.limits or TEST_LIMITS, prerequisites=False)


def corpus(module: str) -> tuple[list[Buggy], list[Correct]]:
    """The buggy and correct submissions of ``tests/judgement/<module>.py``."""
    loaded = importlib.import_module(f"judgement.{module}")
    return list(getattr(loaded, "BUGGY", [])), list(getattr(loaded, "CORRECT", []))


def everything() -> Iterator[Buggy | Correct]:
    """Every submission of the corpus, exercise by exercise."""
    for module in MODULES:
        buggy, correct = corpus(module)
        yield from buggy
        yield from correct
