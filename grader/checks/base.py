"""The vocabulary of checks: Check, Exercise, Ref (a reference value) and the Context."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from grader.checks.compare import same_value, tree_size
from grader.checks.explain import explain_exception
from grader.checks.failure import CheckFailed
from grader.i18n import _
from grader.runner.session import not_implemented

#: Bytes of replies after which the next call into the learner's code first collects garbage
#: (the solutions' largest reply is 9.4 MB: honest code triggers it a few times at most).
COLLECT_BYTES = 32 * 1024**2

if TYPE_CHECKING:
    from grader.runner.limits import Limits
    from grader.runner.session import Handle, LearnerError, Reply, Session


@dataclass(frozen=True)
class Ref:
    """A value the reference solution produces, stored ahead of time for public checks.

    ``key`` is unique within its exercise; ``inputs`` are hashed so that a stored value made
    from other inputs is detected; ``compute(solution_module)`` produces the value. A fresh
    computation on another CPU or BLAS build differs from the stored value by rounding, which
    ``grader.expected.agrees`` tolerates: a few units in the last place, or far more when
    ``numerical`` (the value comes from central differences, which divide rounding by the
    step). ``drift`` is the relative difference tolerated instead, for figures that only
    appear in messages and move with library versions (training results).
    """

    key: str
    inputs: Any
    compute: Callable[[ModuleType], Any]
    drift: float = 0.0
    numerical: bool = False


@dataclass(frozen=True)
class Check:
    """One named check worth ``points``.

    ``run(ctx)`` returns a short pass message or raises ``CheckFailed``; ``refs`` lists the
    reference values it asks ``ctx.expected`` for.
    """

    name: str
    points: float
    run: Callable[[Context], str]
    refs: tuple[Ref, ...] = ()
    hidden: bool = False


@dataclass(frozen=True)
class Exercise:
    """An exercise: its id (``"ex01"``), learner module name, title and checks."""

    id: str
    module: str
    title: str
    checks: tuple[Check, ...]
    limits: Limits | None = None
    requires: tuple[str, ...] = field(default=())

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks if not c.hidden)

    def refs(self) -> list[Ref]:
        """Every reference value the checks use, in check order."""
        return [ref for check in self.checks for ref in check.refs]


class Oracle(Protocol):
    """Where reference values come from: stored files (public) or the live solutions."""

    def expected(self, exercise: Exercise, ref: Ref) -> Any: ...


def describe_learner_error(error: LearnerError, what: str) -> str:
    """A one-line message for a learner fault met while running ``what``."""
    if error.kind == "not_implemented":
        return error.message if error.cause == "needed_by" else not_implemented(what)
    if error.kind in ("import", "timeout", "crashed", "stale"):
        return error.message
    return _("{what}: {message}").format(what=what, message=error.message)


def learner_failure(error: LearnerError, what: str, args: Sequence[Any] = ()) -> CheckFailed:
    """The CheckFailed for a learner fault met while running ``what`` on ``args``: explained
    in the course's terms (``grader.checks.explain``) when the fault is one it recognises."""
    message = describe_learner_error(error, what)
    if error.kind == "not_implemented":
        return CheckFailed(message, diagnosis="not implemented", kind=error.kind)
    if error.kind == "not_found" and error.cause == "misspelt":
        return CheckFailed(message, diagnosis="misspelt name", kind=error.kind)
    if error.kind == "exception":
        explained = explain_exception(error.exception, error.text, args, error.line)
        if explained is not None:
            return CheckFailed(f"{explained.message}. {message}", diagnosis=explained.diagnosis,
                               kind=error.kind, exception=error.exception, plain=message)
    return CheckFailed(message, kind=error.kind, exception=error.exception)


#: The error kind of a check cut short by its exercise's time budget (counted as a timeout).
BUDGET_KIND = "budget"


def budget_message(seconds: float) -> str:
    """What a check that the exercise's time budget cut short says."""
    return _("time budget for this exercise used up ({seconds} s)").format(
        seconds=f"{seconds:g}")


class Budget:
    """The wall time left for the checks of one exercise, from now.

    Every call into the learner's code gets the nearer of its own deadline and the budget's
    (a child restarted after a crash imports within what is left, too). ``used_up`` turns
    True when a call was refused, or cut short, because the budget ran out.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._deadline = clock() + seconds
        self.used_up = False

    def left(self) -> float:
        """Seconds left (0 or less when the budget is over)."""
        return self._deadline - self._clock()

    def failure(self) -> CheckFailed:
        """The failure of a check that the budget cut short; marks the budget used up."""
        self.used_up = True
        return CheckFailed(budget_message(self.seconds), kind=BUDGET_KIND)


class Context:
    """What a check may do: call the learner's code and ask for reference values.

    With a ``budget``, every call into the learner's code is bounded by it (see Budget).
    """

    def __init__(self, session: Session, oracle: Oracle, exercise: Exercise,
                 budget: Budget | None = None) -> None:
        self.session = session
        self.oracle = oracle
        self.exercise = exercise
        self.budget = budget
        self._once: dict[Any, Any] = {}
        self._modified: set[str] = set()  # what was found modifying its input (charged once)
        self._received = 0  # bytes of replies received since the last garbage collection

    def _count(self, reply: Reply) -> Reply:
        """``reply``, its bytes counted towards the next garbage collection."""
        self._received += tree_size(reply.value)[1] + tree_size(reply.args_after)[1]
        return reply

    def _within_budget(self, send: Callable[[], Reply]) -> Reply:
        """``send()`` (one request to the learner's process) with its deadlines, and those of
        a restart, cut to what is left of the budget; ``CheckFailed`` once it is used up."""
        budget = self.budget
        if self._received > COLLECT_BYTES:
            # A failed check's exception holds its frames, and so the replies they held, in a
            # reference cycle only the garbage collector frees: without this, a learner whose
            # every reply is at the size limit makes the grader hold dozens of them at once.
            gc.collect()
            self._received = 0
        if budget is None:
            return self._count(send())
        left = budget.left()
        if budget.used_up or left <= 0:
            raise budget.failure()
        limits = self.session.limits
        cut = left < limits.call_timeout or left < limits.import_timeout
        if cut:
            self.session.limits = replace(limits, call_timeout=min(limits.call_timeout, left),
                                          import_timeout=min(limits.import_timeout, left))
        try:
            reply = self._count(send())
        finally:
            self.session.limits = limits
        error = reply.error
        if error is not None and "timeout" in (error.kind, error.cause) and budget.left() <= 0:
            raise budget.failure()  # it was the budget's deadline that passed
        return reply

    def once(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` the first time ``key`` is asked for in this grading; its result after.

        For a run of the learner's code that several checks read (a training run, a model's
        description). A ``CheckFailed`` it raised is raised again to every check that asks.
        """
        if key not in self._once:
            try:
                self._once[key] = compute()
            except CheckFailed as failure:
                self._once[key] = failure
        value = self._once[key]
        if isinstance(value, CheckFailed):
            raise value
        return value

    def expected(self, ref: Ref) -> Any:
        """The reference value for ``ref``."""
        return self.oracle.expected(self.exercise, ref)

    def call(
        self,
        target: str | Handle,
        *args: Any,
        method: str | None = None,
        keep: bool = False,
        may_modify: Sequence[int] = (),
        check_inputs: bool = True,
        with_args: bool = False,
        what: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Call ``target`` (a module name or a Handle's ``method``) in the learner's process.

        Returns the decoded result (with ``with_args``, ``(result, args_after)``: the positional
        arguments as they were after the call). Raises ``CheckFailed`` when the learner's code fails
        (not implemented, exception, timeout, crash) or, with ``check_inputs``, when it
        modified a positional argument whose index is not in ``may_modify``.
        """
        label = what or _label(target, method)
        reply = self._within_budget(lambda: self.session.call(
            target, *args, method=method, keep=keep, return_args=check_inputs or with_args,
            **kwargs,
        ))
        if reply.error is not None:
            raise learner_failure(reply.error, label, args)
        if check_inputs and reply.args_after is not None:
            for index, (before, after) in enumerate(zip(args, reply.args_after, strict=False)):
                if index not in may_modify and not same_value(before, after):
                    if label in self._modified:  # charged once, by the first check that saw it
                        break
                    self._modified.add(label)
                    raise CheckFailed(
                        _("{what} modified its input (argument {number}) in place; compute "
                          "on a new array (for example y = x - c, not x -= c)").format(
                            what=label, number=index + 1),
                        diagnosis="modifies its input",
                    )
        if with_args:
            return reply.value, reply.args_after
        return reply.value

    def fixture(self, name: str) -> Handle:
        """A Handle to ``grader.runner.fixtures.<name>`` in the learner's process."""
        reply = self._within_budget(lambda: self.session.getattr("fixture:", name, keep=True))
        if reply.error is not None:
            raise CheckFailed(describe_learner_error(reply.error, f"fixture {name}"),
                              kind=reply.error.kind)
        return reply.value

    def attr(self, target: Handle, name: str, keep: bool = False) -> Any:
        """Read attribute ``name`` of a learner object; ``CheckFailed`` if it is missing."""
        reply = self._within_budget(lambda: self.session.getattr(target, name, keep=keep))
        if reply.error is not None:
            raise learner_failure(reply.error, f"{target.type_name}.{name}")
        return reply.value


def _label(target: Any, method: str | None) -> str:
    base = target if isinstance(target, str) else getattr(target, "type_name", "object")
    return f"{base}.{method}" if method else str(base)
