"""Reference values: stored ahead of time for public checks, or computed from the solutions.

Students receive the grader without ``solutions/``, so every public check reads its reference
values from ``grader/data/expected/<module>.npz``, made from the solutions by

    python -m grader.expected            # rebuild every store from solutions/
    python -m grader.expected --check    # exit 1 if a store is out of date

Each stored value carries a fingerprint of the inputs it was computed from, so a check whose
inputs changed fails loudly instead of comparing against a stale value. Files are read with
``allow_pickle=False``.

A stored value is up to date when a fresh computation agrees with it (:func:`agrees`): exactly
for text, integers and booleans; for floating-point values, within the rounding that another
CPU or BLAS build brings, which depends on how the value is computed (:func:`tolerance`).
``--check``, ``grade release`` and the tests use this one rule.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from grader import SOLUTIONS_DIR
from grader.checks.base import Exercise, Ref
from grader.checks.mistakes import Raised
from grader.runner.submission import EXERCISE_STEM

STORE_DIR = Path(__file__).parent / "data" / "expected"
MANIFEST = "__manifest__"


class StoreError(Exception):
    """The stored reference values are missing or out of date (a problem of the grader)."""


def fingerprint(value: Any) -> str:
    """A stable hash of a value tree (arrays by dtype, shape and bytes)."""
    digest = hashlib.sha256()

    def feed(v: Any) -> None:
        if isinstance(v, dict):
            digest.update(b"{")
            for key in sorted(v):
                digest.update(repr(key).encode())
                feed(v[key])
            digest.update(b"}")
        elif isinstance(v, list | tuple):
            digest.update(b"(" if isinstance(v, tuple) else b"[")
            for item in v:
                feed(item)
            digest.update(b")")
        elif isinstance(v, np.ndarray | np.generic):
            a = np.ascontiguousarray(v)
            digest.update(f"{a.dtype.str}{a.shape}".encode())
            digest.update(a.tobytes())
        else:
            digest.update(f"{type(v).__name__}:{v!r}".encode())

    feed(value)
    return digest.hexdigest()[:16]


def _flatten(value: Any, leaves: list[np.ndarray]) -> Any:
    if value is None:
        return {"t": "none"}
    if isinstance(value, Raised):  # a known mistake's code raises on these inputs
        return {"t": "raised", "v": value.type}
    if isinstance(value, str):
        return {"t": "str", "v": value}
    if isinstance(value, dict):
        return {"t": "dict", "items": {str(k): _flatten(v, leaves) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {"t": kind, "items": [_flatten(v, leaves) for v in value]}
    array = np.asarray(value)
    if array.dtype == object:
        raise StoreError(f"cannot store a value of type {type(value).__name__}")
    leaves.append(array)
    return {"t": "array", "i": len(leaves) - 1}


def _unflatten(tree: dict, leaves: dict[str, np.ndarray]) -> Any:
    kind = tree["t"]
    if kind == "none":
        return None
    if kind == "raised":
        return Raised(tree.get("v", ""))
    if kind == "str":
        return tree["v"]
    if kind == "dict":
        return {k: _unflatten(v, leaves) for k, v in tree["items"].items()}
    if kind in ("list", "tuple"):
        items = [_unflatten(v, leaves) for v in tree["items"]]
        return tuple(items) if kind == "tuple" else items
    return leaves[str(tree["i"])]


def store_path(exercise: Exercise, directory: Path = STORE_DIR) -> Path:
    return directory / f"{exercise.module}.npz"


def write_store(exercise: Exercise, values: dict[str, tuple[str, Any]], path: Path) -> None:
    """Write ``{key: (fingerprint, value)}`` for one exercise to ``path`` (an .npz file)."""
    leaves: list[np.ndarray] = []
    entries = {
        key: {"hash": digest, "tree": _flatten(value, leaves)}
        for key, (digest, value) in values.items()
    }
    manifest = json.dumps({"exercise": exercise.id, "entries": entries}, sort_keys=True)
    arrays = {str(i): leaf for i, leaf in enumerate(leaves)}
    arrays[MANIFEST] = np.frombuffer(manifest.encode(), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)


class StoredOracle:
    """Reference values read from the stores under ``directory``."""

    def __init__(self, directory: Path = STORE_DIR) -> None:
        self.directory = directory
        self._cache: dict[str, tuple[dict, dict[str, np.ndarray]]] = {}

    def _load(self, exercise: Exercise) -> tuple[dict, dict[str, np.ndarray]]:
        if exercise.module not in self._cache:
            path = store_path(exercise, self.directory)
            if not path.is_file():
                raise StoreError(f"no stored reference values for {exercise.id} ({path})")
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
            manifest = json.loads(arrays.pop(MANIFEST).tobytes().decode())
            self._cache[exercise.module] = (manifest["entries"], arrays)
        return self._cache[exercise.module]

    def expected(self, exercise: Exercise, ref: Ref) -> Any:
        entries, arrays = self._load(exercise)
        entry = entries.get(ref.key)
        if entry is None or entry["hash"] != fingerprint(ref.inputs):
            raise StoreError(
                f"stored reference value {ref.key!r} of {exercise.id} is missing or out of date; "
                "rebuild with: python -m grader.expected"
            )
        return _unflatten(entry["tree"], arrays)


class LiveOracle:
    """Reference values computed by the reference solutions in ``solutions_dir`` (trusted)."""

    def __init__(self, solutions_dir: Path) -> None:
        self.solutions_dir = Path(solutions_dir)
        self._cache: dict[tuple[str, str, str], Any] = {}

    def module(self, exercise: Exercise) -> Any:
        """Import the solution module of ``exercise`` (its siblings importable too)."""
        path = self.solutions_dir / f"{exercise.module}.py"
        if not path.is_file():
            raise StoreError(f"no reference solution {path}")
        folder = str(self.solutions_dir.resolve())
        if sys.path[:1] != [folder]:
            if folder in sys.path:
                sys.path.remove(folder)
            sys.path.insert(0, folder)
        # Solution modules have plain names (ex06 imports ex05_layers): forget any imported
        # from another solutions folder, so that each oracle reads its own folder.
        for name, loaded in list(sys.modules.items()):
            origin = getattr(loaded, "__file__", None)
            if EXERCISE_STEM.fullmatch(name) and origin and str(Path(origin).parent) != folder:
                del sys.modules[name]
        importlib.invalidate_caches()
        return importlib.import_module(exercise.module)

    def expected(self, exercise: Exercise, ref: Ref) -> Any:
        """``ref``'s value from the solution; raises StoreError when the solution (or what it
        needs) fails, which is the instructor's fault, never the learner's."""
        # Keyed by the inputs too: hidden checks drawn from different seeds share ref keys.
        key = (exercise.module, ref.key, fingerprint(ref.inputs))
        if key not in self._cache:
            try:
                self._cache[key] = ref.compute(self.module(exercise))
            except StoreError:
                raise
            except Exception as error:
                raise StoreError(f"the reference solution failed on {ref.key!r} of "
                                 f"{exercise.id}: {type(error).__name__}: {error}") from None
        return self._cache[key]


def build(exercises: Iterable[Exercise], solutions_dir: Path, directory: Path = STORE_DIR) -> None:
    """Compute every exercise's reference values from the solutions and store them."""
    live = LiveOracle(solutions_dir)
    for exercise in exercises:
        values = {
            ref.key: (fingerprint(ref.inputs), live.expected(exercise, ref))
            for ref in exercise.refs()
        }
        write_store(exercise, values, store_path(exercise, directory))


#: Units in the last place a directly computed value may move by, relative to the largest
#: magnitude in its array: another CPU or BLAS build rounds exp, log and above all the sums of
#: matrix products in another order (measured: 1 ulp; 16 leave room for longer sums).
DIRECT_ULPS = 16


def tolerance(ref: Ref, eps: float = float(np.finfo(np.float64).eps)) -> float:
    """How far a fresh value of ``ref`` may be from the stored one, relative to the largest
    finite magnitude in its array, for floats whose unit roundoff is ``eps``.

    Computed directly: ``DIRECT_ULPS`` ulps. From central differences (``ref.numerical``):
    ``(f(x + h) - f(x - h)) / 2h`` divides the few ulps by which f moves by the step, so the
    result keeps only about half of the digits: sqrt(eps), 1.5e-8 in float64 (measured: up to
    8e-10 on another x86-64 machine, with the book's h = 1e-4 on a loss of about 2.3). A real
    change of a solution moves values far more (1e-6 of the scale is already reported).
    """
    return float(np.sqrt(eps)) if ref.numerical else DIRECT_ULPS * eps


def agrees(stored_value: Any, fresh_value: Any, ref: Ref) -> bool:
    """Whether ``fresh_value``, computed now for ``ref``, agrees with ``stored_value``.

    Trees (dicts, lists, tuples) must have the same shape; text, integers, booleans and
    markers must be equal; float arrays must have the same shape, the same NaN and infinite
    entries, and their finite entries must agree within ``tolerance(ref)`` of the array's
    largest finite magnitude. A ``ref.drift`` replaces all this with that relative tolerance
    per entry (figures that move with library versions). Deterministic: no randomness, no
    dependence on the order of entries.
    """
    from grader.checks.compare import close_enough

    if ref.drift:
        return close_enough(stored_value, fresh_value, rtol=ref.drift, atol=0.0)
    return _agree(stored_value, fresh_value, ref)


def _floats(value: Any) -> np.ndarray | None:
    """``value`` as a floating-point array, when it is one (a float, a float array)."""
    if isinstance(value, float | np.floating):
        return np.asarray(value)
    if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating):
        return value
    return None


def _agree(a: Any, b: Any, ref: Ref) -> bool:
    from grader.checks.compare import same_value

    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys()
                and all(_agree(a[k], b[k], ref) for k in a))
    if isinstance(a, list | tuple) or isinstance(b, list | tuple):
        return (isinstance(a, list | tuple) and isinstance(b, list | tuple)
                and len(a) == len(b)
                and all(_agree(x, y, ref) for x, y in zip(a, b, strict=True)))
    x, y = _floats(a), _floats(b)
    if x is None or y is None:
        return same_value(a, b)
    if x.shape != y.shape:
        return False
    eps = max(float(np.finfo(x.dtype).eps), float(np.finfo(y.dtype).eps))
    x, y = x.astype(np.float64), y.astype(np.float64)
    finite = np.isfinite(x)
    if not np.array_equal(finite, np.isfinite(y)) or not np.array_equal(
            x[~finite], y[~finite], equal_nan=True):
        return False
    if not finite.any():
        return True
    scale = float(np.max(np.abs(y[finite])))
    return bool(np.all(np.abs(x[finite] - y[finite]) <= tolerance(ref, eps) * scale))


def stale(
    exercises: Iterable[Exercise], solutions_dir: Path, directory: Path = STORE_DIR,
    live: LiveOracle | None = None,
) -> list[str]:
    """Descriptions of stored values that do not agree (:func:`agrees`) with what the solutions
    give now. ``live``: an oracle of ``solutions_dir`` to reuse (it keeps what it computed)."""
    live, stored = live or LiveOracle(solutions_dir), StoredOracle(directory)
    problems = []
    for exercise in exercises:
        for ref in exercise.refs():
            try:
                if not agrees(stored.expected(exercise, ref), live.expected(exercise, ref), ref):
                    problems.append(f"{exercise.id}: {ref.key} differs from the solution")
            except StoreError as error:
                problems.append(str(error))
    return problems


def main(argv: list[str] | None = None) -> int:
    """Rebuild (or with --check, verify) the stored reference values."""
    from grader.registry import UnknownExercise, all_exercises, load

    parser = argparse.ArgumentParser(prog="python -m grader.expected", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="verify instead of writing")
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS_DIR,
                        help=f"the reference solutions (default: {SOLUTIONS_DIR})")
    parser.add_argument("--store", type=Path, default=STORE_DIR,
                        help=f"the stored values' folder (default: {STORE_DIR})")
    parser.add_argument("only", nargs="*", metavar="EXERCISE", help="e.g. ex03 (default: all)")
    args = parser.parse_args(argv)
    # Keras runs as in the learner's process (runner/session.py): oneDNN's reordered float
    # sums off, so that its results do not move from run to run; its start-up lines quiet.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if not args.solutions.is_dir():
        parser.exit(2, f"error: no reference solutions at {args.solutions} (this needs the "
                       "instructor's copy of the course; use --solutions DIR)\n")
    try:
        exercises = [load(name) for name in args.only] if args.only else all_exercises()
        if args.check:
            problems = stale(exercises, args.solutions, args.store)
            for line in problems:
                print(line)
            return 1 if problems else 0
        build(exercises, args.solutions, args.store)
    except (UnknownExercise, StoreError) as error:
        parser.exit(2, f"error: {error}\n")
    print(f"wrote reference values for {len(exercises)} exercise(s) to {args.store}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
