"""ex05 graded against the solution, the book's layers and other correct variants, and mistakes."""

from __future__ import annotations

import shutil

import pytest

from conftest import SOLUTIONS, by_name, grade
from grader.exercises.ex05_layers import MISTAKES


def test_gradient_checks_print_the_relative_error():
    checks = [c for c in grade("ex05", SOLUTIONS).checks if "numerical gradient" in c.name]
    assert len(checks) == 4
    for check in checks:
        assert check.passed and "relative error" in check.output, check.output


# The book's common/functions.py helpers the book's layers call.
BOOK_FUNCTIONS = '''
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size

'''

# The book's common/layers.py, unchanged.
BOOK_LAYERS = {
    "Relu": """
        class Relu:
            def __init__(self):
                self.mask = None

            def forward(self, x):
                self.mask = (x <= 0)
                out = x.copy()
                out[self.mask] = 0

                return out

            def backward(self, dout):
                dout[self.mask] = 0
                dx = dout

                return dx
        """,
    "Sigmoid": """
        class Sigmoid:
            def __init__(self):
                self.out = None

            def forward(self, x):
                out = sigmoid(x)
                self.out = out
                return out

            def backward(self, dout):
                dx = dout * (1.0 - self.out) * self.out

                return dx
        """,
    "Affine": """
        class Affine:
            def __init__(self, W, b):
                self.W =W
                self.b = b

                self.x = None
                self.original_x_shape = None
                self.dW = None
                self.db = None

            def forward(self, x):
                self.original_x_shape = x.shape
                x = x.reshape(x.shape[0], -1)
                self.x = x

                out = np.dot(self.x, self.W) + self.b

                return out

            def backward(self, dout):
                dx = np.dot(dout, self.W.T)
                self.dW = np.dot(self.x.T, dout)
                self.db = np.sum(dout, axis=0)

                dx = dx.reshape(*self.original_x_shape)
                return dx
        """,
    "SoftmaxWithLoss": """
        class SoftmaxWithLoss:
            def __init__(self):
                self.loss = None
                self.y = None
                self.t = None

            def forward(self, x, t):
                self.t = t
                self.y = softmax(x)
                self.loss = cross_entropy_error(self.y, self.t)

                return self.loss

            def backward(self, dout=1):
                batch_size = self.t.shape[0]
                if self.t.size == self.y.size:
                    dx = (self.y - self.t) / batch_size
                else:
                    dx = self.y.copy()
                    dx[np.arange(batch_size), self.t] -= 1
                    dx = dx / batch_size

                return dx
        """,
}

CORRECT_VARIANTS = {
    "other ways to write it": {
        "Relu": """
            class Relu:
                def __init__(self):
                    self.mask = None

                def forward(self, x):
                    self.mask = x > 0
                    return np.maximum(0, x)

                def backward(self, dout):
                    return np.where(self.mask, dout, 0.0)  # a new array: dout untouched
            """,
        "Sigmoid": """
            class Sigmoid:
                def __init__(self):
                    self.out = None

                def forward(self, x):
                    self.out = 1 / (1 + np.exp(-x))
                    return self.out

                def backward(self, dout):
                    dout *= self.out * (1 - self.out)  # in place: backward may modify dout
                    return dout
            """,
        "Affine": """
            class Affine:
                def __init__(self, W, b):
                    self.W, self.b = W, b
                    self.x = self.dW = self.db = None

                def forward(self, x):
                    self.x = x  # the original, reshaped again in backward
                    return x.reshape(len(x), -1) @ self.W + self.b

                def backward(self, dout):
                    x = self.x.reshape(len(self.x), -1)
                    self.dW = x.T @ dout
                    self.db = dout.sum(axis=0)
                    return (dout @ self.W.T).reshape(self.x.shape)
            """,
        "SoftmaxWithLoss": """
            class SoftmaxWithLoss:
                def __init__(self):
                    self.y = self.t = None

                def forward(self, x, t):
                    if t.ndim == 1:
                        t = np.eye(x.shape[1])[t]
                    self.t = t
                    shifted = x - x.max(axis=1, keepdims=True)
                    log_y = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
                    self.y = np.exp(log_y)
                    return -np.sum(t * log_y) / x.shape[0]  # no 1e-7 guard: exact

                def backward(self, dout=1):
                    return dout * (self.y - self.t) / len(self.t)
            """,
    },
}


def test_the_books_layers_get_full_marks(variant):
    result = grade("ex05", variant("ex05_layers", BOOK_LAYERS, prelude=BOOK_FUNCTIONS))
    assert [(c.name, c.output) for c in result.checks if not c.passed] == []


def test_the_books_layers_on_the_learners_earlier_exercises_get_full_marks(variant):
    path = variant("ex05_layers", BOOK_LAYERS, prelude=(
        "from ex01_activations import sigmoid, softmax\n"
        "from ex02_losses import cross_entropy_error\n"))
    for module in ("ex01_activations", "ex02_losses"):
        shutil.copy(SOLUTIONS / f"{module}.py", path.parent)
    result = grade("ex05", path.parent)  # a folder: its other exercises are importable
    assert [(c.name, c.output) for c in result.checks if not c.passed] == []


@pytest.mark.parametrize("name", CORRECT_VARIANTS)
def test_correct_variant_gets_full_marks(variant, name):
    result = grade("ex05", variant("ex05_layers", CORRECT_VARIANTS[name]))
    assert [(c.name, c.output) for c in result.checks if not c.passed] == []


def _book(cls: str, old: str, new: str) -> str:
    """The book's ``cls`` with one line changed (``old`` must occur once)."""
    assert BOOK_LAYERS[cls].count(old) == 1, old
    return BOOK_LAYERS[cls].replace(old, new)


SIGMOID_ON_INPUT = """
    class Sigmoid:
        def __init__(self):
            self.x = None

        def forward(self, x):
            self.x = x
            return 1 / (1 + np.exp(-x))

        def backward(self, dout):
            return dout * self.x * (1.0 - self.x)
    """

AFFINE_NO_FLATTENING = """
    class Affine:
        def __init__(self, W, b):
            self.W, self.b = W, b

        def forward(self, x):
            self.x = x
            return np.dot(x, self.W) + self.b

        def backward(self, dout):
            self.dW = np.dot(self.x.T, dout)
            self.db = np.sum(dout, axis=0)
            return np.dot(dout, self.W.T)
    """

SOFTMAX_ONE_HOT_FORWARD = """
    class SoftmaxWithLoss:
        def forward(self, x, t):
            self.t = t
            self.y = softmax(x)
            return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

        def backward(self, dout=1):
            return (self.y - self.t) / self.t.shape[0]
    """

RELU_CHECK = "Relu forward and backward match the reference (2-D and 3-D input)"
AFFINE_CHECK = "Affine forward and backward match the reference (2-D input)"
AFFINE_4D_CHECK = "Affine flattens a 4-D input and returns dx in its shape"
ONE_HOT_CHECK = "SoftmaxWithLoss forward and backward match the reference (one-hot t)"
LABELS_CHECK = "SoftmaxWithLoss forward and backward match the reference (integer labels)"

# (class, buggy source, check that must fail, diagnosis it must name)
BUGS = [
    ("Relu", _book("Relu", "dout[self.mask] = 0", "pass"), RELU_CHECK,
     "Relu backward without the mask"),
    ("Relu", _book("Relu", "out = x.copy()", "out = x"), RELU_CHECK, "modifies its input"),
    ("Sigmoid", SIGMOID_ON_INPUT, "Sigmoid forward and backward match the reference",
     "Sigmoid backward on the input"),
    ("Affine", _book("Affine", "np.sum(dout, axis=0)", "dout"), AFFINE_CHECK, "db not summed"),
    ("Affine", _book("Affine", "np.sum(dout, axis=0)", "np.mean(dout, axis=0)"), AFFINE_CHECK,
     "db averaged"),
    ("Affine", _book("Affine", "np.sum(dout, axis=0)", "np.sum(dout)"), AFFINE_CHECK,
     "db summed over every axis"),
    ("Affine", _book("Affine", "np.dot(self.x.T, dout)", "np.dot(dout.T, self.x)"), AFFINE_CHECK,
     "dW transposed"),
    ("Affine", _book("Affine", "dx = dx.reshape(*self.original_x_shape)", "pass"),
     AFFINE_4D_CHECK, "dx not reshaped"),
    ("Affine", AFFINE_NO_FLATTENING, AFFINE_4D_CHECK, "no flattening"),
    ("SoftmaxWithLoss", _book("SoftmaxWithLoss", "dx = dx / batch_size", "pass"), LABELS_CHECK,
     "no division by the batch size"),
    ("SoftmaxWithLoss", _book("SoftmaxWithLoss", "(self.y - self.t) / batch_size",
                              "self.y - self.t"), ONE_HOT_CHECK, "no division by the batch size"),
    ("SoftmaxWithLoss", _book("SoftmaxWithLoss", "cross_entropy_error(self.y, self.t)",
                              "cross_entropy_error(self.y, self.t) * self.t.shape[0]"),
     ONE_HOT_CHECK, "loss summed over the batch"),
    ("SoftmaxWithLoss", _book("SoftmaxWithLoss", "if self.t.size == self.y.size:", "if True:"),
     LABELS_CHECK, "one-hot targets only"),
    ("SoftmaxWithLoss", SOFTMAX_ONE_HOT_FORWARD, LABELS_CHECK, "one-hot targets only"),
    ("SoftmaxWithLoss", _book("SoftmaxWithLoss", "self.y = softmax(x)",
                              "x -= np.max(x, axis=-1, keepdims=True); self.y = softmax(x)"),
     ONE_HOT_CHECK, "modifies its input"),
    ("Affine", _book("Affine", "self.dW = np.dot(self.x.T, dout)", "dW = np.dot(self.x.T, dout)"),
     AFFINE_CHECK, "dW and db not stored"),
    ("Affine", _book("Affine", "np.dot(dout, self.W.T)", "np.dot(dout, self.x.T)"),
     AFFINE_CHECK, "dx uses x instead of W"),
    ("SoftmaxWithLoss", _book("SoftmaxWithLoss", "self.y = softmax(x)",
                              "self.y = np.exp(x - np.max(x)) / np.sum(np.exp(x - np.max(x)))"),
     ONE_HOT_CHECK, "softmax over the whole batch"),
    ("Sigmoid", _book("Sigmoid", "self.out = out", "self.out"),
     "Sigmoid forward and backward match the reference", "forward state not stored"),
]


def _submission(variant, cls: str, source: str):
    """The solution with ``cls`` replaced, the book's helper functions available."""
    return variant("ex05_layers", {cls: source}, prelude=BOOK_FUNCTIONS)


@pytest.mark.parametrize(("cls", "source", "check", "diagnosis"), BUGS,
                         ids=[f"{b[0]}: {b[3]}" for b in BUGS])
def test_known_mistake_is_caught_and_named(variant, cls, source, check, diagnosis):
    result = grade("ex05", _submission(variant, cls, source))
    checks = by_name(result)
    assert not checks[check].passed
    assert checks[check].diagnosis == diagnosis, checks[check].output
    assert checks[check].output
    # Only checks of the buggy class fail: the other layers keep their points.
    for other in result.checks:
        if other.name.split(" ")[0] != cls:
            assert other.passed, (other.name, other.output)


def test_every_known_mistake_has_a_buggy_submission():
    covered = {(cls, diagnosis) for cls, _, _, diagnosis in BUGS}
    listed = {(cls, m.name) for cls, mistakes in MISTAKES.items() for m in mistakes}
    assert listed <= covered, listed - covered


def test_a_transposed_dw_fails_on_its_shape(variant):
    result = grade("ex05", _submission(
        variant, "Affine", _book("Affine", "np.dot(self.x.T, dout)", "np.dot(dout.T, self.x)")))
    output = by_name(result)[AFFINE_CHECK].output
    assert "dW: got shape (4, 6), expected shape (6, 4)" in output
    assert "np.dot(self.x.T, dout)" in output  # the fix


def test_no_flattening_quotes_the_learners_error(variant):
    result = grade("ex05", _submission(variant, "Affine", AFFINE_NO_FLATTENING))
    checks = by_name(result)
    assert "ValueError" in checks[AFFINE_4D_CHECK].output
    # The same class on 2-D input is right.
    assert checks[AFFINE_CHECK].passed
    assert checks["Affine backward agrees with a numerical gradient of forward"].passed


def test_other_exceptions_on_4d_input_are_not_called_no_flattening(variant):
    # forward flattens; backward raises on 4-D input for another reason.
    source = _book("Affine", "dx = dx.reshape(*self.original_x_shape)",
                   "dx = dx.reshape(self.original_x_shape[1:])")
    check = by_name(grade("ex05", _submission(variant, "Affine", source)))[AFFINE_4D_CHECK]
    assert not check.passed and check.diagnosis is None
    assert "ValueError" in check.output


def test_other_exceptions_with_labels_are_not_called_one_hot_only(variant):
    # Raises with labels and one-hot alike (in backward, an undefined name).
    source = _book("SoftmaxWithLoss", "batch_size = self.t.shape[0]", "batch_size = n")
    checks = by_name(grade("ex05", _submission(variant, "SoftmaxWithLoss", source)))
    assert not checks[LABELS_CHECK].passed and checks[LABELS_CHECK].diagnosis is None
    assert "NameError" in checks[LABELS_CHECK].output


@pytest.mark.parametrize(("cls", "source"), [
    ("Sigmoid", SIGMOID_ON_INPUT),
    ("Relu", _book("Relu", "dout[self.mask] = 0", "dout[~self.mask] = 0")),
    ("Affine", _book("Affine", "np.sum(dout, axis=0)", "np.mean(dout, axis=0)")),
    ("SoftmaxWithLoss", _book("SoftmaxWithLoss", "(self.y - self.t) / batch_size",
                              "self.y - self.t")),
])
def test_numerical_gradient_check_catches_a_wrong_backward(variant, cls, source):
    result = grade("ex05", _submission(variant, cls, source))
    check = by_name(result)[f"{cls} backward agrees with a numerical gradient of forward"]
    assert not check.passed
    assert "disagrees with the numerical gradient" in check.output
    assert "relative error" in check.output


def test_numerical_gradient_check_uses_the_learners_own_forward(variant):
    # forward is wrong (twice the sigmoid) while backward is the reference's: the two disagree.
    source = _book("Sigmoid", "out = sigmoid(x)", "out = 2 * sigmoid(x)")
    source = source.replace("self.out = out", "self.out = out / 2")
    checks = by_name(grade("ex05", _submission(variant, "Sigmoid", source)))
    assert not checks["Sigmoid backward agrees with a numerical gradient of forward"].passed
    assert checks["Sigmoid forward and backward match the reference"].output.startswith("out:")
