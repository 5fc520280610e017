"""ex06 graded against the solution, correct variants the spec allows, and known mistakes."""

from __future__ import annotations

import ast
import shutil
from dataclasses import replace

import numpy as np
import pytest

from conftest import EXERCISES, SOLUTIONS, TEST_LIMITS, by_name, grade, write_variant
from grader.engine import grade_path
from grader.exercises.ex06_two_layer_net import (
    EXERCISE,
    INIT_SIZES,
    INIT_STD,
    LABELS,
    MISTAKES,
    OTHER_STD,
    C,
    _weight_problem,
)
from grader.expected import StoredOracle

MODULE = "ex06_two_layer_net"
SIBLINGS = ("ex03_gradient", "ex05_layers")  # the learner's earlier exercises it imports

SHAPES = "TwoLayerNet.__init__ makes params W1, b1, W2, b2 of the right shapes"
BIASES = "TwoLayerNet.__init__ starts the biases at zero"
WEIGHTS = "TwoLayerNet.__init__ draws the weights from N(0, weight_init_std^2)"
IN_PLACE = "TwoLayerNet sees in-place updates of params"
PREDICT = "TwoLayerNet.predict matches the reference"
LOSS = "TwoLayerNet.loss matches the reference (one-hot and integer labels)"
ACCURACY_ONE_HOT = "TwoLayerNet.accuracy matches the reference with one-hot targets"
ACCURACY_LABELS = "TwoLayerNet.accuracy matches the reference with integer labels"
NUMERICAL = "TwoLayerNet.numerical_gradient matches the reference"
GRADIENT = "TwoLayerNet.gradient matches the reference (one-hot and integer labels)"
GRADIENT_CHECK = "TwoLayerNet.gradient agrees with a numerical gradient of your loss"
#: Every check that gives the network known parameters by writing them into params in place.
REFERENCE = {PREDICT, LOSS, ACCURACY_ONE_HOT, ACCURACY_LABELS, NUMERICAL, GRADIENT, GRADIENT_CHECK}
ACCURACY = {ACCURACY_ONE_HOT, ACCURACY_LABELS}
#: A network whose layers hold copies predicts with its own random weights: its accuracy on 8
#: samples may equal the reference's by chance.
BY_CHANCE = {"layers hold copies of params": ACCURACY}


def _solution_class() -> str:
    source = (SOLUTIONS / f"{MODULE}.py").read_text()
    node = next(n for n in ast.parse(source).body
                if isinstance(n, ast.ClassDef) and n.name == "TwoLayerNet")
    return ast.get_source_segment(source, node)


SOLUTION_CLASS = _solution_class()


def edited(*edits: tuple[str, str]) -> str:
    """The solution's TwoLayerNet with each ``(old, new)`` text replaced (``old`` must occur)."""
    source = SOLUTION_CLASS
    for old, new in edits:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    return source


@pytest.fixture
def submission(variant):
    """``submission(class_source)`` -> a folder with that TwoLayerNet and the ex03, ex05 it uses."""

    def make(class_source: str):
        folder = variant(MODULE, {"TwoLayerNet": class_source}).parent
        for sibling in SIBLINGS:
            shutil.copy(SOLUTIONS / f"{sibling}.py", folder)
        return folder

    return make


def grade_alone(folder):
    """Grade ex06 in ``folder`` without grading its ex03 and ex05 first (tested separately)."""
    return grade_path(replace(EXERCISE, requires=()), folder, limits=TEST_LIMITS)


def failing(result) -> dict[str, str]:
    return {c.name: c.output for c in result.checks if not c.passed}


def test_solution_gets_full_marks():
    result = grade("ex06", SOLUTIONS)
    assert result.error is None and result.notes == []
    assert failing(result) == {}
    assert result.score == result.max_score == 12


def test_untouched_stub_gets_zero_and_says_not_implemented():
    result = grade("ex06", EXERCISES)  # a folder: the stub imports the ex03 and ex05 stubs
    assert result.error is None
    assert result.score == 0
    assert all("not implemented yet" in c.output for c in result.checks)
    assert [note.split(",")[0] for note in result.notes] == [
        "ex06 builds on your ex03", "ex06 builds on your ex05"]


def test_an_unfinished_ex05_is_named_before_the_checks(tmp_path):
    shutil.copy(SOLUTIONS / f"{MODULE}.py", tmp_path)
    shutil.copy(SOLUTIONS / "ex03_gradient.py", tmp_path)
    shutil.copy(EXERCISES / "ex05_layers.py", tmp_path)  # the untouched stub
    result = grade("ex06", tmp_path)
    assert len(result.notes) == 1 and "builds on your ex05, which scores 0/" in result.notes[0]
    assert not by_name(result)[PREDICT].passed


BOOK = """
class TwoLayerNet:

    def __init__(self, input_size, hidden_size, output_size, weight_init_std = 0.01):
        # 가중치 초기화
        self.params = {}
        self.params['W1'] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params['b1'] = np.zeros(hidden_size)
        self.params['W2'] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params['b2'] = np.zeros(output_size)

        # 계층 생성
        self.layers = OrderedDict()
        self.layers['Affine1'] = Affine(self.params['W1'], self.params['b1'])
        self.layers['Relu1'] = Relu()
        self.layers['Affine2'] = Affine(self.params['W2'], self.params['b2'])

        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)

        return x

    # x : 입력 데이터, t : 정답 레이블
    def loss(self, x, t):
        y = self.predict(x)
        return self.lastLayer.forward(y, t)

    def accuracy(self, x, t):
        y = self.predict(x)
        y = np.argmax(y, axis=1)
        if t.ndim != 1 : t = np.argmax(t, axis=1)

        accuracy = np.sum(y == t) / float(x.shape[0])
        return accuracy

    # x : 입력 데이터, t : 정답 레이블
    def numerical_gradient(self, x, t):
        loss_W = lambda W: self.loss(x, t)

        grads = {}
        grads['W1'] = numerical_gradient(loss_W, self.params['W1'])
        grads['b1'] = numerical_gradient(loss_W, self.params['b1'])
        grads['W2'] = numerical_gradient(loss_W, self.params['W2'])
        grads['b2'] = numerical_gradient(loss_W, self.params['b2'])

        return grads

    def gradient(self, x, t):
        # forward
        self.loss(x, t)

        # backward
        dout = 1
        dout = self.lastLayer.backward(dout)

        layers = list(self.layers.values())
        layers.reverse()
        for layer in layers:
            dout = layer.backward(dout)

        # 결과 저장
        grads = {}
        grads['W1'], grads['b1'] = self.layers['Affine1'].dW, self.layers['Affine1'].db
        grads['W2'], grads['b2'] = self.layers['Affine2'].dW, self.layers['Affine2'].db

        return grads
"""

# A network that reads params on every call instead of keeping layers, with other spellings.
REBUILT_EACH_CALL = """
class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        rng = np.random.default_rng()
        self.params = {
            "W1": rng.normal(0.0, weight_init_std, size=(input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": rng.normal(0.0, weight_init_std, size=(hidden_size, output_size)),
            "b2": np.zeros(output_size),
        }

    def _layers(self):
        p = self.params
        return [Affine(p["W1"], p["b1"]), Relu(), Affine(p["W2"], p["b2"])]

    def predict(self, x):
        self.layers = self._layers()
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        self.last = SoftmaxWithLoss()
        return self.last.forward(self.predict(x), t)

    def accuracy(self, x, t):
        labels = t.argmax(axis=-1) if t.ndim == 2 else t
        return np.mean(self.predict(x).argmax(axis=-1) == labels)

    def numerical_gradient(self, x, t):
        return {k: numerical_gradient(lambda _: self.loss(x, t), v)
                for k, v in self.params.items()}

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last.backward()
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        first, _, second = self.layers
        return {"W1": first.dW, "b1": first.db, "W2": second.dW, "b2": second.db}
"""

CORRECT_VARIANTS = {
    "the book's ch05 two_layer_net.py": BOOK,
    "layers rebuilt from params on every call": REBUILT_EACH_CALL,
    "np.random.normal, reversed OrderedDict": edited(
        ("weight_init_std * np.random.randn(input_size, hidden_size)",
         "np.random.normal(0, weight_init_std, (input_size, hidden_size))"),
        ("weight_init_std * np.random.randn(hidden_size, output_size)",
         "np.random.normal(0, weight_init_std, (hidden_size, output_size))"),
        ("reversed(list(self.layers.values()))", "reversed(self.layers.values())"),
    ),
}


@pytest.mark.parametrize("name", CORRECT_VARIANTS)
def test_correct_variant_gets_full_marks(submission, name):
    assert failing(grade_alone(submission(CORRECT_VARIANTS[name]))) == {}


W1_INIT = "weight_init_std * np.random.randn(input_size, hidden_size)"
W2_INIT = "weight_init_std * np.random.randn(hidden_size, output_size)"
COPIED_LAYERS = edited(
    ('Affine(self.params["W1"], self.params["b1"])',
     'Affine(self.params["W1"].copy(), self.params["b1"].copy())'),
    ('Affine(self.params["W2"], self.params["b2"])',
     'Affine(self.params["W2"].copy(), self.params["b2"].copy())'),
)
LABELS_ONLY = edited(("        if t.ndim != 1:\n            t = np.argmax(t, axis=1)\n", ""))

# (method, buggy TwoLayerNet, check that must fail, diagnosis it must name, other checks that
# fail with it because they use the buggy method). Every other check keeps its points.
BUGS = [
    ("TwoLayerNet.__init__",
     edited((W1_INIT, "weight_init_std * np.random.randn(hidden_size, input_size)")),
     SHAPES, "weights transposed", {IN_PLACE} | REFERENCE),
    ("TwoLayerNet.__init__",
     edited(('np.zeros(hidden_size)', 'weight_init_std * np.random.randn(hidden_size)')),
     BIASES, "biases not zero", set()),
    ("TwoLayerNet.__init__",
     edited((W1_INIT, "np.zeros((input_size, hidden_size))"),
            (W2_INIT, "np.zeros((hidden_size, output_size))")),
     WEIGHTS, "weights all zero", set()),
    ("TwoLayerNet.__init__",
     edited((W1_INIT, W1_INIT.replace("randn", "rand")),
            (W2_INIT, W2_INIT.replace("randn", "rand"))),
     WEIGHTS, "rand instead of randn", set()),
    ("TwoLayerNet.__init__",
     edited((W1_INIT, "np.random.uniform(-weight_init_std, weight_init_std, "
                      "(input_size, hidden_size))")),
     WEIGHTS, "uniform instead of normal", set()),
    ("TwoLayerNet.__init__",
     edited((W1_INIT, "np.random.randn(input_size, hidden_size)"),
            (W2_INIT, "np.random.randn(hidden_size, output_size)")),
     WEIGHTS, "weight_init_std not applied", set()),
    ("TwoLayerNet.__init__",
     edited((W1_INIT, W1_INIT.replace("weight_init_std", "0.01")),
            (W2_INIT, W2_INIT.replace("weight_init_std", "0.01"))),
     WEIGHTS, "weight_init_std ignored", set()),
    ("TwoLayerNet.__init__", COPIED_LAYERS, IN_PLACE, "layers hold copies of params",
     REFERENCE - ACCURACY),
    ("TwoLayerNet.predict",
     edited(("            x = layer.forward(x)\n        return x",
             "            x = layer.forward(x)\n"
             "        e = np.exp(x - x.max(axis=1, keepdims=True))\n"
             "        return e / e.sum(axis=1, keepdims=True)")),
     PREDICT, "predict returns probabilities", {LOSS, NUMERICAL, GRADIENT, GRADIENT_CHECK}),
    ("TwoLayerNet.predict",
     edited(('self.lastLayer = SoftmaxWithLoss()',
             'self.layers["Relu2"] = Relu()\n        self.lastLayer = SoftmaxWithLoss()')),
     PREDICT, "ReLU after the last layer", {LOSS, NUMERICAL, GRADIENT} | ACCURACY),
    ("TwoLayerNet.accuracy",
     edited(("return np.sum(y == t) / float(x.shape[0])", "return np.sum(y == t)")),
     ACCURACY_ONE_HOT, "accuracy counts instead of averaging", {ACCURACY_LABELS}),
    ("TwoLayerNet.accuracy", LABELS_ONLY, ACCURACY_ONE_HOT, "accuracy only for integer labels",
     set()),
    ("TwoLayerNet.accuracy",
     edited(("        if t.ndim != 1:\n            t = np.argmax(t, axis=1)\n",
             "        t = np.argmax(t, axis=1)\n")),
     ACCURACY_LABELS, "accuracy only for one-hot targets", set()),
    ("TwoLayerNet.numerical_gradient",
     edited(("numerical_gradient(loss_W, self.params[key])",
             "numerical_gradient(loss_W, self.params[key].copy())")),
     NUMERICAL, "numerical gradient of a copy", set()),
    ("TwoLayerNet.gradient",
     edited(("        self.loss(x, t)  # forward: every layer keeps what its backward needs\n",
             "")),
     GRADIENT, "gradient without a forward pass", {GRADIENT_CHECK}),
    ("TwoLayerNet.gradient",
     edited(('.dW, self.layers["Affine2"].db\n        return grads',
             '.dW, self.layers["Affine2"].db\n'
             '        return {k: v / len(x) for k, v in grads.items()}')),
     GRADIENT, "gradient divided by the batch size twice", {GRADIENT_CHECK}),
]


@pytest.mark.parametrize(("method", "source", "check", "diagnosis", "also"), BUGS,
                         ids=[f"{b[0]}: {b[3]}" for b in BUGS])
def test_known_mistake_is_caught_and_named(submission, method, source, check, diagnosis, also):
    result = grade_alone(submission(source))
    checks = by_name(result)
    assert not checks[check].passed
    assert checks[check].diagnosis == diagnosis, checks[check].output
    assert checks[check].output.startswith(
        next(m.message for m in MISTAKES[method] if m.name == diagnosis))
    assert set(failing(result)) - BY_CHANCE.get(diagnosis, set()) == {check} | also, \
        failing(result)


def test_every_known_mistake_has_a_buggy_submission():
    covered = {(method, diagnosis) for method, _, _, diagnosis, _ in BUGS}
    listed = {(method, m.name) for method, mistakes in MISTAKES.items() for m in mistakes}
    assert listed <= covered, listed - covered


def test_copied_layers_are_named_by_every_check_that_sets_parameters(submission):
    result = grade_alone(submission(COPIED_LAYERS))
    checks = by_name(result)
    for name in REFERENCE - {c.name for c in result.checks if c.passed}:
        assert checks[name].diagnosis == "layers hold copies of params", checks[name].output
        assert "cannot pass until that is fixed" in checks[name].output


def test_accuracy_only_for_labels_says_what_went_wrong(submission):
    result = grade_alone(submission(LABELS_ONLY))
    output = by_name(result)[ACCURACY_ONE_HOT].output
    assert "np.argmax(t, axis=1)" in output and "could not be broadcast" in output


def test_gradient_check_catches_backprop_inconsistent_with_the_loss(submission):
    # Backward skips the ReLU layer: the forward pass (and so the loss) is right, dW1 is not.
    source = edited(("for layer in reversed(list(self.layers.values())):",
                     "for layer in (self.layers['Affine2'], self.layers['Affine1']):"))
    checks = by_name(grade_alone(submission(source)))
    assert not checks[GRADIENT_CHECK].passed
    assert "gradient['W1'] disagrees with the numerical gradient" in checks[GRADIENT_CHECK].output
    assert "relative error" in checks[GRADIENT_CHECK].output
    assert checks[LOSS].passed and checks[NUMERICAL].passed


def test_weight_statistics_accept_correct_random_inits_and_name_wrong_ones():
    rng = np.random.default_rng(0)
    sizes = [(INIT_SIZES[0], INIT_SIZES[1]), (INIT_SIZES[1], INIT_SIZES[2])]
    for _ in range(100):  # a correct init passes every time (about 1e-6 chance to fail each)
        for std in (INIT_STD, OTHER_STD):
            for shape in sizes:
                assert _weight_problem(std * rng.standard_normal(shape), std, "W") is None
    big = sizes[0]
    assert _weight_problem(0.02 * rng.standard_normal(big), INIT_STD, "W").diagnosis is None
    assert _weight_problem(0.01 + 0.01 * rng.standard_normal(big), INIT_STD, "W") is not None
    assert (_weight_problem(rng.uniform(-0.01, 0.01, big), INIT_STD, "W").diagnosis
            == "uniform instead of normal")


def test_reference_inputs_tell_the_reference_from_a_constant_prediction():
    stored = {ref.key: StoredOracle().expected(EXERCISE, ref) for ref in EXERCISE.refs()}
    predicted = np.argmax(stored[PREDICT]["predict(x)"], axis=1)
    assert set(predicted) == set(range(C))  # every class is predicted somewhere
    accuracy = float(stored[ACCURACY_LABELS]["accuracy(x, labels)"])
    assert 0 < accuracy < 1
    assert all(accuracy != np.mean(LABELS == c) for c in range(C))  # not a constant prediction


# --------------------------------------------------------------------- earlier exercises' bugs

SOFTMAX_BACKWARD_WITHOUT_N = """
class SoftmaxWithLoss:
    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        x = x - np.max(x, axis=-1, keepdims=True)
        self.y = np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)
        labels = t.argmax(axis=1) if t.size == self.y.size else t
        n = self.y.shape[0]
        self.loss = -np.sum(np.log(self.y[np.arange(n), labels] + 1e-7)) / n
        return self.loss

    def backward(self, dout=1):
        if self.t.size == self.y.size:
            return self.y - self.t
        dx = self.y.copy()
        dx[np.arange(self.t.shape[0]), self.t] -= 1
        return dx
"""

NUMERICAL_GRADIENT_NOT_RESTORING = """
def numerical_gradient(f, x):
    h = 1e-4
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        tmp_val = x[idx]
        x[idx] = tmp_val + h
        fxh1 = f(x)
        x[idx] = tmp_val - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
    return grad
"""


def _on_buggy_prerequisite(folder, module: str, replacements: dict[str, str]):
    """``folder`` (a submission) with its ``module`` replaced by the solution's with bugs."""
    write_variant(folder, module, replacements)
    return folder


def test_a_correct_network_keeps_its_points_on_a_buggy_ex05(submission):
    folder = _on_buggy_prerequisite(submission(SOLUTION_CLASS), "ex05_layers",
                                    {"SoftmaxWithLoss": SOFTMAX_BACKWARD_WITHOUT_N})
    result = grade_alone(folder)
    assert failing(result) == {}
    for name in (GRADIENT, GRADIENT_CHECK):
        assert "built from your ex05 layers" in by_name(result)[name].output


def test_a_correct_network_keeps_its_points_on_an_ex03_that_does_not_restore_x(submission):
    folder = _on_buggy_prerequisite(submission(SOLUTION_CLASS), "ex03_gradient",
                                    {"numerical_gradient": NUMERICAL_GRADIENT_NOT_RESTORING})
    result = grade_alone(folder)
    assert failing(result) == {}
    assert "your ex03 numerical_gradient is wrong" in by_name(result)[NUMERICAL].output


def test_a_buggy_network_on_a_buggy_ex05_is_still_charged(submission):
    no_forward = edited(("        self.loss(x, t)  # forward: every layer keeps what its "
                         "backward needs\n", ""))
    folder = _on_buggy_prerequisite(submission(no_forward), "ex05_layers",
                                    {"SoftmaxWithLoss": SOFTMAX_BACKWARD_WITHOUT_N})
    assert GRADIENT in failing(grade_alone(folder))


def test_a_softmax_in_predict_is_named_by_predict_and_referred_to_elsewhere(submission):
    source = edited(("            x = layer.forward(x)\n        return x",
                     "            x = layer.forward(x)\n"
                     "        e = np.exp(x - x.max(axis=1, keepdims=True))\n"
                     "        return e / e.sum(axis=1, keepdims=True)"))
    failed = {c.name: c for c in grade_alone(submission(source)).checks if not c.passed}
    assert failed[PREDICT].output.startswith(MISTAKES["TwoLayerNet.predict"][0].message)
    for name in (LOSS, NUMERICAL, GRADIENT, GRADIENT_CHECK):
        assert failed[name].diagnosis == "predict returns probabilities"
        assert failed[name].output.startswith("this follows from predict's mistake")
