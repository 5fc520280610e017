"""Backprop Lab grader."""

from pathlib import Path

__version__ = "0.1.0"

#: Where the instructor's reference solutions are in a checkout of the course (the student
#: bundle has none).
SOLUTIONS_DIR = Path(__file__).resolve().parent.parent / "solutions"
