"""Hostile submissions on the grader's side: files are bounded before they are read or parsed,
and learner code is compiled only in the child, never in the grader's process."""

from __future__ import annotations

import ast
import builtins
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.runner.session import Session
from grader.runner.submission import (
    MAX_NOTEBOOK_BYTES,
    MAX_SOURCE_BYTES,
    SubmissionError,
    collect_sources,
    locate,
)

ROOT = Path(__file__).resolve().parents[2]
MARK = "LEARNER_SOURCE_MARK"


def write_notebook(path: Path, cells: list[str], **extra: object) -> Path:
    path.write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                   "source": source} for source in cells],
        **extra,
    }))
    return path


def literals(megabytes: float) -> str:
    count = int(megabytes * 10**6 / 7)
    return "DATA = [" + ", ".join(str(10_000 + i % 90_000) for i in range(count)) + "]\n"


def test_the_grader_never_compiles_or_parses_learner_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_session: Callable[..., Session]
) -> None:
    seen: list[str] = []
    real_compile, real_parse = builtins.compile, ast.parse

    def spy(real: Callable) -> Callable:
        def call(source: object, *args: object, **kwargs: object) -> object:
            text = source.decode("latin1") if isinstance(source, bytes) else str(source)
            if MARK in text:
                seen.append(text[:80])
            return real(source, *args, **kwargs)

        return call

    monkeypatch.setattr(builtins, "compile", spy(real_compile))
    monkeypatch.setattr(ast, "parse", spy(real_parse))
    good = write_notebook(tmp_path / "good.ipynb", [f"# {MARK}\ndef f(x):\n    return x + 1"])
    s = open_session(good)
    assert s.call("f", 1).value == 2
    bad = write_notebook(tmp_path / "bad.ipynb", [f"# {MARK}\nx = 1", "y = 2\nz = = 3"])
    s = open_session(bad)
    assert s.import_error is not None
    assert s.import_error.message == (
        "could not import your code: SyntaxError in cell 2, line 2: invalid syntax"
    )
    assert s.import_error.cause == "unreadable"
    assert seen == []


def test_a_literal_heavy_notebook_keeps_the_grader_small(tmp_path: Path) -> None:
    """Compiling 3.5 MB of literals takes the child hundreds of MB; the grader stays small."""
    path = write_notebook(tmp_path / "ex01_activations.ipynb",
                          ["def f():\n    return len(DATA)", literals(3.5)])
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from grader.runner.session import Session
        from grader.runner.submission import locate
        with Session(locate({str(path)!r}, "ex01_activations")) as s:
            reply = s.call("f")
            assert reply.ok, reply.error
        status = open("/proc/self/status").read().splitlines()
        print(next(int(l.split()[1]) for l in status if l.startswith("VmHWM:")) // 1024)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[-1]) < 160  # MiB; compiling it here took about 700


def test_a_huge_notebook_is_refused_by_size_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ex01_activations.ipynb"
    with path.open("wb") as f:
        f.truncate(50 * 10**6)  # 50 MB (sparse)
    monkeypatch.setattr(json, "loads", lambda *a, **k: pytest.fail("parsed"))
    with pytest.raises(SubmissionError, match=r"is too large to grade: 47.7 MB \(the limit"):
        collect_sources(locate(path, "ex01_activations"))
    assert MAX_NOTEBOOK_BYTES < 50 * 10**6


def test_a_notebook_of_millions_of_values_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_notebook(tmp_path / "nb.ipynb", ["x = 1"], padding=[0.5] * 3_000_000)
    monkeypatch.setattr(json, "loads", lambda *a, **k: pytest.fail("parsed"))
    with pytest.raises(SubmissionError, match="too large to grade: 3000[0-9]{3} JSON values"):
        collect_sources(locate(path, "ex01_activations"))


def test_a_deeply_nested_notebook_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    path.write_text('{"cells": ' + "[" * 200_000 + "]" * 200_000 + "}")
    with pytest.raises(SubmissionError, match="not a readable notebook"):
        collect_sources(locate(path, "ex01_activations"))


def test_a_huge_source_file_is_refused_by_size(tmp_path: Path) -> None:
    path = tmp_path / "ex01_activations.py"
    with path.open("wb") as f:
        f.truncate(MAX_SOURCE_BYTES + 1)
    with pytest.raises(SubmissionError, match="is too large to grade"):
        collect_sources(locate(path, "ex01_activations"))


def test_notebook_code_over_the_source_limit_is_refused(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "nb.ipynb", ["x = 1", "#" + "x" * MAX_SOURCE_BYTES])
    with pytest.raises(SubmissionError, match="MB of code"):
        collect_sources(locate(path, "ex01_activations"))


def test_sibling_notebooks_are_not_syntax_checked_up_front(
    tmp_path: Path, open_session: Callable[..., Session]
) -> None:
    (tmp_path / "ex01_activations.py").write_text("def f():\n    return 1\n")
    write_notebook(tmp_path / "ex02_losses.ipynb", ["x = = 1"])
    [graded, sibling] = collect_sources(locate(tmp_path, "ex01_activations"))
    assert graded.cells == () and sibling.cells == ()
    assert open_session(tmp_path).call("f").value == 1


def test_nbformat_3_notebooks_still_convert(tmp_path: Path) -> None:
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps({"nbformat": 3, "worksheets": [{"cells": [
        {"cell_type": "markdown", "source": "# hi"},
        {"cell_type": "code", "input": ["x = 1\n", "y = 2"]},
    ]}]}))
    [only] = collect_sources(locate(path, "ex01_activations"))
    assert only.data == b"x = 1\ny = 2\n" and only.cells == ((2, 1, 2),)
