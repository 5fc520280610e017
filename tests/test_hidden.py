"""Hidden checks: drawn from a seed, defined in solutions/hidden/, graded against live references.

The solutions and every correct variant the public checks accept get full marks on them for
several seeds, the stubs get nothing, and known bugs fail the hidden check of the buggy code.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import test_ex01_activations as ex01_tests
import test_ex02_losses as ex02_tests
import test_ex03_gradient as ex03_tests
import test_ex04_layer_naive as ex04_tests
import test_ex05_layers as ex05_tests
import test_ex06_two_layer_net as ex06_tests
import test_ex07_optimizers as ex07_tests

from conftest import EXERCISES, REPO, SOLUTIONS, TEST_LIMITS
from grader.checks import Case, Ref, function_check
from grader.engine import grade_submission
from grader.expected import (
    MANIFEST,
    STORE_DIR,
    LiveOracle,
    StoredOracle,
    StoreError,
    fingerprint,
)
from grader.hidden import (
    PREFIX,
    HiddenChecksError,
    HiddenOracle,
    prepare,
    rng_for,
    with_hidden,
)
from grader.registry import load
from grader.result import ExerciseResult
from grader.runner.submission import locate

SEEDS = ("s1", "s2", "s3")
IDS = ("ex01", "ex02", "ex03", "ex04", "ex05", "ex06", "ex07")
#: One live oracle for the whole module: each solution is imported once.
LIVE = LiveOracle(SOLUTIONS)


def grade_hidden(exercise_id: str, folder: Path, seeds: tuple[str, ...] = SEEDS
                 ) -> ExerciseResult:
    """Grade only the hidden checks of ``seeds`` (named ``"<seed>: hidden: ..."``), in one session.

    The checks of several seeds share names and reference keys; their inputs differ, so the live
    oracle tells their references apart.
    """
    public = load(exercise_id)
    checks, keys = [], set()
    for seed in seeds:
        extended, oracle = prepare(public, SOLUTIONS, seed, live=LIVE)
        checks += [replace(c, name=f"{seed}: {c.name}") for c in extended.checks if c.hidden]
        keys |= oracle.hidden_keys
    exercise = replace(public, checks=tuple(checks), requires=())
    oracle = HiddenOracle(StoredOracle(), LIVE, frozenset(keys))
    return grade_submission(exercise, locate(folder, public.module), oracle=oracle,
                            limits=TEST_LIMITS, include_hidden=True, prerequisites=False)


def failing(result: ExerciseResult) -> dict[str, str]:
    return {c.name: c.output for c in result.checks if not c.passed}


# --------------------------------------------------------------------------- the solutions


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("exercise_id", IDS)
def test_the_solutions_get_full_marks_on_every_hidden_check(exercise_id, seed):
    public = load(exercise_id)
    exercise, oracle = prepare(public, SOLUTIONS, seed, live=LIVE)
    hidden = [c for c in exercise.checks if c.hidden]
    assert 3 <= len(hidden) <= 10
    assert exercise.checks[: len(public.checks)] == public.checks
    assert exercise.max_score == public.max_score  # hidden points are not in the public total
    result = grade_submission(exercise, locate(SOLUTIONS, public.module), oracle=oracle,
                              limits=TEST_LIMITS, include_hidden=True, prerequisites=False)
    assert failing(result) == {}
    assert [c.name for c in result.checks if c.hidden] == [c.name for c in hidden]
    assert result.score == public.max_score + sum(c.points for c in hidden)


@pytest.mark.parametrize("exercise_id", IDS)
def test_the_untouched_stubs_get_no_hidden_points(exercise_id):
    exercise, oracle = prepare(load(exercise_id), SOLUTIONS, "s1", live=LIVE)
    result = grade_submission(exercise, locate(EXERCISES, exercise.module), oracle=oracle,
                              limits=TEST_LIMITS, include_hidden=True, prerequisites=False)
    hidden = [c for c in result.checks if c.hidden]
    assert hidden and all(not c.passed and "not implemented" in c.output for c in hidden)
    assert result.score == 0


def test_without_include_hidden_the_hidden_checks_do_not_run():
    exercise, oracle = prepare(load("ex02"), SOLUTIONS, "s1", live=LIVE)
    result = grade_submission(exercise, locate(SOLUTIONS, exercise.module), oracle=oracle,
                              limits=TEST_LIMITS)
    assert not any(c.hidden for c in result.checks) and result.full_marks


# --------------------------------------------------------------------------- correct variants


def _ex06_folder(variant, class_source: str) -> Path:
    """A folder with the solution's ex06 (its TwoLayerNet replaced) and the ex03, ex05 it uses."""
    folder = variant(ex06_tests.MODULE, {"TwoLayerNet": class_source}).parent
    for sibling in ex06_tests.SIBLINGS:
        shutil.copy(SOLUTIONS / f"{sibling}.py", folder)
    return folder


#: (exercise, name, replacements, prelude): the correct variants the public tests list.
VARIANTS = [
    *[("ex01", name, source, "") for name, source in ex01_tests.CORRECT_VARIANTS.items()],
    *[("ex02", name, source, "") for name, source in ex02_tests.CORRECT_VARIANTS.items()],
    *[("ex03", name, source, "") for name, source in ex03_tests.CORRECT_VARIANTS.items()],
    *[("ex04", name, source, "") for name, source in ex04_tests.CORRECT_VARIANTS.items()],
    *[("ex05", name, source, "") for name, source in ex05_tests.CORRECT_VARIANTS.items()],
    ("ex05", "the book's layers", ex05_tests.BOOK_LAYERS, ex05_tests.BOOK_FUNCTIONS),
    *[("ex06", name, {"TwoLayerNet": source}, "")
      for name, source in ex06_tests.CORRECT_VARIANTS.items()],
    *[("ex07", name, source, "") for name, source in ex07_tests.CORRECT_VARIANTS.items()],
]


def _submission(variant, exercise_id: str, replacements: dict, prelude: str = "") -> Path:
    if exercise_id == "ex06":
        return _ex06_folder(variant, replacements["TwoLayerNet"])
    return variant(load(exercise_id).module, replacements, prelude).parent


@pytest.mark.parametrize(("exercise_id", "name", "replacements", "prelude"), VARIANTS,
                         ids=[f"{v[0]}: {v[1]}" for v in VARIANTS])
def test_correct_variants_get_full_marks_on_every_hidden_check(variant, exercise_id, name,
                                                                replacements, prelude):
    result = grade_hidden(exercise_id, _submission(variant, exercise_id, replacements, prelude))
    assert len(result.checks) >= 3 * len(SEEDS)
    assert failing(result) == {}


# --------------------------------------------------------------------------- known bugs


#: The buggy classes of solutions/mistakes/ex07_optimizers.py, put before a submission.
_MISTAKES_PRELUDE = (SOLUTIONS / "mistakes" / "ex07_optimizers.py").read_text()


def _mistake_class(name: str, as_name: str) -> dict[str, str]:
    """``{as_name: source}``: the buggy class ``name`` of ``_MISTAKES_PRELUDE`` as ``as_name``."""
    return {as_name: f"class {as_name}({name}):\n    pass\n"}

_NO_MAX_SOFTMAX = """
    def softmax(x):
        e = np.exp(x)
        return e / np.sum(e, axis=-1, keepdims=True)
    """
_BATCH_MAX_SOFTMAX = """
    def softmax(x):
        e = np.exp(x - np.max(x))
        return e / np.sum(e, axis=-1, keepdims=True)
    """
_SOFTMAX_WITH_LOSS_NO_MAX = ex05_tests.BOOK_LAYERS["SoftmaxWithLoss"].replace(
    "self.y = softmax(x)", "self.y = np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)")
_BOOK_AFFINE_DB = ex05_tests.BOOK_LAYERS["Affine"].replace("np.sum(dout, axis=0)", "dout")
_BOOK_RELU_NO_MASK = ex05_tests.BOOK_LAYERS["Relu"].replace("dout[self.mask] = 0", "pass")
_PREDICT_PROBABILITIES = ex06_tests.edited((
    "            x = layer.forward(x)\n        return x",
    "            x = layer.forward(x)\n"
    "        e = np.exp(x - x.max(axis=1, keepdims=True))\n"
    "        return e / e.sum(axis=1, keepdims=True)"))
_GRADIENT_DIVIDED_TWICE = ex06_tests.edited((
    '.dW, self.layers["Affine2"].db\n        return grads',
    '.dW, self.layers["Affine2"].db\n        return {k: v / len(x) for k, v in grads.items()}'))

#: (exercise, what, replacements, prelude, parts of the names of the hidden checks that must fail)
BUGS = [
    ("ex01", "softmax without max subtraction", {"softmax": _NO_MAX_SOFTMAX}, "",
     ("softmax",)),
    ("ex01", "softmax with the batch's max", {"softmax": _BATCH_MAX_SOFTMAX}, "",
     ("softmax",)),
    ("ex01", "elu ignoring alpha",
     {"elu": "def elu(x, alpha=1.0):\n    return np.where(x > 0, x, np.exp(x) - 1)"}, "",
     ("elu with",)),
    ("ex01", "sigmoid_grad of the output", {"sigmoid_grad": "def sigmoid_grad(x):\n"
                                                            "    return x * (1 - x)"}, "",
     ("sigmoid_grad",)),
    ("ex02", "mse summed over features", {"mean_squared_error": """
        def mean_squared_error(y, t):
            return np.mean(np.sum((y - t) ** 2, axis=-1))
        """}, "", ("mean_squared_error",)),
    ("ex02", "cross-entropy for one-hot targets only",
     {"cross_entropy_error": ex02_tests.BOOK_ONE_HOT_ONLY}, "",
     ("cross_entropy_error with integer labels",)),
    ("ex03", "forward difference", {"numerical_gradient": """
        def numerical_gradient(f, x):
            grad = np.zeros(x.shape)
            for idx in np.ndindex(x.shape):
                tmp = x[idx]
                fx = f(x)
                x[idx] = tmp + 1e-4
                grad[idx] = (f(x) - fx) / 1e-4
                x[idx] = tmp
            return grad
        """}, "", ("numerical_gradient",)),
    ("ex03", "gradient_descent ignoring lr", {"gradient_descent": """
        def gradient_descent(f, init_x, lr=0.01, step_num=100):
            x = init_x.copy()
            for _ in range(step_num):
                x -= 0.01 * numerical_gradient(f, x)
            return x
        """}, "", ("gradient_descent",)),
    ("ex04", "MulLayer backward swapped", {"MulLayer": ex04_tests.MUL_SWAPPED}, "",
     ("MulLayer forward", "apple-orange")),
    ("ex04", "AddLayer ignoring dout", {"AddLayer": ex04_tests.ADD_NO_DOUT}, "",
     ("AddLayer forward", "apple-orange")),
    ("ex05", "Relu backward without the mask", {"Relu": _BOOK_RELU_NO_MASK},
     ex05_tests.BOOK_FUNCTIONS, ("Relu forward",)),
    ("ex05", "db not summed", {"Affine": _BOOK_AFFINE_DB}, ex05_tests.BOOK_FUNCTIONS,
     ("Affine forward",)),
    ("ex05", "SoftmaxWithLoss without max subtraction",
     {"SoftmaxWithLoss": _SOFTMAX_WITH_LOSS_NO_MAX}, ex05_tests.BOOK_FUNCTIONS,
     ("SoftmaxWithLoss",)),
    ("ex06", "predict returns probabilities", {"TwoLayerNet": _PREDICT_PROBABILITIES}, "",
     (": predict",)),
    ("ex06", "gradient divided by the batch size twice",
     {"TwoLayerNet": _GRADIENT_DIVIDED_TWICE}, "", (": gradient",)),
    ("ex07", "Adam without bias correction",
     _mistake_class("AdamWithoutBiasCorrection", "Adam"), _MISTAKES_PRELUDE,
     ("Adam.update",)),
    ("ex07", "Momentum's velocity re-created on every call",
     _mistake_class("MomentumStateEveryCall", "Momentum"), _MISTAKES_PRELUDE,
     ("Momentum.update",)),
    ("ex07", "AdaGrad without epsilon", ex07_tests.edit(
        "AdaGrad", "(np.sqrt(self.h[key]) + 1e-7)", "np.sqrt(self.h[key])"), "",
     ("AdaGrad.update",)),
]


@pytest.mark.parametrize(("exercise_id", "what", "replacements", "prelude", "parts"), BUGS,
                         ids=[f"{b[0]}: {b[1]}" for b in BUGS])
def test_a_known_bug_fails_the_hidden_check_of_the_buggy_code(variant, exercise_id, what,
                                                               replacements, prelude, parts):
    result = grade_hidden(exercise_id, _submission(variant, exercise_id, replacements, prelude))
    for seed in SEEDS:
        for part in parts:
            named = [c for c in result.checks if c.name.startswith(f"{seed}: ")
                     and part in c.name]
            assert named, (seed, part)
            assert not any(c.passed for c in named), [c.name for c in named]


# --------------------------------------------------------------------------- seeds


def _fingerprints(exercise_id: str, seed: str) -> list[str]:
    exercise = with_hidden(load(exercise_id), SOLUTIONS, seed)
    return [fingerprint(ref.inputs) for c in exercise.checks if c.hidden for ref in c.refs]


@pytest.mark.parametrize("exercise_id", IDS)
def test_the_same_seed_gives_the_same_cases_and_another_seed_other_ones(exercise_id):
    first = _fingerprints(exercise_id, "s1")
    assert first and first == _fingerprints(exercise_id, "s1")
    assert not set(first) & set(_fingerprints(exercise_id, "s2"))


def test_each_exercise_gets_its_own_stream():
    draws = {(seed, e): tuple(rng_for(seed, e).integers(0, 2**62, size=4))
             for seed in SEEDS for e in IDS}
    assert len(set(draws.values())) == len(draws)
    assert draws[("s1", "ex01")] == tuple(rng_for("s1", "ex01").integers(0, 2**62, size=4))


def test_the_stream_does_not_depend_on_the_process():
    # Python's hash() of a string changes from process to process; the seed's stream must not.
    code = ("from grader.hidden import rng_for; "
            "print(rng_for('s1', 'ex01').integers(0, 2**62))")
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True, cwd=REPO, env={**os.environ, "PYTHONHASHSEED": seed}
                              ).stdout.strip() for seed in ("1", "2")}
    assert outputs == {str(rng_for("s1", "ex01").integers(0, 2**62))}


# --------------------------------------------------------------------------- the oracle


class _Recording:
    """An oracle that records the keys asked for and answers with a marker."""

    def __init__(self, answer: str) -> None:
        self.answer, self.keys = answer, []

    def expected(self, exercise, ref):
        self.keys.append(ref.key)
        return self.answer


def test_the_oracle_takes_public_values_from_the_store_and_hidden_ones_from_the_solutions():
    public, live = _Recording("stored"), _Recording("live")
    exercise, oracle = prepare(load("ex02"), SOLUTIONS, "s1", public=public, live=live)
    for ref in exercise.refs():
        expected = "live" if ref.key.startswith(PREFIX) else "stored"
        assert oracle.expected(exercise, ref) == expected
    assert live.keys and all(key.startswith(PREFIX) for key in live.keys)
    assert public.keys == [ref.key for ref in load("ex02").refs()]


def test_the_live_oracle_tells_apart_references_of_the_same_key_made_from_other_inputs():
    exercise, live = load("ex02"), LiveOracle(SOLUTIONS)
    first, second = (Ref("hidden: same key", n, lambda solution, n=n: n * 10) for n in (1, 2))
    assert live.expected(exercise, first) == 10
    assert live.expected(exercise, second) == 20
    assert live.expected(exercise, first) == 10


def test_what_the_code_prints_or_meets_during_hidden_checks_is_for_instructors_only(tmp_path):
    """Printing its inputs would show a hidden check's random cases; a timeout met only on a
    hidden input would say so. Both stay in the full result and out of the learner's view."""
    learner = tmp_path / "ex01_activations.py"
    learner.write_text((SOLUTIONS / "ex01_activations.py").read_text() + textwrap.dedent("""

        _elu, _sigmoid = elu, sigmoid


        def elu(x, alpha=1.0):
            while alpha not in (1.0, 0.5):  # the public checks' alphas; hidden ones hang
                pass
            return _elu(x, alpha)


        def sigmoid(x):
            print("sigmoid called on shape", np.shape(x))
            return _sigmoid(x)
    """))
    exercise, oracle = prepare(load("ex01"), SOLUTIONS, "s1", live=LIVE)
    result = grade_submission(exercise, locate(tmp_path, "ex01_activations"), oracle=oracle,
                              limits=TEST_LIMITS, include_hidden=True, prerequisites=False)
    assert failing(result).keys() == {"hidden: elu with a random alpha"}
    assert result.fault == "timeout"
    assert "sigmoid called on shape" in result.learner_output
    assert "sigmoid called on shape" in result.hidden_output
    assert ExerciseResult.from_json(result.to_json()) == result
    shown = result.redacted()
    assert shown.fault is None and shown.hidden_output == ""
    assert shown.learner_output == result.learner_output
    assert result.hidden_output not in shown.learner_output


def test_a_broken_reference_solution_is_the_graders_fault_not_the_learners(tmp_path):
    """A solution that cannot be imported (or raises) stops grading with StoreError, which a
    batch reports as a grader error and never records; it must not fail the learner's check."""
    broken = tmp_path / "solutions"
    shutil.copytree(SOLUTIONS, broken, ignore=shutil.ignore_patterns("__pycache__"))
    with open(broken / "ex01_activations.py", "a") as f:
        f.write("\nimport a_module_that_is_not_installed\n")
    exercise, oracle = prepare(load("ex01"), broken, "s1")
    with pytest.raises(StoreError, match="reference solution failed .*ModuleNotFoundError"):
        grade_submission(exercise, locate(SOLUTIONS, "ex01_activations"), oracle=oracle,
                         limits=TEST_LIMITS, include_hidden=True, prerequisites=False)


def test_a_function_check_of_another_seed_gets_its_own_reference():
    # The same check name and case labels, other inputs: a cache keyed by name alone would
    # give the second check the first one's reference value.
    exercise, live = load("ex01"), LiveOracle(SOLUTIONS)
    checks = [function_check("relu", [Case("x", (np.array([value]),))], name="hidden: relu",
                             hidden=True) for value in (1.0, 2.0)]
    assert [float(live.expected(exercise, c.refs[0])[0]) for c in checks] == [1.0, 2.0]


# --------------------------------------------------------------------------- instructors only


def _grader_sources() -> list[Path]:
    return sorted((REPO / "grader").rglob("*.py"))


def test_nothing_in_the_grader_imports_the_solutions():
    for path in _grader_sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "solutions" for n in names), path


#: What makes a check (grader.checks).
_CHECK_MAKERS = {"Check", "function_check", "derivative_check", "property_check",
                 "scenario_check"}


def _makes_hidden_check(node: ast.AST) -> bool:
    """Whether ``node`` is a call such as ``function_check(..., hidden=True)``."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
    return func in _CHECK_MAKERS and any(
        k.arg == "hidden" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in node.keywords)


def test_the_grader_defines_no_hidden_check():
    for path in _grader_sources():
        for node in ast.walk(ast.parse(path.read_text())):
            assert not (isinstance(node, ast.FunctionDef) and node.name == "hidden_checks"), path
            assert not _makes_hidden_check(node), (path, node.lineno)


def test_the_hidden_modules_are_found_to_make_hidden_checks():
    # The search above must be able to fail: every hidden module makes its checks that way.
    for path in sorted((SOLUTIONS / "hidden").glob("ex*.py")):
        assert any(_makes_hidden_check(n) for n in ast.walk(ast.parse(path.read_text()))), path


def test_hidden_references_are_never_stored():
    stores = sorted(STORE_DIR.glob("*.npz"))
    assert stores
    for path in stores:
        with np.load(path, allow_pickle=False) as data:
            entries = json.loads(data[MANIFEST].tobytes().decode())["entries"]
        assert entries and not [key for key in entries if key.startswith(PREFIX)], path


# --------------------------------------------------------------------------- bad hidden modules


def _solutions_with(tmp_path: Path, source: str | None) -> Path:
    """A solutions folder whose hidden/ex01_activations.py is ``source`` (no file if None)."""
    folder = tmp_path / "solutions"
    (folder / "hidden").mkdir(parents=True)
    if source is not None:
        (folder / "hidden" / "ex01_activations.py").write_text(textwrap.dedent(source))
    return folder


def test_an_exercise_without_hidden_checks_is_unchanged(tmp_path):
    exercise = load("ex01")
    assert with_hidden(exercise, _solutions_with(tmp_path, None), "s1") is exercise
    extended, oracle = prepare(exercise, _solutions_with(tmp_path / "other", None), "s1")
    assert extended is exercise and oracle.hidden_keys == frozenset()


_CHECK = "Check('hidden: a', 1, lambda ctx: 'ok', hidden=True)"

BAD_MODULES = {
    "a syntax error": ("def hidden_checks(rng):\n    return [\n", "SyntaxError"),
    "an import that fails": ("import no_such_module_anywhere\n", "ModuleNotFoundError"),
    "no hidden_checks": ("X = 1\n", "defines no function hidden_checks"),
    "hidden_checks raising": ("def hidden_checks(rng):\n    raise ValueError('boom')\n",
                              "ValueError: boom"),
    "not a list of checks": ("def hidden_checks(rng):\n    return 3\n", "list of Check"),
    "a check not marked hidden": (
        "from grader.checks import Check\n"
        "def hidden_checks(rng):\n    return [Check('hidden: a', 1, lambda ctx: 'ok')]\n",
        "hidden=True"),
    "a name without the prefix": (
        "from grader.checks import Check\n"
        "def hidden_checks(rng):\n    return [Check('a', 1, lambda ctx: 'ok', hidden=True)]\n",
        "'hidden: '"),
    "a repeated name": (
        f"from grader.checks import Check\ndef hidden_checks(rng):\n"
        f"    return [{_CHECK}, {_CHECK}]\n", "repeated check name 'hidden: a'"),
}


@pytest.mark.parametrize("case", BAD_MODULES)
def test_a_hidden_module_that_cannot_be_used_is_one_line_naming_it(tmp_path, case):
    source, expected = BAD_MODULES[case]
    solutions = _solutions_with(tmp_path, source)
    with pytest.raises(HiddenChecksError) as raised:
        with_hidden(load("ex01"), solutions, "s1")
    message = str(raised.value)
    assert "\n" not in message and expected in message
    assert "ex01_activations.py" in message


def test_missing_solutions_are_one_line(tmp_path):
    with pytest.raises(HiddenChecksError, match="no solutions folder") as raised:
        prepare(load("ex01"), tmp_path / "nowhere", "s1")
    (tmp_path / "empty").mkdir()
    with pytest.raises(HiddenChecksError, match="no hidden checks") as raised_too:
        with_hidden(load("ex01"), tmp_path / "empty", "s1")
    assert "\n" not in str(raised.value) + str(raised_too.value)


# --------------------------------------------------------------------------- training exercises

#: ex08 to ex10 train models: their hidden checks draw other subsets, shapes and seeds. They
#: are graded with the exercise's own limits (TensorFlow takes seconds to import).
TRAINING_IDS = ("ex08", "ex09", "ex10")


def grade_training_hidden(exercise_id: str, folder: Path, seed: str = "s1") -> ExerciseResult:
    """Grade only the hidden checks of ``exercise_id`` for ``seed``."""
    public = load(exercise_id)
    extended, oracle = prepare(public, SOLUTIONS, seed, live=LIVE)
    exercise = replace(extended, checks=tuple(c for c in extended.checks if c.hidden),
                       requires=())
    return grade_submission(exercise, locate(folder, public.module), oracle=oracle,
                            include_hidden=True, prerequisites=False)


@pytest.mark.slow
@pytest.mark.parametrize("exercise_id", TRAINING_IDS)
def test_the_training_exercises_get_hidden_checks_that_only_finished_code_passes(exercise_id):
    solved = grade_training_hidden(exercise_id, SOLUTIONS)
    assert 2 <= len(solved.checks) <= 5 and failing(solved) == {}
    assert all(c.hidden and c.name.startswith(PREFIX) for c in solved.checks)
    stubs = grade_training_hidden(exercise_id, EXERCISES)
    assert stubs.score == 0 and all("not implemented" in c.output for c in stubs.checks)


def _ex08_folder(tmp_path: Path, replacements: dict[str, str]) -> Path:
    from conftest import write_variant

    folder = tmp_path / "ex08"
    write_variant(folder, "ex08_training", replacements)
    for sibling in ("ex03_gradient", "ex05_layers", "ex06_two_layer_net", "ex07_optimizers"):
        shutil.copy(SOLUTIONS / f"{sibling}.py", folder)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("name", ["the book's loop with a seeded generator, numpy values in "
                                  "the lists",
                                  "accuracy at the end of each epoch, batches from rng.integers",
                                  "shuffled epochs, loss before the update, accuracy before "
                                  "training and after each epoch"])
def test_the_training_loops_the_spec_allows_pass_the_hidden_probe(tmp_path, name):
    import test_ex08_training as ex08_tests

    for seed in SEEDS:
        result = grade_training_hidden("ex08", _ex08_folder(tmp_path / seed,
                                                            ex08_tests.CORRECT_VARIANTS[name]),
                                       seed)
        assert failing(result) == {}


@pytest.mark.slow
@pytest.mark.parametrize(("old", "new"), [
    ("            batch_mask = rng.choice(train_size, batch_size)\n",
     "            rng = np.random.default_rng(seed)\n"
     "            batch_mask = rng.choice(train_size, batch_size)\n"),  # one fixed batch
    ("            if i % iter_per_epoch < 1:\n", "            if True:\n"),  # every iteration
    ("rng.choice(train_size", "np.random.choice(train_size"),  # the seed ignored
], ids=["one fixed batch", "accuracy every iteration", "seed ignored"])
def test_a_buggy_training_loop_fails_the_hidden_probe(tmp_path, old, new):
    import test_ex08_training as ex08_tests

    result = grade_training_hidden("ex08", _ex08_folder(
        tmp_path, {"train": ex08_tests.buggy_train(old, new)}))
    probe = [c for c in result.checks if "MNIST subset" in c.name]
    assert len(probe) == 1 and not probe[0].passed, probe
    assert all(c.passed for c in result.checks if c not in probe)


def test_the_hidden_probe_of_ex08_draws_its_subset_and_its_seed_from_the_seed():
    def probe_inputs(seed: str) -> str:
        checks = prepare(load("ex08"), SOLUTIONS, seed, live=LIVE)[0].checks
        return fingerprint([r.inputs for c in checks if c.hidden for r in c.refs])

    assert probe_inputs("s1") == probe_inputs("s1") != probe_inputs("s2")
