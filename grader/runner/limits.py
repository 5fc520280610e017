"""Resource limits for the child process that runs learner code."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Limits:
    """Limits for one Session; every value must be positive."""

    call_timeout: float = 10.0  # wall seconds for one call
    import_timeout: float = 20.0  # wall seconds to start the child and import the submission
    cpu_seconds: int = 300  # RLIMIT_CPU for the child's lifetime
    memory_bytes: int = 2 * 1024**3  # RLIMIT_AS for the child
    output_bytes: int = 64 * 1024  # captured stdout+stderr kept (rest counted, discarded)
    file_bytes: int = 64 * 1024**2  # RLIMIT_FSIZE
    reply_bytes: int = 512 * 1024**2  # largest reply the parent accepts

    def __post_init__(self) -> None:
        for f in fields(self):
            if not getattr(self, f.name) > 0:
                raise ValueError(f"Limits.{f.name} must be positive, got {getattr(self, f.name)!r}")
