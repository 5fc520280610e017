"""Known mistakes of ex08's counting functions, one buggy function each (instructors only).

Each takes the arguments of the spec's function it stands for; ``grader/exercises/
ex08_training.py`` names them in ``Mistake(..., variant={...})``, and only their results are
stored. (The mistakes of ``train`` are facts of its runs, derived in the grader.)
"""

import math


def iterations_per_epoch_floored(train_size, batch_size):
    return max(train_size // batch_size, 1)


def iterations_per_epoch_rounded_up(train_size, batch_size):
    return max(math.ceil(train_size / batch_size), 1)


def iterations_per_epoch_without_minimum(train_size, batch_size):
    return train_size / batch_size


def total_iterations_of_one_epoch(train_size, batch_size, epochs):
    return max(train_size / batch_size, 1)


def total_iterations_of_samples(train_size, batch_size, epochs):
    return epochs * train_size


def total_iterations_without_minimum(train_size, batch_size, epochs):
    return int(epochs * train_size / batch_size)


def total_iterations_floored_first(train_size, batch_size, epochs):
    return max(train_size // batch_size, 1) * epochs
