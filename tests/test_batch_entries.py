"""Staging a class's entries: folders and zips become private copies, bad entries a one-line row."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from conftest import SOLUTIONS
from grader.batch import entries as entries_module
from grader.batch.entries import discover

EX01 = (SOLUTIONS / "ex01_activations.py").read_text()


def by_student(submissions: Path, staging: Path) -> dict:
    return {entry.student: entry for entry in discover(submissions, staging)}


def make_zip(path: Path, members: dict[str, bytes | str], links: dict[str, str] | None = None):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


@pytest.fixture
def roots(tmp_path):
    submissions, staging = tmp_path / "submissions", tmp_path / "staging"
    submissions.mkdir()
    staging.mkdir()
    return submissions, staging


def test_folders_and_zips_are_staged_with_only_their_exercise_files(roots):
    submissions, staging = roots
    (submissions / "alice").mkdir()
    (submissions / "alice" / "ex01_activations.py").write_text(EX01)
    (submissions / "alice" / "notes.txt").write_text("not an exercise")
    nested = submissions / "bob" / "exercises"
    nested.mkdir(parents=True)
    (nested / "ex01_activations.ipynb").write_text("{}")
    make_zip(submissions / "carol.zip", {"carol-work/ex01_activations.py": EX01,
                                         "carol-work/ex02_losses.py": "x = 1\n",
                                         "carol-work/readme.md": "hi"})
    found = by_student(submissions, staging)
    assert sorted(found) == ["alice", "bob", "carol"]
    assert all(entry.problem is None for entry in found.values())
    assert sorted(p.name for p in found["alice"].folder.iterdir()) == ["ex01_activations.py"]
    assert sorted(p.name for p in found["bob"].folder.iterdir()) == ["ex01_activations.ipynb"]
    assert sorted(p.name for p in found["carol"].folder.iterdir()) == [
        "ex01_activations.py", "ex02_losses.py"]
    assert (found["carol"].folder / "ex01_activations.py").read_text() == EX01
    assert all(e.folder.is_relative_to(staging) for e in found.values())


def test_modification_times_survive_staging(roots):
    submissions, staging = roots
    (submissions / "alice").mkdir()
    source = submissions / "alice" / "ex01_activations.py"
    source.write_text(EX01)
    os.utime(source, (1_600_000_000, 1_600_000_000))
    make_zip(submissions / "bob.zip", {"ex01_activations.py": EX01})
    found = by_student(submissions, staging)
    assert (found["alice"].folder / "ex01_activations.py").stat().st_mtime == 1_600_000_000
    with zipfile.ZipFile(submissions / "bob.zip") as archive:
        stamp = archive.getinfo("ex01_activations.py").date_time
    assert os.path.getmtime(found["bob"].folder / "ex01_activations.py") > 0
    assert stamp[0] >= 1980


@pytest.mark.parametrize(("member", "why"), [
    ("../evil/ex01_activations.py", "zip slip"),
    ("/etc/ex01_activations.py", "zip slip"),
    ("a/../../ex01_activations.py", "zip slip"),
    ("C:/x/ex01_activations.py", "zip slip"),
])
def test_a_zip_slip_path_gets_a_row_and_nothing_is_extracted(roots, tmp_path, member, why):
    submissions, staging = roots
    make_zip(submissions / "mallory.zip", {"ex01_activations.py": EX01, member: "pwned"})
    found = by_student(submissions, staging)
    assert found["mallory"].folder is None
    assert why in found["mallory"].problem and member in found["mallory"].problem
    assert not (tmp_path / "evil").exists()
    assert list(staging.iterdir()) == []


def test_a_symbolic_link_in_a_zip_gets_a_row(roots):
    submissions, staging = roots
    make_zip(submissions / "mallory.zip", {"ex02_losses.py": "x = 1\n"},
             links={"ex01_activations.py": "/etc/passwd"})
    found = by_student(submissions, staging)
    assert found["mallory"].folder is None
    assert "symbolic link" in found["mallory"].problem


def test_a_zip_bomb_gets_a_row_before_anything_is_inflated(roots):
    submissions, staging = roots
    make_zip(submissions / "mallory.zip", {"ex01_activations.py": b"\0" * (50 * 1024**2)})
    assert (submissions / "mallory.zip").stat().st_size < 1024**2
    found = by_student(submissions, staging)
    assert found["mallory"].folder is None
    assert "zip bomb" in found["mallory"].problem


def test_a_member_that_inflates_beyond_its_declared_size_is_stopped(roots, monkeypatch):
    submissions, staging = roots
    monkeypatch.setattr(entries_module, "MAX_FILE_BYTES", 1000)
    make_zip(submissions / "mallory.zip", {"ex01_activations.py": "#" * 5000})
    found = by_student(submissions, staging)
    assert found["mallory"].folder is None
    assert "inflates beyond" in found["mallory"].problem or "larger than" in found[
        "mallory"].problem


@pytest.mark.parametrize(("make", "why"), [
    (lambda p: (p / "grace").mkdir(), "no exercise file"),
    (lambda p: (p / "heidi.zip").write_bytes(b"PK\3\4 not really a zip"), "not a readable zip"),
    (lambda p: (p / "ivan.txt").write_text("hello"), "neither a folder nor a .zip"),
    (lambda p: make_zip(p / "judy.zip", {"readme.md": "nothing here"}), "no exercise file"),
    (lambda p: os.symlink(p / "nowhere", p / "ken"), "cannot read"),
])
def test_bad_entries_get_a_one_line_row_and_never_stop_the_batch(roots, make, why):
    submissions, staging = roots
    make(submissions)
    (submissions / "zoe").mkdir()
    (submissions / "zoe" / "ex01_activations.py").write_text(EX01)
    found = discover(submissions, staging)
    bad = [e for e in found if e.problem]
    assert len(bad) == 1 and why in bad[0].problem and "\n" not in bad[0].problem
    assert [e.student for e in found if not e.problem] == ["zoe"]


def test_a_learners_symbolic_link_is_never_followed(roots, tmp_path):
    submissions, staging = roots
    secret = tmp_path / "secret.py"
    secret.write_text("SOLUTION = 42\n")
    (submissions / "mallory").mkdir()
    os.symlink(secret, submissions / "mallory" / "ex01_activations.py")
    (submissions / "mallory" / "ex02_losses.py").write_text("x = 1\n")
    found = by_student(submissions, staging)
    staged = found["mallory"].folder
    assert sorted(p.name for p in staged.iterdir()) == ["ex02_losses.py"]
    assert all("SOLUTION" not in p.read_text() for p in staging.rglob("*.py"))


def test_hidden_names_debris_and_duplicates(roots):
    submissions, staging = roots
    for name in (".git", "__MACOSX", "alice"):
        (submissions / name).mkdir()
        (submissions / name / "ex01_activations.py").write_text(EX01)
    make_zip(submissions / "alice.zip", {"ex01_activations.py": EX01})
    found = by_student(submissions, staging)
    assert sorted(found) == ["alice", "alice.zip"]
    assert found["alice"].problem is None
    assert "second entry for alice" in found["alice.zip"].problem
