"""Known mistakes of ex05 layers that cannot be derived from the reference's results, one buggy
class each (instructors only).

``grader/exercises/ex05_layers.py`` names them in ``Mistake(..., variant={"Sigmoid":
"SigmoidBackwardOnInput"})``; only the results of the checks' scenarios with them in place are
stored.
"""

import numpy as np


class SigmoidBackwardOnInput:
    """backward applies y * (1 - y), the formula for the output y, to the forward input x."""

    def forward(self, x):
        self.x = x
        return 1 / (1 + np.exp(-x))

    def backward(self, dout):
        return dout * self.x * (1 - self.x)
