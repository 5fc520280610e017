"""Results of grading: one CheckResult per check, gathered in an ExerciseResult."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check.

    ``status`` is ``"passed"`` or ``"failed"``; ``diagnosis`` names the known mistake the
    failure matches, when one does; ``hidden`` checks show only their name and points.
    """

    name: str
    score: float
    max_score: float
    status: str
    output: str
    diagnosis: str | None = None
    hidden: bool = False

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_json(self) -> dict:
        """The Gradescope ``results.json`` test fields (plus ``diagnosis`` when set)."""
        data = {
            "name": self.name,
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status,
            "output": self.output,
        }
        if self.diagnosis:
            data["diagnosis"] = self.diagnosis
        if self.hidden:
            data["visibility"] = "after_published"
        return data


@dataclass
class ExerciseResult:
    """Every check's result for one exercise and one submission.

    ``error`` is a one-line message when the submission could not be graded at all
    (its checks then all failed); ``learner_output`` is what the learner's code printed.
    """

    exercise: str
    title: str
    graded_file: str
    checks: list[CheckResult] = field(default_factory=list)
    error: str | None = None
    learner_output: str = ""
    other_file: str | None = None  # the .py/.ipynb twin that was not graded
    notes: list[str] = field(default_factory=list)  # said before the checks, e.g. prerequisites

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 6)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks), 6)

    @property
    def full_marks(self) -> bool:
        return self.score >= self.max_score

    def to_json(self) -> dict:
        """``{"exercise", "score", "max_score", "tests": [...]}`` plus context fields."""
        data = {
            "exercise": self.exercise,
            "title": self.title,
            "graded_file": self.graded_file,
            "score": self.score,
            "max_score": self.max_score,
            "tests": [c.to_json() for c in self.checks],
        }
        if self.other_file:
            data["other_file"] = self.other_file
        if self.notes:
            data["notes"] = list(self.notes)
        if self.error:
            data["error"] = self.error
        if self.learner_output:
            data["learner_output"] = self.learner_output
        return data
