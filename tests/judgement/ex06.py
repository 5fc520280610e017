"""ex06 two-layer network: learners' mistakes and correct networks (issue 11).

A lone ex06 file cannot import the learner's ex03 and ex05, so each submission's prelude builds
them (the reference solutions, with a learner's bug where the entry says so) as modules in the
learner's process before the network imports them: a correct TwoLayerNet on a buggy earlier
exercise must not lose a point here.
"""

from __future__ import annotations

from conftest import SOLUTIONS, replace_functions
from judgement import Buggy, Correct

MODULE = "ex06_two_layer_net"

PREDICT = "TwoLayerNet.predict matches the reference"
LOSS = "TwoLayerNet.loss matches the reference (one-hot and integer labels)"
NUMERICAL = "TwoLayerNet.numerical_gradient matches the reference"
GRADIENT = "TwoLayerNet.gradient matches the reference (one-hot and integer labels)"
GRADIENT_CHECK = "TwoLayerNet.gradient agrees with a numerical gradient of your loss"
ACCURACY_ONE_HOT = "TwoLayerNet.accuracy matches the reference with one-hot targets"
ACCURACY_LABELS = "TwoLayerNet.accuracy matches the reference with integer labels"


def siblings(**replacements: dict[str, str]) -> str:
    """A prelude that makes the learner's ex03_gradient and ex05_layers importable: the
    solutions with ``replacements[module]`` (name -> source) swapped in."""
    lines = ["import sys as _sys", "import types as _types", "",
             "def _sibling(name, source):",
             "    module = _types.ModuleType(name)",
             "    exec(compile(source, name + '.py', 'exec'), module.__dict__)",
             "    _sys.modules[name] = module", ""]
    for module in ("ex03_gradient", "ex05_layers"):
        source = replace_functions((SOLUTIONS / f"{module}.py").read_text(),
                                   replacements.get(module, {}))
        lines.append(f"_sibling({module!r}, {source!r})")
    return "\n".join(lines) + "\n\n"


_SOFTMAX_WITH_LOSS = """
class SoftmaxWithLoss:
    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        x = x - np.max(x, axis=-1, keepdims=True)
        self.y = np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)
        if t.size == self.y.size:
            t = t.argmax(axis=1)
        batch_size = self.y.shape[0]
        self.loss = -np.sum(np.log(self.y[np.arange(batch_size), t] + 1e-7)) LOSS
        return self.loss

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:
            dx = (self.y - self.t) DX
        else:
            dx = self.y.copy()
            dx[np.arange(batch_size), self.t] -= 1
            dx = dx DX
        return dx
"""

_NUMERICAL_GRADIENT_NOT_RESTORED = """
def numerical_gradient(f, x):
    h = 1e-4
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=['multi_index'], op_flags=['readwrite'])
    while not it.finished:
        idx = it.multi_index
        tmp_val = x[idx]
        x[idx] = float(tmp_val) + h
        fxh1 = f(x)
        x[idx] = tmp_val - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2*h)
        it.iternext()
    return grad
"""


def _net(edit_old: str, edit_new: str) -> dict[str, str]:
    """The solution's TwoLayerNet with one text edit."""
    import ast

    source = (SOLUTIONS / f"{MODULE}.py").read_text()
    node = next(n for n in ast.parse(source).body
                if isinstance(n, ast.ClassDef) and n.name == "TwoLayerNet")
    cls = ast.get_source_segment(source, node)
    assert cls.count(edit_old) == 1, edit_old
    return {"TwoLayerNet": cls.replace(edit_old, edit_new)}


BUGGY = [
    Buggy("predict applies the softmax (returns probabilities)", MODULE, _net(
        """        for layer in self.layers.values():
            x = layer.forward(x)
        return x""",
        """        for layer in self.layers.values():
            x = layer.forward(x)
        x = x - np.max(x, axis=1, keepdims=True)
        return np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)"""),
          diagnosis=("predict returns probabilities",),
          charged=(PREDICT, LOSS, NUMERICAL, GRADIENT, GRADIENT_CHECK), prelude=siblings()),
    Buggy("accuracy returns the number of correct samples", MODULE, _net(
        "return np.sum(y == t) / float(x.shape[0])", "return np.sum(y == t)"),
          diagnosis=("accuracy counts instead of averaging",),
          charged=(ACCURACY_ONE_HOT, ACCURACY_LABELS), prelude=siblings()),
    Buggy("gradient skips the forward pass, on an ex05 whose backward does not divide by N",
          MODULE, _net("        self.loss(x, t)  # forward: every layer keeps what its backward "
                       "needs\n", ""),
          diagnosis=("gradient without a forward pass",), charged=(GRADIENT, GRADIENT_CHECK),
          prelude=siblings(ex05_layers={"SoftmaxWithLoss": _SOFTMAX_WITH_LOSS
                                        .replace("LOSS", "/ batch_size").replace("DX", "")})),
]

CORRECT = [
    Correct("the reference network on correct ex03 and ex05", MODULE, {}, prelude=siblings()),
    Correct("a correct network on an ex05 SoftmaxWithLoss whose backward does not divide by N",
            MODULE, {}, prelude=siblings(ex05_layers={"SoftmaxWithLoss": _SOFTMAX_WITH_LOSS
                                                      .replace("LOSS", "/ batch_size")
                                                      .replace("DX", "")})),
    Correct("a correct network on an ex05 SoftmaxWithLoss whose loss is summed over the batch",
            MODULE, {}, prelude=siblings(ex05_layers={"SoftmaxWithLoss": _SOFTMAX_WITH_LOSS
                                                      .replace("LOSS", "")
                                                      .replace("DX", "/ batch_size")})),
    Correct("a correct network on an ex03 numerical_gradient that does not restore x", MODULE, {},
            prelude=siblings(ex03_gradient={"numerical_gradient":
                                            _NUMERICAL_GRADIENT_NOT_RESTORED})),
]
