"""Known mistakes of ex05 layers that cannot be derived from the reference's results, one buggy
class each (instructors only).

``grader/exercises/ex05_layers.py`` names them in ``Mistake(..., variant={"Sigmoid":
"SigmoidBackwardOnInput"})`` (and ``"SoftmaxWithLossOverBatch"``); only the results of the
checks' scenarios with them in place are stored.
"""

import numpy as np


class SigmoidBackwardOnInput:
    """backward applies y * (1 - y), the formula for the output y, to the forward input x."""

    def forward(self, x):
        self.x = x
        return 1 / (1 + np.exp(-x))

    def backward(self, dout):
        return dout * self.x * (1 - self.x)


class SoftmaxWithLossOverBatch:
    """The softmax over the whole batch (the book's 1-D softmax on a batch): one max and one sum
    over every element; the loss and backward are the reference's."""

    def forward(self, x, t):
        self.t = t
        exp_x = np.exp(x - np.max(x))
        self.y = exp_x / np.sum(exp_x)
        labels = t.argmax(axis=1) if t.size == self.y.size else t
        n = self.y.shape[0]
        return -np.sum(np.log(self.y[np.arange(n), labels] + 1e-7)) / n

    def backward(self, dout=1):
        n = self.t.shape[0]
        if self.t.size == self.y.size:
            return dout * (self.y - self.t) / n
        dx = self.y.copy()
        dx[np.arange(n), self.t] -= 1
        return dout * dx / n
