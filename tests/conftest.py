"""Shared helpers: build submissions from the reference solutions, grade them quickly."""

from __future__ import annotations

import ast
import os
import textwrap
from pathlib import Path

import pytest

from grader.engine import grade_path
from grader.registry import load
from grader.result import ExerciseResult
from grader.runner.limits import Limits

REPO = Path(__file__).resolve().parents[1]
#: Learner code that takes more than a run's share (memory, processes, bytes written): the
#: source of a submission, read by the containment tests and benchmarks/bench_containment.py.
FOOTPRINT = (REPO / "tests" / "hostile" / "footprint.py").read_text()
SOLUTIONS = REPO / "solutions"
EXERCISES = REPO / "exercises"

#: Short limits keep hostile tests fast; generous enough for honest code on a busy machine.
TEST_LIMITS = Limits(call_timeout=3.0, import_timeout=5.0, memory_bytes=1024**3)


def replace_functions(source: str, replacements: dict[str, str]) -> str:
    """``source`` with each top-level function or class named in ``replacements`` swapped."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    spans = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in replacements:
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            spans.append((start, node.end_lineno, node.name))
    missing = set(replacements) - {name for _, _, name in spans}
    assert not missing, f"no such definitions: {missing}"
    for start, end, name in sorted(spans, reverse=True):
        lines[start - 1 : end] = [textwrap.dedent(replacements[name]).strip("\n") + "\n"]
    return "".join(lines)


def write_variant(
    folder: Path, module: str, replacements: dict[str, str], prelude: str = ""
) -> Path:
    """Write ``folder/<module>.py``: the reference solution with some definitions replaced."""
    source = (SOLUTIONS / f"{module}.py").read_text()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{module}.py"
    path.write_text(prelude + replace_functions(source, replacements))
    return path


def grade(exercise: str, path: Path, limits: Limits = TEST_LIMITS) -> ExerciseResult:
    """Grade ``path`` for ``exercise`` with the test limits."""
    return grade_path(load(exercise), path, limits=limits)


def by_name(result: ExerciseResult) -> dict:
    """The check results keyed by check name."""
    return {check.name: check for check in result.checks}


@pytest.fixture
def variant(tmp_path: Path):
    """``variant(module, {name: source})`` -> path of a solution with definitions replaced."""

    def make(module: str, replacements: dict[str, str], prelude: str = "") -> Path:
        return write_variant(tmp_path / "submission", module, replacements, prelude)

    return make


def processes_with(marker: str) -> list[int]:
    """Ids of the live processes whose command line contains ``marker``."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{name}/cmdline").read_bytes():
                    found.append(int(name))
            except OSError:
                continue
    return found
