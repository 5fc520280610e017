"""Results of grading: one CheckResult per check, gathered in an ExerciseResult."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check.

    ``status`` is ``"passed"`` or ``"failed"``; ``diagnosis`` names the known mistake the
    failure matches, when one does; ``kind`` is the runner's error kind when the learner's code
    itself failed (``"timeout"``, ``"crashed"``, ``"exception"``...); ``hidden`` checks show
    only their name and points to learners; ``seconds`` is the check's wall time, when measured.
    """

    name: str
    score: float
    max_score: float
    status: str
    output: str
    diagnosis: str | None = None
    hidden: bool = False
    kind: str | None = None
    seconds: float | None = None

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
        if self.kind:
            data["kind"] = self.kind
        if self.hidden:
            data["visibility"] = "after_published"
        if self.seconds is not None:
            data["seconds"] = self.seconds
        return data

    @classmethod
    def from_json(cls, data: dict) -> CheckResult:
        """The CheckResult that ``to_json`` described."""
        return cls(
            name=str(data["name"]),
            score=float(data["score"]),
            max_score=float(data["max_score"]),
            status=str(data["status"]),
            output=str(data.get("output", "")),
            diagnosis=data.get("diagnosis"),
            hidden=data.get("visibility") == "after_published",
            kind=data.get("kind"),
            seconds=_seconds(data.get("seconds")),
        )

    def redacted(self) -> CheckResult:
        """What a learner may see of this result: a hidden check keeps its name and points,
        and loses its wall time (code that sleeps by its inputs would show them)."""
        if not self.hidden:
            return self
        word = "passed" if self.passed else "failed"
        return replace(self, output=f"hidden check {word}", diagnosis=None, kind=None,
                       seconds=None)


@dataclass
class ExerciseResult:
    """Every check's result for one exercise and one submission.

    ``error`` is a one-line message when the submission could not be graded at all (its
    checks then all failed, each only referring to it: reports show it once, above them);
    ``learner_output`` is what the learner's code printed;
    ``fault`` is ``"timeout"`` or ``"crashed"`` when the learner's code hung or died (at import
    or in a check), else None; ``seconds`` is the wall time of grading it, when measured;
    ``hidden_output`` is what the code printed while hidden checks ran (instructors only).
    """

    exercise: str
    title: str
    graded_file: str
    checks: list[CheckResult] = field(default_factory=list)
    error: str | None = None
    learner_output: str = ""
    other_file: str | None = None  # the .py/.ipynb twin that was not graded
    notes: list[str] = field(default_factory=list)  # said before the checks, e.g. prerequisites
    fault: str | None = None
    seconds: float | None = None
    hidden_output: str = ""

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
        }
        if self.error:  # before the tests, which refer to it ("see above")
            data["error"] = self.error
        data["tests"] = [c.to_json() for c in self.checks]
        if self.other_file:
            data["other_file"] = self.other_file
        if self.notes:
            data["notes"] = list(self.notes)
        if self.learner_output:
            data["learner_output"] = self.learner_output
        if self.fault:
            data["fault"] = self.fault
        if self.seconds is not None:
            data["seconds"] = self.seconds
        if self.hidden_output:
            data["hidden_output"] = self.hidden_output
        return data

    @classmethod
    def from_json(cls, data: dict) -> ExerciseResult:
        """The ExerciseResult that ``to_json`` described."""
        return cls(
            exercise=str(data["exercise"]),
            title=str(data.get("title", "")),
            graded_file=str(data.get("graded_file", "")),
            checks=[CheckResult.from_json(test) for test in data.get("tests", [])],
            error=data.get("error"),
            learner_output=str(data.get("learner_output", "")),
            other_file=data.get("other_file"),
            notes=list(data.get("notes", [])),
            fault=data.get("fault"),
            seconds=_seconds(data.get("seconds")),
            hidden_output=str(data.get("hidden_output", "")),
        )

    def redacted(self) -> ExerciseResult:
        """What a learner may see: hidden checks reduced to their name and points, without
        their wall time, what the code printed during them or a fault that only they met.

        With hidden checks, the exercise's ``seconds`` become the sum of its visible checks'
        (without the import), so that the total does not reveal the hidden checks' time either.
        """
        if not any(c.hidden for c in self.checks):
            return replace(self, checks=list(self.checks), hidden_output="")
        fault = self.fault
        if self.error is None:
            fault = fault_of([c.kind for c in self.checks if not c.hidden])
        visible = [c.seconds for c in self.checks if not c.hidden]
        seconds = round(sum(visible), 3) if visible and None not in visible else None
        return replace(self, checks=[c.redacted() for c in self.checks], hidden_output="",
                       fault=fault, seconds=seconds)


#: Runner error kinds that mean the learner's process hung or died, and what they count as.
#: "budget": the exercise's time budget ran out (grader.checks.base.BUDGET_KIND).
_FAULTS = {"timeout": "timeout", "budget": "timeout", "crashed": "crashed", "memory": "crashed"}


def fault_of(kinds: list[str | None]) -> str | None:
    """"timeout" or "crashed" when any of the checks' runner error ``kinds`` says so (a timeout
    wins), else None."""
    faults = {_FAULTS[k] for k in kinds if k in _FAULTS}
    return "timeout" if "timeout" in faults else ("crashed" if faults else None)


def _seconds(value: object) -> float | None:
    """A stored wall time: a non-negative number, else None (older results have none)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None
