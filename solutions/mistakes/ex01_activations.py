"""Known mistakes of ex01 activations, one buggy function each (instructors only).

Each takes the arguments of the spec's function it stands for; ``grader/exercises/
ex01_activations.py`` names them in ``Mistake(..., variant={"step_function":
"step_function_one_at_zero"})``, and only their results are stored.
"""

import numpy as np


def step_function_one_at_zero(x):
    return (np.asarray(x) >= 0).astype(int)


def sigmoid_grad_of_output(x):
    """The formula for the sigmoid's output y, applied to its input x."""
    x = np.asarray(x)
    return x * (1 - x)


def sigmoid_grad_mixed(x):
    """sigmoid(x) * (1 - x): the output's formula with one factor taken from the input."""
    x = np.asarray(x, dtype=np.float64)
    return 1 / (1 + np.exp(-x)) * (1 - x)


def sigmoid_grad_returns_sigmoid(x):
    return 1 / (1 + np.exp(-np.asarray(x, dtype=np.float64)))


def tanh_grad_of_output(x):
    """The formula for tanh's output, applied to its input."""
    return 1 - np.asarray(x) ** 2


def relu_grad_returns_relu(x):
    return np.maximum(0, x)


def leaky_relu_alpha_ignored(x, alpha=0.01):
    return np.where(np.asarray(x) > 0, x, 0.01 * np.asarray(x))


def leaky_relu_grad_alpha_ignored(x, alpha=0.01):
    return np.where(np.asarray(x) > 0, 1.0, 0.01)


def leaky_relu_grad_zero_for_negatives(x, alpha=0.01):
    return np.where(np.asarray(x) > 0, 1.0, 0.0)


def elu_without_minus_one(x, alpha=1.0):
    return np.where(np.asarray(x) > 0, x, alpha * np.exp(x))


def elu_alpha_ignored(x, alpha=1.0):
    return np.where(np.asarray(x) > 0, x, np.expm1(x))


def elu_grad_alpha_ignored(x, alpha=1.0):
    return np.where(np.asarray(x) > 0, 1.0, np.exp(x))


def softmax_without_max(x):
    """Overflows for large scores: exp(1000) is inf, inf / inf is NaN."""
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def softmax_batch_max(x):
    """Subtracts the largest score of the whole batch, not each row's."""
    return np.exp(x - np.max(x)) / np.sum(np.exp(x - np.max(x)), axis=-1, keepdims=True)


def softmax_first_axis(x):
    """Normalises over the first axis: the columns of a batch sum to 1."""
    return np.exp(x - np.max(x, axis=0)) / np.sum(np.exp(x - np.max(x, axis=0)), axis=0)


def softmax_whole_batch(x):
    """Divides by the sum over the whole batch."""
    return np.exp(x - np.max(x)) / np.sum(np.exp(x - np.max(x)))
