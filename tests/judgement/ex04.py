"""ex04 layer_naive: learners' mistakes and correct idioms, as they write them."""

from judgement import Buggy, Correct

M = "ex04_layer_naive"
MUL_FORWARD = "MulLayer forward returns x * y (numbers and arrays)"
MUL_BACKWARD = "MulLayer backward returns (dout * y, dout * x)"
APPLE = "MulLayer reproduces the book's apple example (220; 2.2, 110, 200)"
ADD_BACKWARD = "AddLayer backward returns (dout, dout)"
APPLE_ORANGE = ("MulLayer and AddLayer reproduce the book's apple-orange example "
                "(715; 110, 2.2, 3.3, 165, 650)")


def _mul(backward: str, forward: str = "") -> str:
    forward = forward or """
                    self.x = x
                    self.y = y
                    out = x * y
                    return out"""
    return f"""
            class MulLayer:
                def __init__(self):
                    self.x = None
                    self.y = None

                def forward(self, x, y):{forward}

                def {backward}
            """


BUGGY = [
    Buggy("MulLayer.backward with the inputs not swapped", M, {
        "MulLayer": _mul("""backward(self, dout):
                    dx = dout * self.x
                    dy = dout * self.y
                    return dx, dy""")},
        ("backward swapped",), (MUL_BACKWARD, APPLE, APPLE_ORANGE)),
    Buggy("MulLayer.backword (misspelt)", M, {
        "MulLayer": _mul("""backword(self, dout):
                    return dout * self.y, dout * self.x""")},
        ("misspelt name",), (MUL_BACKWARD, APPLE, APPLE_ORANGE)),
    Buggy("MulLayer.forward keeping nothing", M, {
        "MulLayer": _mul("""backward(self, dout):
                    return dout * self.y, dout * self.x""", """
                    return x * y""")},
        ("forward keeps nothing",), (MUL_BACKWARD, APPLE, APPLE_ORANGE)),
    Buggy("AddLayer.backward returning (1, 1)", M, {
        "AddLayer": """
            class AddLayer:
                def __init__(self):
                    pass

                def forward(self, x, y):
                    return x + y

                def backward(self, dout):
                    return 1, 1
            """}, ("dout ignored",), (ADD_BACKWARD, APPLE_ORANGE)),
]

CORRECT = [
    Correct("the book's layer_naive.py, with dx/dy named variables", M, {
        "MulLayer": _mul("""backward(self, dout):
                    dx = dout * self.y  # x와 y를 바꾼다.
                    dy = dout * self.x
                    return dx, dy""")}),
    Correct("AddLayer returning a list", M, {
        "AddLayer": """
            class AddLayer:
                def forward(self, x, y):
                    return x + y

                def backward(self, dout):
                    return [dout * 1, dout * 1]
            """}),
]
