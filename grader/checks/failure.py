"""The one exception a check raises when it does not pass."""


class CheckFailed(Exception):
    """A check did not pass.

    ``message`` is learner-facing; ``diagnosis`` names a known mistake; ``kind`` is set when
    the learner's code itself failed (``"exception"``, ``"timeout"``, ``"not_implemented"``...).
    """

    def __init__(
        self, message: str, diagnosis: str | None = None, kind: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.diagnosis = diagnosis
        self.kind = kind  # the runner's error kind when the learner's code failed to run
