"""ex07 optimizers: learners' mistakes and correct idioms (issue 11), in the learners' style.

Sources follow the book's common/optimizer.py and the study repositories built on it.
"""

from __future__ import annotations

from judgement import Buggy, Correct

MODULE = "ex07_optimizers"


def _checks(cls: str, other: str) -> tuple[str, str, str]:
    """The names of the three checks of ``cls`` (``other``: its non-default arguments)."""
    return (f"{cls}.update matches the reference over 4 calls (default arguments)",
            f"{cls}.update matches the reference over 3 calls ({other})",
            f"{cls}.update changes the arrays in params in place")


SGD = _checks("SGD", "lr=0.1")
MOMENTUM = _checks("Momentum", "lr=0.1, momentum=0.5")
RMSPROP = _checks("RMSprop", "lr=0.1, decay_rate=0.9")
ADAGRAD = _checks("AdaGrad", "lr=0.1")
ADADELTA = _checks("Adadelta", "rho=0.9, eps=0.0001")
ADAM = _checks("Adam", "lr=0.01, beta1=0.8, beta2=0.99")

_ADADELTA = """
class Adadelta:
    def __init__(self, rho=0.95, eps=1e-6):
        self.rho = rho
        self.eps = eps
        self.Eg = None
        self.Ex = None

    def update(self, params, grads):
        if self.Eg is None:
            self.Eg, self.Ex = {}, {}
            for key, val in params.items():
                self.Eg[key] = np.zeros_like(val)
                self.Ex[key] = np.zeros_like(val)
        for key in params.keys():
            self.Eg[key] = self.rho * self.Eg[key] + (1 - self.rho) * grads[key] ** 2
            STEP
            self.Ex[key] = self.rho * self.Ex[key] + (1 - self.rho) * dx ** 2
            params[key] += dx
"""

_ADAM_BOOK = """
class Adam:
    def __init__(self, lr=LR, beta1=0.9, beta2=0.999):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m = None
        self.v = None

    def update(self, params, grads):
        if self.m is None:
            self.m, self.v = {}, {}
            for key, val in params.items():
                self.m[key] = np.zeros_like(val)
                self.v[key] = np.zeros_like(val)
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key]**2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)
"""

BUGGY = [
    Buggy("Momentum in the moving-average form (v = mu v + (1 - mu) g)", MODULE, {"Momentum": """
        class Momentum:
            def __init__(self, lr=0.01, momentum=0.9):
                self.lr = lr
                self.momentum = momentum
                self.v = None

            def update(self, params, grads):
                if self.v is None:
                    self.v = {}
                    for key, val in params.items():
                        self.v[key] = np.zeros_like(val)
                for key in params.keys():
                    self.v[key] = self.momentum * self.v[key] + (1 - self.momentum) * grads[key]
                    params[key] -= self.lr * self.v[key]
        """}, diagnosis=("Momentum moving-average form",), charged=MOMENTUM[:2]),
    Buggy("Momentum velocity starts as the parameters (no zeros_like)", MODULE, {"Momentum": """
        class Momentum:
            def __init__(self, lr=0.01, momentum=0.9):
                self.lr = lr
                self.momentum = momentum
                self.v = None

            def update(self, params, grads):
                if self.v is None:
                    self.v = {}
                    for key, val in params.items():
                        self.v[key] = val
                for key in params.keys():
                    self.v[key] = self.momentum*self.v[key] - self.lr*grads[key]
                    params[key] += self.v[key]
        """}, diagnosis=("Momentum velocity is the parameters",), charged=MOMENTUM[:2]),
    Buggy("Momentum velocity is the params dict itself (self.v = params)", MODULE, {"Momentum": """
        class Momentum:
            def __init__(self, lr=0.01, momentum=0.9):
                self.lr = lr
                self.momentum = momentum
                self.v = None

            def update(self, params, grads):
                if self.v is None:
                    self.v = params
                for key in params.keys():
                    self.v[key] = self.momentum*self.v[key] - self.lr*grads[key]
                    params[key] += self.v[key]
        """}, diagnosis=("Momentum velocity is the parameters",
                                          "params rebound instead of updated in place"),
          charged=MOMENTUM),
    Buggy("RMSprop with the keyword decay instead of decay_rate", MODULE, {"RMSprop": """
        class RMSprop:
            def __init__(self, lr=0.01, decay=0.99):
                self.lr = lr
                self.decay = decay
                self.h = None

            def update(self, params, grads):
                if self.h is None:
                    self.h = {}
                    for key, val in params.items():
                        self.h[key] = np.zeros_like(val)
                for key in params.keys():
                    self.h[key] *= self.decay
                    self.h[key] += (1 - self.decay) * grads[key] * grads[key]
                    params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)
        """}, diagnosis=("keyword not the spec's",), charged=RMSPROP[1:2]),
    Buggy("class RMSProp (the case of the spec's RMSprop)", MODULE, {"RMSprop": """
        class RMSProp:
            def __init__(self, lr=0.01, decay_rate=0.99):
                self.lr = lr
                self.decay_rate = decay_rate
                self.h = None

            def update(self, params, grads):
                if self.h is None:
                    self.h = {}
                    for key, val in params.items():
                        self.h[key] = np.zeros_like(val)
                for key in params.keys():
                    self.h[key] *= self.decay_rate
                    self.h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
                    params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)
        """}, diagnosis=("misspelt name",), charged=RMSPROP),
    Buggy("Adadelta with eps outside the square roots", MODULE, {"Adadelta": _ADADELTA.replace(
        "STEP", "dx = -(np.sqrt(self.Ex[key]) + self.eps) / (np.sqrt(self.Eg[key]) + self.eps)"
                " * grads[key]")},
          diagnosis=("Adadelta eps outside the square roots",), charged=ADADELTA[:2]),
    Buggy("Adadelta whose numerator lacks eps (every step is 0)", MODULE, {"Adadelta": _ADADELTA
          .replace("STEP", "dx = -np.sqrt(self.Ex[key]) / np.sqrt(self.Eg[key] + self.eps)"
                           " * grads[key]")},
          diagnosis=("Adadelta numerator without eps",), charged=ADADELTA),
    Buggy("SGD with the default lr=0.1", MODULE, {"SGD": """
        class SGD:
            def __init__(self, lr=0.1):
                self.lr = lr

            def update(self, params, grads):
                for key in params.keys():
                    params[key] -= self.lr * grads[key]
        """}, diagnosis=("wrong default",), charged=SGD[:1]),
    Buggy("Adam with the default lr=0.01", MODULE, {"Adam": _ADAM_BOOK.replace("LR", "0.01")},
          diagnosis=("wrong default",), charged=ADAM[:1]),
    Buggy("SGD ignoring lr (self.lr = 0.01)", MODULE, {"SGD": """
        class SGD:
            def __init__(self, lr=0.01):
                self.lr = 0.01

            def update(self, params, grads):
                for key in params.keys():
                    params[key] -= self.lr * grads[key]
        """}, diagnosis=("lr ignored",), charged=SGD[1:2]),
    Buggy("Momentum ignoring its momentum argument (0.9 written in update)", MODULE,
          {"Momentum": """
        class Momentum:
            def __init__(self, lr=0.01, momentum=0.9):
                self.lr = lr
                self.momentum = momentum
                self.v = None

            def update(self, params, grads):
                if self.v is None:
                    self.v = {}
                    for key, val in params.items():
                        self.v[key] = np.zeros_like(val)
                for key in params.keys():
                    self.v[key] = 0.9*self.v[key] - self.lr*grads[key]
                    params[key] += self.v[key]
        """}, diagnosis=("momentum ignored",), charged=MOMENTUM[1:2]),
]

CORRECT = [
    Correct("AdaGrad with eps inside the square root", MODULE, {"AdaGrad": """
        class AdaGrad:
            def __init__(self, lr=0.01):
                self.lr = lr
                self.h = None

            def update(self, params, grads):
                if self.h is None:
                    self.h = {}
                    for key, val in params.items():
                        self.h[key] = np.zeros_like(val)
                for key in params.keys():
                    self.h[key] += grads[key] * grads[key]
                    params[key] -= self.lr * grads[key] / np.sqrt(self.h[key] + 1e-7)
        """}),
    Correct("RMSprop with eps inside the square root", MODULE, {"RMSprop": """
        class RMSprop:
            def __init__(self, lr=0.01, decay_rate=0.99):
                self.lr = lr
                self.decay_rate = decay_rate
                self.h = None

            def update(self, params, grads):
                if self.h is None:
                    self.h = {}
                    for key, val in params.items():
                        self.h[key] = np.zeros_like(val)
                for key in params.keys():
                    self.h[key] *= self.decay_rate
                    self.h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
                    params[key] -= self.lr * grads[key] / np.sqrt(self.h[key] + 1e-7)
        """}),
    Correct("the book's Adam (lr_t, eps 1e-7)", MODULE,
            {"Adam": _ADAM_BOOK.replace("LR", "0.001")}),
    Correct("Adam with explicit m_hat, v_hat and eps 1e-8", MODULE, {"Adam": """
        class Adam:
            def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
                self.lr, self.beta1, self.beta2 = lr, beta1, beta2
                self.t = 0
                self.m = None
                self.v = None

            def update(self, params, grads):
                if self.m is None:
                    self.m = {k: np.zeros_like(v) for k, v in params.items()}
                    self.v = {k: np.zeros_like(v) for k, v in params.items()}
                self.t += 1
                for k in params:
                    g = grads[k]
                    self.m[k] = self.beta1 * self.m[k] + (1 - self.beta1) * g
                    self.v[k] = self.beta2 * self.v[k] + (1 - self.beta2) * (g ** 2)
                    m_hat = self.m[k] / (1 - self.beta1 ** self.t)
                    v_hat = self.v[k] / (1 - self.beta2 ** self.t)
                    params[k] -= self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)
        """}),
    Correct("Adadelta with an extra lr=1.0 keyword", MODULE, {"Adadelta": _ADADELTA.replace(
        "def __init__(self, rho=0.95, eps=1e-6):", "def __init__(self, rho=0.95, eps=1e-6, lr=1.0):"
    ).replace("self.eps = eps", "self.eps = eps\n        self.lr = lr").replace(
        "STEP", "dx = -self.lr * np.sqrt(self.Ex[key] + self.eps) / "
                "np.sqrt(self.Eg[key] + self.eps) * grads[key]")}),
]
