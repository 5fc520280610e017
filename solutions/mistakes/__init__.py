"""Buggy implementations of known mistakes, kept beside the reference solutions (instructors only).

``solutions/mistakes/<module>.py`` holds, for the checks of ``grader/exercises/<module>``, the
spec's functions and classes with one known bug each. A ``Mistake(...,
variant={"Adam": "AdamWithoutBiasCorrection"})`` (or ``{"step_function":
"step_function_one_at_zero"}`` for a function check) runs its check's inputs through these in
place of the solution's; only the results are stored (``python -m grader.expected``), so the
code itself never reaches learners.
"""
