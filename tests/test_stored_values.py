"""Stored reference values against fresh ones: one rule for `python -m grader.expected --check`,
`grade release` and the tests, that tolerates the rounding of another CPU or BLAS build (more
for central differences) and reports a real change of a solution."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO
from grader import release
from grader.checks import Check, Exercise, Ref
from grader.expected import (
    DIRECT_ULPS,
    MANIFEST,
    STORE_DIR,
    StoreError,
    agrees,
    build,
    stale,
    tolerance,
)
from grader.registry import load

EPS = np.finfo(np.float64).eps
DIRECT = Ref("direct", "inputs", lambda solution: None)
NUMERICAL = Ref("numerical", "inputs", lambda solution: None, numerical=True)
VALUE = np.array([[0.3, -2.5, 1e-9], [7.0, 0.0, -0.125]])


def test_the_tolerance_follows_how_the_value_is_computed():
    assert tolerance(DIRECT) == DIRECT_ULPS * EPS
    assert tolerance(NUMERICAL) == pytest.approx(np.sqrt(EPS))  # about 1.5e-8
    assert tolerance(DIRECT, np.finfo(np.float32).eps) == DIRECT_ULPS * np.finfo(np.float32).eps


@pytest.mark.parametrize(("relative", "direct", "numerical"), [
    (0.0, True, True),
    (4 * EPS, True, True),  # a few ulps: another BLAS's rounding
    (8e-10, False, True),  # a central difference on another machine (issue 10)
    (1e-6, False, False),  # a real change
])
def test_a_perturbed_value_agrees_only_within_its_tolerance(relative, direct, numerical):
    perturbed = VALUE * (1 + relative)
    assert agrees(VALUE, perturbed, DIRECT) is direct
    assert agrees(VALUE, perturbed, NUMERICAL) is numerical


def test_the_tolerance_is_relative_to_the_arrays_scale_so_cancellation_passes():
    # An entry that is the small difference of large terms moves by ulps of the large ones.
    stored = np.array([5.0, 1e-14])
    assert agrees(stored, stored + [0.0, 8 * EPS * 5.0], DIRECT)
    assert not agrees(stored, stored + [0.0, 1e-12], DIRECT)


def test_everything_but_floats_must_be_equal():
    tree = {"a": (VALUE, 3, "text"), "flag": np.array(True), "n": np.array([1, 2])}
    assert agrees(tree, {"a": (VALUE * (1 + EPS), 3, "text"), "flag": np.array(True),
                         "n": np.array([1, 2])}, DIRECT)
    for other in ({"a": (VALUE, 4, "text"), "flag": np.array(True), "n": np.array([1, 2])},
                  {"a": (VALUE, 3, "other"), "flag": np.array(True), "n": np.array([1, 2])},
                  {"a": (VALUE, 3, "text"), "flag": np.array(False), "n": np.array([1, 2])},
                  {"a": (VALUE, 3, "text"), "flag": np.array(True), "n": np.array([1, 3])},
                  {"a": (VALUE, 3), "flag": np.array(True), "n": np.array([1, 2])},
                  {"a": (VALUE.T, 3, "text"), "flag": np.array(True), "n": np.array([1, 2])}):
        assert not agrees(tree, other, NUMERICAL)


def test_nan_and_infinite_entries_must_be_where_they_were():
    stored = np.array([np.nan, np.inf, 1.0])
    assert agrees(stored, np.array([np.nan, np.inf, 1.0 + EPS]), DIRECT)
    assert not agrees(stored, np.array([np.nan, -np.inf, 1.0]), DIRECT)
    assert not agrees(stored, np.array([0.0, np.inf, 1.0]), NUMERICAL)
    assert agrees(np.array([np.nan]), np.array([np.nan]), DIRECT)


@pytest.mark.parametrize(("numerical", "factor", "is_stale"), [
    (False, 1 + 3 * EPS, False), (False, 1 + 1e-9, True), (True, 1 + 1e-9, False),
    (True, 1 + 1e-6, True)])
def test_the_store_check_uses_the_rule(tmp_path, numerical, factor, is_stale):
    ref = Ref("values", "inputs", lambda solution: solution.values(), numerical=numerical)
    exercise = Exercise("ex99", "ex99_values", "demo",
                        checks=(Check("c", 1, lambda ctx: "ok", refs=(ref,)),))
    source = "import numpy as np\n\ndef values():\n    return np.array([0.1, 2.0, -3.0]) * {}\n"
    (tmp_path / "ex99_values.py").write_text(source.format(1.0))
    build([exercise], tmp_path, tmp_path / "store")
    assert stale([exercise], tmp_path, tmp_path / "store") == []
    later = tmp_path / "later"
    later.mkdir()
    (later / "ex99_values.py").write_text(source.format(repr(factor)))
    problems = stale([exercise], later, tmp_path / "store")
    assert bool(problems) == is_stale, problems


def test_checks_record_which_values_come_from_numerical_differentiation():
    assert all(ref.numerical for ref in load("ex03").refs())
    ex06 = {ref.key: ref.numerical for ref in load("ex06").refs()}
    assert ex06["TwoLayerNet.numerical_gradient matches the reference"]
    assert not ex06["TwoLayerNet.gradient matches the reference (one-hot and integer labels)"]
    # ex01's derivative checks differentiate the stored forward function numerically; its
    # forward checks and every ex02, ex05 and ex07 value are computed directly
    ex01 = {ref.key: ref.numerical for ref in load("ex01").refs()}
    assert any(ex01.values())
    assert all(numerical == ("agrees with a numerical derivative" in key)
               for key, numerical in ex01.items())
    direct = ("ex02", "ex05", "ex07")
    assert not any(ref.numerical for e in direct for ref in load(e).refs())


def _dispatched_simd() -> list[str]:
    """NumPy's optional SIMD targets (exp, log, sums...): without them it runs as on a CPU
    that has only the baseline ones."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__
    except ImportError:
        return []
    return list(__cpu_dispatch__)


def test_the_inputs_and_stores_hold_on_another_cpu():
    """OpenBLAS and NumPy pick their kernels by CPU; forcing older ones rounds matrix products,
    exp and log as another x86-64 machine would. The checks' inputs must not change (their
    bytes are fingerprinted) and the stored values must still agree."""
    env = {**os.environ, "OPENBLAS_CORETYPE": "Prescott",
           "NPY_DISABLE_CPU_FEATURES": " ".join(_dispatched_simd())}
    done = subprocess.run(
        [sys.executable, "-m", "grader.expected", "--check", *(f"ex0{i}" for i in range(1, 9))],
        capture_output=True, text=True, timeout=300, cwd=REPO, env=env)
    assert done.returncode == 0, done.stdout + done.stderr


# --------------------------------------------------------------------------- grade release


def _perturbed_stores(folder, factors: dict[str, float]):
    """A copy of the stores in ``folder``, every float array of each named module's store
    scaled by its factor."""
    shutil.copytree(STORE_DIR, folder)
    for module, factor in factors.items():
        path = folder / f"{module}.npz"
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        for name, array in arrays.items():
            if name != MANIFEST and array.dtype == np.float64:
                arrays[name] = array * factor
        np.savez_compressed(path, **arrays)
    return folder


@pytest.mark.slow  # recomputes every reference value, Keras ones included, twice
def test_a_release_takes_rounding_but_refuses_a_changed_value(tmp_path):
    rounded = _perturbed_stores(tmp_path / "rounded", {
        "ex02_losses": 1 + 4 * EPS, "ex03_gradient": 1 + 1e-10})
    release.check_stores(rounded)  # no error
    changed = _perturbed_stores(tmp_path / "changed", {
        "ex02_losses": 1 + 1e-9, "ex03_gradient": 1 + 1e-10, "ex04_layer_naive": 1 + 1e-6})
    # ex02's moved beyond a few ulps, ex04's by 1e-6; ex03's values are numerical gradients
    with pytest.raises(StoreError, match="values of ex02, ex04 are out of date: ex02: .* "
                                         r"differs from the solution \(and \d+ more\); "
                                         "rebuild with: python -m grader.expected"):
        release.check_stores(changed)
