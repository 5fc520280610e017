"""The one exception a check raises when it does not pass."""


class CheckFailed(Exception):
    """A check did not pass.

    ``message`` is learner-facing; ``diagnosis`` names a known mistake; ``kind`` is set when
    the learner's code itself failed (``"exception"``, ``"timeout"``, ``"not_implemented"``...).
    For kind ``"exception"``, ``exception`` is the class name of what the learner's code raised,
    and ``plain`` the message without the explanation a diagnosis added to it (a check that
    finds a better diagnosis uses ``plain`` instead).
    """

    def __init__(
        self, message: str, diagnosis: str | None = None, kind: str | None = None,
        exception: str = "", plain: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.diagnosis = diagnosis
        self.kind = kind  # the runner's error kind when the learner's code failed to run
        self.exception = exception
        self.plain = message if plain is None else plain
