"""Known mistakes of ex04 layers, one buggy class each (instructors only).

Each class stands for the spec's class of the same constructor; ``grader/exercises/
ex04_layer_naive.py`` names them in ``Mistake(..., variant={"MulLayer": "MulLayerSwapped"})``,
and only the results of the checks' scenarios with them in place are stored.
"""


class MulLayerSwapped:
    """backward returns (dout * x, dout * y): the inputs are not swapped."""

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        return dout * self.x, dout * self.y


class MulLayerWithoutDout:
    """backward returns the local derivatives (y, x) alone."""

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        return self.y, self.x


class AddLayerWithoutDout:
    """backward returns the local derivatives (1, 1) alone."""

    def forward(self, x, y):
        return x + y

    def backward(self, dout):
        return 1, 1


class AddLayerAsProduct:
    """backward is the multiplication layer's: (dout * y, dout * x)."""

    def forward(self, x, y):
        self.x, self.y = x, y
        return x + y

    def backward(self, dout):
        return dout * self.y, dout * self.x
