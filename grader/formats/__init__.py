"""Reports of grading results in formats other programs read.

Each module holds one format and a function of the same name taking a list of
``ExerciseResult``: ``markdown.markdown`` (GitHub step summary, feedback.md), ``html.html`` (a
self-contained page), ``junit.junit`` (JUnit XML for CI) and ``gradescope.gradescope``
(``results.json``). ``view`` holds what they share. The text table and the plain JSON stay in
``grader.report``. Renderers meant for learners redact hidden checks themselves.
"""
