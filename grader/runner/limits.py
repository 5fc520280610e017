"""Resource limits for the child process that runs learner code."""

from __future__ import annotations

from dataclasses import dataclass, fields

#: An exercise's time budget, in per-call timeouts, when its Limits set no exercise_seconds:
#: 30 s at the default 10 s per call (honest code needs under 0.3 s for ex01 to ex07), 90 s
#: for ex08 (about 1 s), 180 s for ex09 and ex10 (about 7 s, TensorFlow's start included).
BUDGET_CALLS = 3


@dataclass(frozen=True)
class Limits:
    """Limits for one Session; every value must be positive."""

    call_timeout: float = 10.0  # wall seconds for one call
    import_timeout: float = 20.0  # wall seconds to start the child and import the submission
    cpu_seconds: int = 300  # RLIMIT_CPU for the child's lifetime
    memory_bytes: int = 2 * 1024**3  # RLIMIT_AS for the child
    output_bytes: int = 64 * 1024  # captured stdout+stderr kept (rest counted, discarded)
    file_bytes: int = 64 * 1024**2  # RLIMIT_FSIZE
    # A run's totals, over all its processes (a cgroup where the machine has one, see
    # cgroups.py) and its scratch folder (a tmpfs under bubblewrap, so memory too).
    total_memory_bytes: int = 3 * 1024**3  # TensorFlow's exercises peak at about 1 GiB
    processes: int = 1024  # processes and threads at once (TensorFlow starts ~2 per core)
    scratch_bytes: int = 256 * 1024**2
    # What the grader accepts of one reply, checked before reading it. Measured with the
    # solutions (grade all --path solutions): at most 9.4 MB per reply (ex09/ex10, arguments
    # of 3000 MNIST images sent back) and 8.2 KB of JSON (ex08's histories).
    reply_bytes: int = 64 * 1024**2  # largest reply, arrays included (about 7x the largest)
    header_bytes: int = 1024**2  # largest JSON part of a reply (about 128x the largest)
    # Wall seconds for all the checks of one exercise, after the import (None: BUDGET_CALLS
    # per-call timeouts); every call's deadline is the nearer of its own and the budget's.
    exercise_seconds: float | None = None

    @property
    def budget(self) -> float:
        """The exercise's time budget in seconds (see exercise_seconds)."""
        if self.exercise_seconds is not None:
            return self.exercise_seconds
        return BUDGET_CALLS * self.call_timeout

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name == "exercise_seconds" and self.exercise_seconds is None:
                continue
            if not getattr(self, f.name) > 0:
                raise ValueError(f"Limits.{f.name} must be positive, got {getattr(self, f.name)!r}")
