"""ex07 graded against the solution, correct variants the spec allows, and known mistakes."""

from __future__ import annotations

import inspect

import pytest

from conftest import SOLUTIONS, by_name, grade
from grader.exercises.ex07_optimizers import (
    ADADELTA_NUMERATOR,
    MISTAKES,
    NOT_UPDATED,
    OTHER_ARGUMENTS,
    REBINDS,
    SPEC_DEFAULTS,
)
from grader.fileimport import import_file

CLASSES = tuple(MISTAKES)


def checks_of(cls: str) -> list[str]:
    """The names of the three checks of ``cls``."""
    return [
        f"{cls}.update matches the reference over 4 calls (default arguments)",
        f"{cls}.update matches the reference over 3 calls ("
        + ", ".join(f"{name}={value:g}" for name, value in OTHER_ARGUMENTS[cls].items()) + ")",
        f"{cls}.update changes the arrays in params in place",
    ]


VALUES, IN_PLACE = slice(0, 2), slice(2, 3)


def test_there_are_three_checks_per_class():
    result = grade("ex07", SOLUTIONS)
    assert sorted(c.name for c in result.checks) == sorted(n for c in CLASSES
                                                          for n in checks_of(c))


# The book's common/optimizer.py (Adadelta is not in the book), params as dicts.
BOOK = {
    "SGD": """
        class SGD:
            def __init__(self, lr=0.01):
                self.lr = lr

            def update(self, params, grads):
                for key in params.keys():
                    params[key] -= self.lr * grads[key]
        """,
    "Momentum": """
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
                    self.v[key] = self.momentum*self.v[key] - self.lr*grads[key]
                    params[key] += self.v[key]
        """,
    "Nesterov": """
        class Nesterov:
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
                    params[key] += self.momentum * self.momentum * self.v[key]
                    params[key] -= (1 + self.momentum) * self.lr * grads[key]
                    self.v[key] *= self.momentum
                    self.v[key] -= self.lr * grads[key]
        """,
    "AdaGrad": """
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
                    params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)
        """,
    "RMSprop": """
        class RMSprop:
            def __init__(self, lr=0.01, decay_rate = 0.99):
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
        """,
    "Adadelta": """
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
                    self.Eg[key] = self.rho * self.Eg[key] + (1 - self.rho) * grads[key]**2
                    d = -np.sqrt(self.Ex[key] + self.eps) / np.sqrt(self.Eg[key] + self.eps)
                    d *= grads[key]
                    self.Ex[key] = self.rho * self.Ex[key] + (1 - self.rho) * d**2
                    params[key] += d
        """,
    "Adam": """
        class Adam:
            def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
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
                lr_t  = (self.lr * np.sqrt(1.0 - self.beta2**self.iter)
                         / (1.0 - self.beta1**self.iter))
                for key in params.keys():
                    self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
                    self.v[key] += (1 - self.beta2) * (grads[key]**2 - self.v[key])
                    params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)
        """,
}


def edit(cls: str, old: str, new: str, source: str | None = None) -> dict[str, str]:
    """``{cls: source}``: the book's ``cls`` (or ``source``) with ``old`` replaced by ``new``."""
    source = BOOK[cls] if source is None else source
    assert old in source, (cls, old)
    return {cls: source.replace(old, new)}


# Correct code the spec allows: full marks.
CORRECT_VARIANTS = {
    "the book's code": BOOK,
    "epsilon inside the square root, Nesterov's look-ahead form, state per key": {
        "AdaGrad": """
            class AdaGrad:
                def __init__(self, lr=0.01):
                    self.lr = lr
                    self.h = {}

                def update(self, params, grads):
                    for key in params:
                        if key not in self.h:
                            self.h[key] = np.zeros_like(params[key])
                        self.h[key] += grads[key] ** 2
                        params[key] -= self.lr * grads[key] / np.sqrt(self.h[key] + 1e-7)
            """,
        "RMSprop": """
            class RMSprop:
                def __init__(self, lr=0.01, decay_rate=0.99):
                    self.lr, self.decay_rate, self.h = lr, decay_rate, {}

                def update(self, params, grads):
                    for key, g in grads.items():
                        h = self.h.setdefault(key, np.zeros_like(g))
                        h[...] = self.decay_rate * h + (1 - self.decay_rate) * g ** 2
                        params[key] -= self.lr * g / np.sqrt(h + 1e-7)
            """,
        "Nesterov": """
            class Nesterov:
                def __init__(self, lr=0.01, momentum=0.9):
                    self.lr, self.momentum, self.v = lr, momentum, None

                def update(self, params, grads):
                    if self.v is None:
                        self.v = {k: np.zeros_like(p) for k, p in params.items()}
                    for key in params:
                        v_prev = self.v[key].copy()
                        self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
                        params[key] += -self.momentum * v_prev + (1 + self.momentum) * self.v[key]
            """,
        "Adam": """
            class Adam:
                def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
                    self.lr, self.beta1, self.beta2 = lr, beta1, beta2
                    self.t, self.m, self.v = 0, {}, {}

                def update(self, params, grads):
                    self.t += 1
                    for key in params:
                        g = grads[key]
                        self.m[key] = self.beta1 * self.m.get(key, 0) + (1 - self.beta1) * g
                        self.v[key] = self.beta2 * self.v.get(key, 0) + (1 - self.beta2) * g * g
                        m_hat = self.m[key] / (1 - self.beta1 ** self.t)
                        v_hat = self.v[key] / (1 - self.beta2 ** self.t)
                        params[key] -= self.lr * m_hat / np.sqrt(v_hat + 1e-7)
            """,
    },
    "epsilon on the bias-corrected v, in-place writes without -=": {
        "SGD": """
            class SGD:
                def __init__(self, lr=0.01):
                    self.lr = lr

                def update(self, params, grads):
                    for key in params:
                        np.subtract(params[key], self.lr * grads[key], out=params[key])
            """,
        "Momentum": """
            class Momentum:
                def __init__(self, lr=0.01, momentum=0.9):
                    self.lr, self.momentum, self.v = lr, momentum, None

                def update(self, params, grads):
                    if self.v is None:
                        self.v = {k: np.zeros_like(p) for k, p in params.items()}
                    for key in params:
                        self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
                        params[key][...] = params[key] + self.v[key]
            """,
        "Adam": """
            class Adam:
                def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
                    self.lr, self.beta1, self.beta2 = lr, beta1, beta2
                    self.t, self.m, self.v = 0, None, None

                def update(self, params, grads):
                    if self.m is None:
                        self.m = {k: np.zeros_like(p) for k, p in params.items()}
                        self.v = {k: np.zeros_like(p) for k, p in params.items()}
                    self.t += 1
                    for key in params:
                        g = grads[key]
                        self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * g
                        self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * g * g
                        m_hat = self.m[key] / (1 - self.beta1 ** self.t)
                        v_hat = self.v[key] / (1 - self.beta2 ** self.t)
                        params[key][:] -= self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)
            """,
    },
    "epsilon inside the square root of the uncorrected v": edit(
        "Adam", "(np.sqrt(self.v[key]) + 1e-7)", "np.sqrt(self.v[key] + 1e-7)"),
}


@pytest.mark.parametrize("name", CORRECT_VARIANTS)
def test_correct_variant_gets_full_marks(variant, name):
    result = grade("ex07", variant("ex07_optimizers", CORRECT_VARIANTS[name]))
    assert [(c.name, c.output) for c in result.checks if not c.passed] == []


_ADAM_COUNTING_LAST = BOOK["Adam"].replace("                self.iter += 1\n", "") + """
                self.iter += 1  # after the step: the first correction divides by 0
"""
_ADAM_COUNTING_PER_KEY = """
    class Adam:
        def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
            self.lr, self.beta1, self.beta2 = lr, beta1, beta2
            self.iter, self.m, self.v = 0, None, None

        def update(self, params, grads):
            if self.m is None:
                self.m = {key: np.zeros_like(val) for key, val in params.items()}
                self.v = {key: np.zeros_like(val) for key, val in params.items()}
            for key in params.keys():
                self.iter += 1
                lr_t = self.lr * np.sqrt(1 - self.beta2**self.iter) / (1 - self.beta1**self.iter)
                self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
                self.v[key] += (1 - self.beta2) * (grads[key]**2 - self.v[key])
                params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)
"""
_NESTEROV_OLDER = """
    class Nesterov:
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
                self.v[key] *= self.momentum
                self.v[key] -= self.lr * grads[key]
                params[key] += self.momentum * self.momentum * self.v[key]
                params[key] -= (1 + self.momentum) * self.lr * grads[key]
    """
_NESTEROV_LOOK_AHEAD_ALIASED = edit("Nesterov", """
                    params[key] += self.momentum * self.momentum * self.v[key]
                    params[key] -= (1 + self.momentum) * self.lr * grads[key]
                    self.v[key] *= self.momentum
                    self.v[key] -= self.lr * grads[key]
""", """
                    v_prev = self.v[key]
                    self.v[key] *= self.momentum
                    self.v[key] -= self.lr * grads[key]
                    params[key] += -self.momentum * v_prev + (1 + self.momentum) * self.v[key]
""")
_ADADELTA_WITH_LR = edit("Adadelta", "def __init__(self, rho=0.95, eps=1e-6):",
                         "def __init__(self, rho=0.95, eps=1e-6, lr=0.01):\n"
                         "                self.lr = lr")

# (class, buggy definitions, diagnosis): the two checks of the class's values fail with it.
VALUE_BUGS = [
    ("SGD", edit("SGD", "params[key] -= ", "params[key] += "), "SGD adds the step"),
    ("Momentum", edit("Momentum", "- self.lr*grads[key]", "+ self.lr*grads[key]"),
     "Momentum adds lr*g"),
    ("Momentum", edit("Momentum", "if self.v is None:", "if True:"),
     "Momentum state re-created on every call"),
    ("Momentum", edit("Momentum", """
                    self.v[key] = self.momentum*self.v[key] - self.lr*grads[key]
                    params[key] += self.v[key]
""", """
                    self.v[key] = self.momentum*self.v[key] + (1 - self.momentum)*grads[key]
                    params[key] -= self.lr*self.v[key]
"""), "Momentum moving-average form"),
    ("Momentum", edit("Momentum", "self.v[key] = np.zeros_like(val)", "self.v[key] = val"),
     "Momentum velocity is the parameters"),
    ("Nesterov", {"Nesterov": _NESTEROV_OLDER}, "Nesterov in the older order"),
    ("Nesterov", _NESTEROV_LOOK_AHEAD_ALIASED, "Nesterov look-ahead with the new velocity only"),
    ("Nesterov", edit("Nesterov", "if self.v is None:", "if True:"),
     "Nesterov state re-created on every call"),
    ("AdaGrad", edit("AdaGrad", "(np.sqrt(self.h[key]) + 1e-7)", "np.sqrt(self.h[key])"),
     "AdaGrad without epsilon"),
    ("AdaGrad", edit("AdaGrad", "self.h[key] += grads[key] * grads[key]",
                     "self.h[key] = grads[key] * grads[key]"),
     "AdaGrad state re-created on every call"),
    ("RMSprop", edit("RMSprop", """
                    self.h[key] *= self.decay_rate
                    self.h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
""", """
                    self.h[key] *= 1 - self.decay_rate
                    self.h[key] += self.decay_rate * grads[key] * grads[key]
"""), "RMSprop decay_rate reversed"),
    ("RMSprop", edit("RMSprop", "(np.sqrt(self.h[key]) + 1e-7)", "np.sqrt(self.h[key])"),
     "RMSprop without epsilon"),
    ("RMSprop", edit("RMSprop", "if self.h is None:", "if True:"),
     "RMSprop state re-created on every call"),
    ("Adadelta", edit("Adadelta", "params[key] += d", "params[key] += self.lr * d",
                      _ADADELTA_WITH_LR["Adadelta"]), "Adadelta with a learning rate"),
    ("Adadelta", edit("Adadelta", "d *= grads[key]", "d *= self.lr * grads[key]",
                      _ADADELTA_WITH_LR["Adadelta"]), "Adadelta with a learning rate in d"),
    ("Adadelta", edit("Adadelta",
                      "                    self.Ex[key] = self.rho * self.Ex[key] + (1 - self.rho) "
                      "* d**2\n", ""), "Adadelta without the Ex update"),
    ("Adadelta", edit("Adadelta", "d = -np.sqrt(self.Ex[key] + self.eps) / np.sqrt(self.Eg[key] "
                      "+ self.eps)", "d = -(np.sqrt(self.Ex[key]) + self.eps) / "
                      "(np.sqrt(self.Eg[key]) + self.eps)"),
     "Adadelta eps outside the square roots"),
    ("Adadelta", edit("Adadelta", "if self.Eg is None:", "if True:"),
     "Adadelta state re-created on every call"),
    ("Adam", edit("Adam", "lr_t  = (self.lr * np.sqrt(1.0 - self.beta2**self.iter)\n"
                  "                         / (1.0 - self.beta1**self.iter))", "lr_t = self.lr"),
     "Adam without bias correction"),
    ("Adam", edit("Adam", "self.iter += 1", "self.iter = 1"), "Adam t stuck at 1"),
    ("Adam", {"Adam": _ADAM_COUNTING_LAST}, "Adam t is 0 in the bias correction"),
    ("Adam", {"Adam": _ADAM_COUNTING_PER_KEY}, "Adam t advanced per key"),
    ("Adam", edit("Adam", "(np.sqrt(self.v[key]) + 1e-7)", "np.sqrt(self.v[key])"),
     "Adam without epsilon"),
    ("Adam", edit("Adam", "if self.m is None:", "if True:"), "Adam state re-created on every call"),
]


@pytest.mark.parametrize(("cls", "source", "diagnosis"), VALUE_BUGS,
                         ids=[diagnosis for _, _, diagnosis in VALUE_BUGS])
def test_known_mistake_is_caught_and_named(variant, cls, source, diagnosis):
    result = grade("ex07", variant("ex07_optimizers", source))
    checks = by_name(result)
    for name in checks_of(cls)[VALUES]:
        assert not checks[name].passed, name
        assert checks[name].diagnosis == diagnosis, checks[name].output
        assert checks[name].output.startswith(next(
            m.message for m in MISTAKES[cls] if m.name == diagnosis))
    # The update is in place: that check passes, and so does every check of other classes.
    for check in result.checks:
        if check.name not in checks_of(cls)[VALUES]:
            assert check.passed, (check.name, check.output)


def _rebinding(cls: str) -> dict[str, str]:
    source = BOOK[cls]
    for op in ("-=", "+="):
        source = source.replace(f"params[key] {op} ", f"params[key] = params[key] {op[0]} ")
    assert source != BOOK[cls]
    return {cls: source}


def _not_updating(cls: str) -> dict[str, str]:
    source = BOOK[cls].replace("params[key] ", "p = params[key].copy(); p ")
    assert source != BOOK[cls]
    return {cls: source}


@pytest.mark.parametrize("cls", CLASSES)
def test_rebinding_params_is_diagnosed_by_the_in_place_check_only(variant, cls):
    result = grade("ex07", variant("ex07_optimizers", _rebinding(cls)))
    check = by_name(result)[checks_of(cls)[IN_PLACE][0]]
    assert not check.passed and check.diagnosis == REBINDS.name, check.output
    assert check.output.startswith(REBINDS.message)
    assert [c.name for c in result.checks if not c.passed] == [check.name]


@pytest.mark.parametrize("cls", CLASSES)
def test_params_left_unchanged_is_diagnosed(variant, cls):
    result = grade("ex07", variant("ex07_optimizers", _not_updating(cls)))
    checks = by_name(result)
    for name in checks_of(cls):
        assert not checks[name].passed and checks[name].diagnosis == NOT_UPDATED.name, name
    assert sum(not c.passed for c in result.checks) == 3


def test_every_known_mistake_has_a_buggy_submission():
    covered = {(cls, diagnosis) for cls, _, diagnosis in VALUE_BUGS}
    listed = {(cls, m.name) for cls, mistakes in MISTAKES.items() for m in mistakes}
    assert listed <= covered, listed - covered
    # NOT_UPDATED and REBINDS are tested for every class above.


def test_hard_coded_arguments_fail_the_other_arguments_check_only(variant):
    result = grade("ex07", variant("ex07_optimizers", edit(
        "Momentum", "self.momentum = momentum", "self.momentum = 0.9")))
    assert [c.name for c in result.checks if not c.passed] == [checks_of("Momentum")[1]]


def test_modifying_grads_is_caught(variant):
    result = grade("ex07", variant("ex07_optimizers", edit(
        "SGD", "params[key] -= self.lr * grads[key]",
        "grads[key] *= self.lr\n                    params[key] -= grads[key]")))
    checks = by_name(result)
    for name in checks_of("SGD"):
        assert not checks[name].passed and checks[name].diagnosis == "modifies its input", name


def test_a_failure_says_which_call_and_parameter(variant):
    result = grade("ex07", variant("ex07_optimizers", edit(
        "Adam", "self.iter += 1", "self.iter = 1")))
    output = by_name(result)[checks_of("Adam")[0]].output
    assert "step 2['W']" in output or "step 2['b']" in output
    assert "largest error" in output and "expected" in output and "got" in output


def test_the_spec_defaults_are_the_solution_signatures():
    solution = import_file(SOLUTIONS / "ex07_optimizers.py", "_ex07_signatures")
    for cls, defaults in SPEC_DEFAULTS.items():
        parameters = inspect.signature(getattr(solution, cls)).parameters
        assert {name: p.default for name, p in parameters.items()} == defaults, cls
        assert set(OTHER_ARGUMENTS[cls]) <= set(defaults), cls


@pytest.mark.parametrize(("cls", "source", "keyword"), [
    ("SGD", edit("SGD", "lr=0.01", "lr=0.1"), "lr"),
    ("Adam", edit("Adam", "lr=0.001", "lr=0.01"), "lr"),
    ("Momentum", edit("Momentum", "momentum=0.9", "momentum=0.8"), "momentum"),
])
def test_a_wrong_default_fails_the_default_check_only_and_says_the_right_one(variant, cls,
                                                                             source, keyword):
    result = grade("ex07", variant("ex07_optimizers", source))
    failed = [c for c in result.checks if not c.passed]
    assert [c.name for c in failed] == [checks_of(cls)[0]]
    assert failed[0].diagnosis == "wrong default"
    assert f"the default of {keyword} must be {SPEC_DEFAULTS[cls][keyword]:g}" in failed[0].output


@pytest.mark.parametrize(("cls", "source", "keyword"), [
    ("SGD", edit("SGD", "self.lr = lr", "self.lr = 0.01"), "lr"),
    ("Momentum", edit("Momentum", "self.momentum = momentum", "self.momentum = 0.9"), "momentum"),
    ("RMSprop", edit("RMSprop", "self.decay_rate = decay_rate", "self.decay_rate = 0.99"),
     "decay_rate"),
])
def test_an_ignored_argument_is_named(variant, cls, source, keyword):
    result = grade("ex07", variant("ex07_optimizers", source))
    failed = [c for c in result.checks if not c.passed]
    assert [c.name for c in failed] == [checks_of(cls)[1]]
    assert failed[0].diagnosis == f"{keyword} ignored", failed[0].output


def test_a_keyword_named_otherwise_than_the_spec_is_named(variant):
    source = BOOK["RMSprop"].replace("decay_rate", "decay")
    result = grade("ex07", variant("ex07_optimizers", {"RMSprop": source}))
    failed = [c for c in result.checks if not c.passed]
    assert [c.name for c in failed] == [checks_of("RMSprop")[1]]
    assert failed[0].diagnosis == "keyword not the spec's"
    assert "decay_rate" in failed[0].output and "RMSprop(lr=0.01, decay_rate=0.99)" in \
        failed[0].output


def test_adadelta_steps_of_zero_are_blamed_on_the_numerator_not_on_in_place_updates(variant):
    result = grade("ex07", variant("ex07_optimizers", edit(
        "Adadelta", "np.sqrt(self.Ex[key] + self.eps)", "np.sqrt(self.Ex[key])")))
    checks = by_name(result)
    for name in checks_of("Adadelta"):
        assert checks[name].diagnosis == ADADELTA_NUMERATOR.name, checks[name].output
        assert "first step is 0" in checks[name].output
    assert sum(not c.passed for c in result.checks) == 3
