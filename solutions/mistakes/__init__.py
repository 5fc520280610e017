"""Buggy implementations of known mistakes, kept beside the reference solutions (instructors only).

``solutions/mistakes/<module>.py`` holds, for the scenario checks of ``grader/exercises/<module>``,
re-implementations of the solution's classes with one known bug each. A ``Mistake(...,
variant={"Adam": "AdamWithoutBiasCorrection"})`` runs its check's scenario with these in place of
the solution's classes; only the results are stored (``python -m grader.expected``), so the
code itself never reaches learners.
"""
