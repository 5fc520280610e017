"""Grading a whole class: ``grade batch SUBMISSIONS --out OUT``.

entries (staging each student's folder or zip), gradebook (SQLite results), fingerprint (what
a result depends on), worker (one exercise of one student), run (the parallel run), outputs
(grades.csv, grades.json, feedback), progress (the bar).
"""
