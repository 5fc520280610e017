"""The checks of each exercise, one module per exercise, each defining ``EXERCISE``."""
