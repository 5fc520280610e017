"""Hidden checks, one module per exercise (instructors only: never shipped to students).

``solutions/hidden/<module>.py`` defines ``hidden_checks(rng) -> list[Check]``: more random
cases than the public checks, drawn from ``rng`` (made by ``grader.hidden.rng_for`` from the
secret ``--seed``), as checks marked ``hidden=True`` whose names start with ``"hidden: "``. The
grader loads these files by path (``grader.hidden.with_hidden``); their reference values are
computed from the solutions at grading time, never stored.
"""
