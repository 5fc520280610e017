"""ex05 layers: learners' mistakes and correct idioms (issue 11), in the learners' style.

Sources follow the book's common/layers.py and the study repositories built on it.
"""

from __future__ import annotations

from judgement import Buggy, Correct

MODULE = "ex05_layers"

RELU = ("Relu forward and backward match the reference (2-D and 3-D input)",
        "Relu backward agrees with a numerical gradient of forward")
SIGMOID = ("Sigmoid forward and backward match the reference",
           "Sigmoid backward agrees with a numerical gradient of forward")
AFFINE = ("Affine forward and backward match the reference (2-D input)",
          "Affine flattens a 4-D input and returns dx in its shape",
          "Affine backward agrees with a numerical gradient of forward")
SOFTMAX = ("SoftmaxWithLoss forward and backward match the reference (one-hot t)",
           "SoftmaxWithLoss forward and backward match the reference (integer labels)",
           "SoftmaxWithLoss backward agrees with a numerical gradient of forward")

_AFFINE = """
class Affine:
    def __init__(self, W, b):
        self.W = W
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
        BACKWARD
        dx = dx.reshape(*self.original_x_shape)
        return dx
"""

_SOFTMAX = """
class SoftmaxWithLoss:
    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        FORWARD
        if self.y.ndim == 1:
            t = t.reshape(1, t.size)
            y = self.y.reshape(1, self.y.size)
        else:
            y = self.y
        if t.size == y.size:
            t = t.argmax(axis=1)
        batch_size = y.shape[0]
        self.loss = -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size
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
"""

_SOFTMAX_ROWS = """x = x - np.max(x, axis=-1, keepdims=True)
        self.y = np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)"""

_BOOK_DX = """dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)"""

BUGGY = [
    Buggy("Affine.backward keeps dW and db in local variables", MODULE, {"Affine": _AFFINE.replace(
        "BACKWARD", """dx = np.dot(dout, self.W.T)
        dW = np.dot(self.x.T, dout)
        db = np.sum(dout, axis=0)""")},
          diagnosis=("dW and db not stored",), charged=AFFINE),
    Buggy("def backword (misspelt backward) in Relu", MODULE, {"Relu": """
        class Relu:
            def __init__(self):
                self.mask = None

            def forward(self, x):
                self.mask = (x <= 0)
                out = x.copy()
                out[self.mask] = 0
                return out

            def backword(self, dout):
                dout[self.mask] = 0
                dx = dout
                return dx
        """}, diagnosis=("misspelt name",), charged=RELU),
    Buggy("Sigmoid.forward writes self.out without assigning it", MODULE, {"Sigmoid": """
        class Sigmoid:
            def __init__(self):
                self.out = None

            def forward(self, x):
                out = 1 / (1 + np.exp(-x))
                self.out
                return out

            def backward(self, dout):
                dx = dout * (1.0 - self.out) * self.out
                return dx
        """}, diagnosis=("forward state not stored",), charged=SIGMOID),
    Buggy("Affine dx = np.dot(dout, self.x.T)", MODULE, {"Affine": _AFFINE.replace(
        "BACKWARD", _BOOK_DX.replace("np.dot(dout, self.W.T)", "np.dot(dout, self.x.T)"))},
          diagnosis=("dx uses x instead of W",), charged=AFFINE),
    Buggy("Affine dx = dout @ x.T", MODULE, {"Affine": _AFFINE.replace(
        "BACKWARD", _BOOK_DX.replace("np.dot(dout, self.W.T)", "dout @ self.x.T"))},
          diagnosis=("dx uses x instead of W",), charged=AFFINE),
    Buggy("SoftmaxWithLoss with a softmax over the whole batch (global max and sum)", MODULE,
          {"SoftmaxWithLoss": _SOFTMAX.replace("FORWARD", """c = np.max(x)
        exp_x = np.exp(x - c)
        self.y = exp_x / np.sum(exp_x)""")},
          diagnosis=("softmax over the whole batch",), charged=SOFTMAX),
    Buggy("class ReLU (the case of the spec's Relu)", MODULE, {"Relu": """
        class ReLU:
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
        """}, diagnosis=("misspelt name",), charged=RELU),
    Buggy("SoftmaxWithLoss.forward shifts x in place (x -= max)", MODULE,
          {"SoftmaxWithLoss": _SOFTMAX.replace("FORWARD", """x -= np.max(x, axis=-1, keepdims=True)
        self.y = np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)""")},
          diagnosis=("modifies its input",), charged=SOFTMAX[:1]),
    Buggy("Relu.forward zeroes the negative inputs in x itself", MODULE, {"Relu": """
        class Relu:
            def __init__(self):
                self.mask = None

            def forward(self, x):
                self.mask = (x <= 0)
                x[self.mask] = 0
                return x

            def backward(self, dout):
                dout[self.mask] = 0
                return dout
        """}, diagnosis=("modifies its input",), charged=RELU[:1]),
]

CORRECT = [
    Correct("the book's SoftmaxWithLoss, whose backward ignores dout", MODULE,
            {"SoftmaxWithLoss": _SOFTMAX.replace("FORWARD", _SOFTMAX_ROWS)}),
    Correct("the book's Affine", MODULE, {"Affine": _AFFINE.replace("BACKWARD", _BOOK_DX)}),
    Correct("Relu with np.maximum and Sigmoid with np.exp(-x)", MODULE, {"Relu": """
        class Relu:
            def __init__(self):
                self.mask = None

            def forward(self, x):
                self.mask = (x <= 0)
                return np.maximum(0, x)

            def backward(self, dout):
                dx = dout.copy()
                dx[self.mask] = 0
                return dx
        """, "Sigmoid": """
        class Sigmoid:
            def __init__(self):
                self.out = None

            def forward(self, x):
                out = 1 / (1 + np.exp(-x))
                self.out = out
                return out

            def backward(self, dout):
                return dout * (1.0 - self.out) * self.out
        """}),
]
