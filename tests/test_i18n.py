"""The catalogues: every marked text has its Korean form with the same placeholders, the
compiled catalogue matches its source, and Korean output is Korean where the grader speaks."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from grader import i18n
from grader.authoring import catalog
from grader.i18n import _

ROOT = Path(__file__).resolve().parents[1]
BUGGY_SOFTMAX = """
import numpy as np

def softmax(x):
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)
"""


def test_every_marked_text_has_its_korean_form_with_the_same_placeholders():
    assert catalog.problems("ko") == []


def test_the_compiled_catalogue_is_the_source_compiled():
    assert catalog.po_path("ko").with_suffix(".mo").read_bytes() == catalog.compiled("ko"), \
        "run python -m grader.authoring.catalog compile"


def test_placeholder_fields_are_compared():
    assert catalog.fields("{what}: got {got:.3g} of {size}") == ["got", "size", "what"]
    assert catalog.fields("no fields") == []


def _marked_calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("_", "N_"):
            yield node


def test_marked_texts_are_literals_and_no_module_rebinds_the_translator():
    """An f-string inside _() cannot be in a catalogue; ``header, _ = ...`` in a module that
    translates would turn every later ``_("...")`` of that function into a crash."""
    for path in (ROOT / "grader").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _marked_calls(tree):  # _(name) of an N_-marked constant is fine
            assert len(call.args) == 1, f"{path}:{call.lineno}"
            literal = isinstance(call.args[0], ast.Constant)
            assert literal or (call.func.id == "_" and not isinstance(
                call.args[0], ast.JoinedStr | ast.BinOp)), f"{path}:{call.lineno}"
        if not any(isinstance(n, ast.ImportFrom) and n.module == "grader.i18n"
                   and any(a.name == "_" for a in n.names) for n in ast.walk(tree)):
            continue
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.For | ast.comprehension):
                targets = [node.target]
            for target in targets:
                names = [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
                assert "_" not in names, f"{path}:{getattr(node, 'lineno', '?')} rebinds _"


def test_language_comes_from_the_argument_then_the_process_then_the_locale(monkeypatch):
    monkeypatch.setenv("LC_ALL", "")
    monkeypatch.setenv("LC_MESSAGES", "")
    monkeypatch.setenv("LANG", "ko_KR.UTF-8")
    assert i18n.current() == "ko"
    assert _("Likely mistake:") == "예상되는 실수:"
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    assert i18n.current() == "en"
    with i18n.use("ko"):
        assert _("Likely mistake:") == "예상되는 실수:"
    i18n.set_language("ko")
    try:
        assert i18n.current() == "ko"
        with i18n.use("en"):
            assert _("Likely mistake:") == "Likely mistake:"
    finally:
        i18n.set_language(None)
    with pytest.raises(i18n.UnknownLanguage):
        i18n.normalise("xx")


def _grade(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    folder = tmp_path / "work"
    folder.mkdir(exist_ok=True)
    (folder / "ex01_activations.py").write_text(BUGGY_SOFTMAX)
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    return subprocess.run([sys.executable, "-m", "grader", *args, "--path", str(folder)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


@pytest.mark.slow
def test_grade_lang_ko_speaks_korean_and_scores_alike(tmp_path):
    english = _grade(tmp_path, "ex01")
    korean = _grade(tmp_path, "ex01", "--lang", "ko")
    assert english.returncode == korean.returncode == 1, korean.stderr
    assert "예상되는 실수:" in korean.stdout and "Likely mistake:" not in korean.stdout
    assert "코드에 step_function이(가) 정의되어 있지 않습니다" in korean.stdout
    total = [line for line in korean.stdout.splitlines() if "합계" in line]
    assert total and total[0].split()[-1] == \
        [line for line in english.stdout.splitlines() if "Total for" in line][0].split()[-1]
    assert [line[:4] for line in english.stdout.splitlines() if line[:4] in ("PASS", "FAIL")] \
        == [line[:4] for line in korean.stdout.splitlines() if line[:4] in ("PASS", "FAIL")]
