# Backprop Lab exercise: implement the functions below, then run `grade ex05`.

"""ex05 layers: Relu, Sigmoid, Affine and SoftmaxWithLoss with forward and backward."""

import numpy as np


class Relu:
    """ReLU layer: ``forward`` keeps where x <= 0 in ``self.mask`` for ``backward``."""

    def __init__(self):
        self.mask = None

    def forward(self, x):
        """Return max(0, x) without modifying ``x``.

        Args:
            x: array of any shape.
        Returns:
            Array of the shape of ``x``.
        """
        raise NotImplementedError("Relu.forward is not implemented yet")

    def backward(self, dout):
        """Return dx: ``dout`` where the input was positive, 0 elsewhere.

        Args:
            dout: upstream gradient, the shape of the forward input (may be modified).
        Returns:
            dx, the shape of ``dout``.
        """
        raise NotImplementedError("Relu.backward is not implemented yet")


class Sigmoid:
    """Sigmoid layer: ``forward`` keeps its output ``self.out`` for ``backward``."""

    def __init__(self):
        self.out = None

    def forward(self, x):
        """Return 1 / (1 + exp(-x)).

        Args:
            x: array of any shape.
        Returns:
            Array of the shape of ``x``, values in [0, 1].
        """
        raise NotImplementedError("Sigmoid.forward is not implemented yet")

    def backward(self, dout):
        """Return dx = dout * y * (1 - y), with y the forward output.

        Args:
            dout: upstream gradient, the shape of the forward input.
        Returns:
            dx, the shape of ``dout``.
        """
        raise NotImplementedError("Sigmoid.backward is not implemented yet")


class Affine:
    """Affine layer out = x . W + b, for x of shape (N, D) or (N, d1, d2, ...).

    Attributes:
        W: weights, shape (D, M). b: bias, shape (M,).
        dW, db: gradients set by ``backward``, the shapes of W and b.
    """

    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        """Flatten every axis of ``x`` after the first and return x . W + b.

        Args:
            x: input, shape (N, D) or (N, d1, ..., dk) with d1 * ... * dk = D.
        Returns:
            out, shape (N, M).
        """
        raise NotImplementedError("Affine.forward is not implemented yet")

    def backward(self, dout):
        """Set ``self.dW`` and ``self.db`` and return dx in the original shape of x.

        Args:
            dout: upstream gradient, shape (N, M).
        Returns:
            dx, the shape of the forward input x.
        """
        raise NotImplementedError("Affine.backward is not implemented yet")


class SoftmaxWithLoss:
    """Softmax followed by the mean cross-entropy loss (with the 1e-7 guard).

    Attributes:
        loss: the last loss. y: softmax output, shape (N, C). t: the targets given.
    """

    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        """Return the mean cross-entropy of softmax(x) against ``t``.

        Args:
            x: scores, shape (N, C).
            t: one-hot targets, shape (N, C), or integer labels, shape (N,).
        Returns:
            The loss, a float.
        """
        raise NotImplementedError("SoftmaxWithLoss.forward is not implemented yet")

    def backward(self, dout=1):
        """Return the gradient of the loss with respect to x: (y - t) / N.

        Args:
            dout: upstream gradient of the loss (1 for the last layer).
        Returns:
            dx, shape (N, C).
        """
        raise NotImplementedError("SoftmaxWithLoss.backward is not implemented yet")
