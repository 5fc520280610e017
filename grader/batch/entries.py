"""The students of a batch: one entry per student, a folder or a ``.zip``, staged safely.

A submissions folder holds one entry per student, named by the student id: ``alice/`` (a folder
of ``exNN_*.py`` / ``.ipynb`` files, possibly nested one level, as ``alice/exercises/``) or
``alice.zip`` (the same, zipped, as an LMS or Gradescope download gives it).

Every entry is *staged*: its exercise files, and only those, are copied into a private folder
that the grader owns, so that grading never follows a learner's symbolic link, never reads a
file that changes mid-run and never extracts a path outside that folder. An entry that cannot be
staged (unreadable, not a zip, a zip-slip path, a zip bomb, too big, no exercise file) gets a
one-line ``problem`` instead and never stops the batch.

Folders and zips are capped by one mechanism (:class:`_Budget`): at most MAX_MEMBERS files and
folders looked at (zip members, or directory entries walked), and of what is staged at most
MAX_FILE_BYTES per file, MAX_STAGED_FILES files and MAX_ENTRY_BYTES in all, counted as the bytes
are copied (a zip member's declared size can lie, a file can grow). Nothing else of an entry is
read: a folder's other files are never opened, whatever their size.

A student id is the entry's name (without ``.zip``) as valid text: a byte of the name that is not
UTF-8 (``os.listdir`` gives it as a surrogate escape) is written ``%XX``, so ``b"kim\\xff"`` is
``kim%FF`` in every run (see grader.text.name_text); a name that this makes longer than a file
name may be is cut and ends in ``~`` and 8 hex digits of its hash. Two entries with the same id
are a duplicate: the first (by name) is graded, the other gets a row saying so.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from grader.runner.submission import EXERCISE_STEM, SUFFIXES
from grader.text import name_text

#: Caps for one entry; a real submission of ten exercises is well below them.
MAX_FILE_BYTES = 20 * 1024**2  # one exercise file (a notebook with plots is a few MB)
MAX_ENTRY_BYTES = 200 * 1024**2  # everything a zip declares, uncompressed; all that is staged
MAX_MEMBERS = 5000  # members of one zip, files and folders looked at in one folder entry
MAX_STAGED_FILES = 200  # exercise files staged from one entry (ten exercises need 20 at most)
MAX_RATIO = 200  # uncompressed / compressed size of a zip member larger than 1 MiB
_RATIO_FLOOR = 1024**2
#: Names that archivers and desktops add and that are never a student.
_IGNORED = frozenset({"__MACOSX", "Thumbs.db", "desktop.ini"})
_CHUNK = 1 << 16
_MAX_ID_BYTES = 255  # a file name's limit: a student id names the student's feedback folder


class EntryProblem(Exception):
    """Why an entry cannot be graded, as one line."""


@dataclass(frozen=True)
class Entry:
    """One student's submission.

    ``student`` is the entry's name (without ``.zip``); ``source`` the entry's path;
    ``folder`` the staged copy of its exercise files (None when it has a ``problem``).
    """

    student: str
    source: Path
    folder: Path | None
    problem: str | None = None

    @property
    def shown_source(self) -> str:
        """``source`` as valid text (undecodable bytes of its name as ``%XX``)."""
        return name_text(str(self.source))


def student_id(path: Path) -> str:
    """The student id an entry stands for: its name, without ``.zip``, as valid text (see the
    module docstring)."""
    name = path.name[:-4] if path.name.lower().endswith(".zip") else path.name
    student = name_text(name)
    if len(student.encode("utf-8")) <= _MAX_ID_BYTES:
        return student
    tag = "~" + hashlib.sha256(os.fsencode(name)).hexdigest()[:8]
    while len(student.encode("utf-8")) > _MAX_ID_BYTES - len(tag):
        student = student[:-1]
    return student + tag


def discover(submissions: Path, staging: Path) -> list[Entry]:
    """Every entry of ``submissions``, sorted by student id, staged under ``staging``.

    Hidden names (``.*``) and archiver debris (``__MACOSX``) are skipped. Raises OSError only
    when ``submissions`` itself cannot be listed.
    """
    entries: dict[str, Entry] = {}
    for path in sorted(submissions.iterdir(), key=lambda p: p.name):
        if path.name.startswith(".") or path.name in _IGNORED:
            continue
        student = student_id(path)
        if student in entries:
            key, number = name_text(path.name), 2
            while key in entries:  # never replaces an entry, even one named like the id
                key, number = f"{name_text(path.name)} ({number})", number + 1
            entries[key] = Entry(key, path, None,
                                 f"a second entry for {student}: grade one of them")
            continue
        target = staging / f"{len(entries):05d}"
        try:
            _stage(path, target)
        except EntryProblem as problem:
            shutil.rmtree(target, ignore_errors=True)
            entries[student] = Entry(student, path, None, name_text(str(problem)))
        else:
            entries[student] = Entry(student, path, target)
    return sorted(entries.values(), key=lambda e: e.student)


class _Budget:
    """What staging one entry may cost, the same for a folder and a zip: files and folders
    looked at (:meth:`look`) and the files and bytes staged (:meth:`copy`)."""

    def __init__(self, shown: str) -> None:
        self.shown = shown
        self.looked = self.files = self.bytes = 0

    def look(self, count: int = 1) -> None:
        """Count ``count`` more members or directory entries looked at."""
        self.looked += count
        if self.looked > MAX_MEMBERS:
            raise EntryProblem(f"{self.shown} has more than {MAX_MEMBERS} files and folders: "
                               "not a submission")

    def plan(self, sizes: dict[str, int]) -> None:
        """Before copying anything: refuse to stage files of these stated sizes (shown name ->
        bytes) when one is too big, or they are too many or too big in all."""
        for shown, size in sizes.items():
            if size > MAX_FILE_BYTES:
                raise EntryProblem(f"{shown} is larger than {MAX_FILE_BYTES // 1024**2} MB")
        if len(sizes) > MAX_STAGED_FILES:
            raise EntryProblem(f"{self.shown} has {len(sizes)} exercise files (more than "
                               f"{MAX_STAGED_FILES}): not a submission")
        if sum(sizes.values()) > MAX_ENTRY_BYTES:
            raise EntryProblem(f"{self.shown}: its exercise files hold more than "
                               f"{MAX_ENTRY_BYTES // 1024**2} MB: not a submission")

    def copy(self, source: IO[bytes], destination: Path, shown: str,
             inflating: bool = False) -> None:
        """Copy ``source`` to the new file ``destination``, counting the bytes really read."""
        self.files += 1
        if self.files > MAX_STAGED_FILES:
            raise EntryProblem(f"{self.shown} has more than {MAX_STAGED_FILES} exercise files: "
                               "not a submission")
        written = 0
        with open(destination, "wb") as out:
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                self.bytes += len(chunk)
                if written > MAX_FILE_BYTES:
                    raise EntryProblem(
                        f"{shown} inflates beyond {MAX_FILE_BYTES // 1024**2} MB (a zip bomb?)"
                        if inflating else
                        f"{shown} is larger than {MAX_FILE_BYTES // 1024**2} MB")
                if self.bytes > MAX_ENTRY_BYTES:
                    raise EntryProblem(f"{self.shown}: its exercise files hold more than "
                                       f"{MAX_ENTRY_BYTES // 1024**2} MB: not a submission")
                out.write(chunk)


def _stage(path: Path, target: Path) -> None:
    """Copy the exercise files of entry ``path`` into the new folder ``target``."""
    try:
        mode = path.stat().st_mode
    except OSError as error:
        raise EntryProblem(f"cannot read {path.name}: {error.strerror or error}") from None
    target.mkdir(parents=True)
    budget = _Budget(path.name)
    if stat.S_ISDIR(mode):
        copied = _stage_folder(path, target, budget)
    elif stat.S_ISREG(mode) and path.name.lower().endswith(".zip"):
        copied = _stage_zip(path, target, budget)
    else:
        raise EntryProblem(f"{path.name} is neither a folder nor a .zip file")
    if not copied:
        raise EntryProblem(f"{path.name} holds no exercise file (exNN_name.py or .ipynb)")


def _exercise_file(name: str) -> bool:
    pure = PurePosixPath(name)
    return pure.suffix in SUFFIXES and EXERCISE_STEM.fullmatch(pure.stem) is not None


def _pick_folder(candidates: dict[str, list[str]]) -> str | None:
    """The folder (relative, posix) holding the exercise files: the shallowest with the most."""
    if not candidates:
        return None
    return min(candidates, key=lambda d: (d.count("/") if d else -1, -len(candidates[d]), d))


# -- folders ---------------------------------------------------------------------------------


def _stage_folder(path: Path, target: Path, budget: _Budget) -> int:
    """Copy regular exercise files (no symbolic links followed) from the best folder of
    ``path``, at most two levels deep. Returns how many were copied."""
    candidates: dict[str, list[str]] = {}
    try:
        for folder, names in _walk(path, depth=2, budget=budget):
            found = [n for n in names if _exercise_file(n)]
            if found:
                candidates[folder] = found
    except OSError as error:
        raise EntryProblem(f"cannot read {path.name}: {error.strerror or error}") from None
    chosen = _pick_folder(candidates)
    if chosen is None:
        return 0
    sources = {f"{path.name}/{chosen + '/' if chosen else ''}{name}":
               (name, path / chosen / name if chosen else path / name)
               for name in candidates[chosen]}
    budget.plan({shown: _size(source) for shown, (_, source) in sources.items()})
    for shown, (name, source) in sources.items():
        _copy_regular(source, target / name, shown, budget)
    return len(candidates[chosen])


def _walk(root: Path, depth: int, budget: _Budget) -> list[tuple[str, list[str]]]:
    """``(relative folder, regular file names)`` down to ``depth`` levels, links not followed;
    every directory entry seen counts against ``budget``."""
    out = []
    pending = [("", root, 0)]
    while pending:
        relative, folder, level = pending.pop()
        files = []
        with os.scandir(folder) as listing:
            for item in listing:
                budget.look()
                if item.name.startswith(".") or item.name in _IGNORED:
                    continue
                if item.is_dir(follow_symlinks=False) and level < depth:
                    child = f"{relative}/{item.name}" if relative else item.name
                    pending.append((child, Path(item.path), level + 1))
                elif item.is_file(follow_symlinks=False):
                    files.append(item.name)
        out.append((relative, sorted(files)))
    return out


def _size(path: Path) -> int:
    """The size of ``path`` as it says (a link's own size; 0 when it cannot be read: the copy
    then says why)."""
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


def _copy_regular(source: Path, destination: Path, shown: str, budget: _Budget) -> None:
    """Copy ``source`` if it is a regular file of at most MAX_FILE_BYTES (never a link)."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise EntryProblem(f"cannot read {shown}: {error.strerror or error}") from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise EntryProblem(f"{shown} is not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise EntryProblem(f"{shown} is larger than {MAX_FILE_BYTES // 1024**2} MB")
        try:
            budget.copy(file, destination, shown)
        except OSError as error:
            raise EntryProblem(f"cannot read {shown}: {error.strerror or error}") from None
    os.utime(destination, ns=(info.st_atime_ns, info.st_mtime_ns))


# -- zips --------------------------------------------------------------------------------------


def _stage_zip(path: Path, target: Path, budget: _Budget) -> int:
    """Extract the exercise files of the zip ``path`` into ``target``, after vetting every
    member: no absolute or ``..`` path, no link, no encryption, no bomb."""
    try:
        archive = zipfile.ZipFile(path)
    except UnicodeDecodeError:
        raise EntryProblem(f"{path.name} is not a readable zip file (a member's name is "
                           "marked UTF-8 but is not)") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as error:
        raise EntryProblem(f"{path.name} is not a readable zip file ({error})") from None
    with archive:
        members = archive.infolist()
        budget.look(len(members))
        _vet(path.name, members)
        candidates: dict[str, list[str]] = {}
        by_name: dict[str, zipfile.ZipInfo] = {}
        for info in members:
            if info.is_dir():
                continue
            pure = PurePosixPath(info.filename.replace("\\", "/"))
            parts = pure.parts
            if len(parts) > 3 or any(p.startswith(".") or p in _IGNORED for p in parts):
                continue
            if _exercise_file(pure.name):
                folder = "/".join(parts[:-1])
                candidates.setdefault(folder, []).append(pure.name)
                by_name[f"{folder}/{pure.name}"] = info
        chosen = _pick_folder(candidates)
        if chosen is None:
            return 0
        budget.plan({f"{path.name}: {by_name[f'{chosen}/{name}'].filename!r}":
                     by_name[f"{chosen}/{name}"].file_size for name in set(candidates[chosen])})
        for name in sorted(set(candidates[chosen])):
            _extract(archive, by_name[f"{chosen}/{name}"], target / name, path.name, budget)
        return len(set(candidates[chosen]))


def _vet(shown: str, members: list[zipfile.ZipInfo]) -> None:
    """Raise EntryProblem for a zip that is unsafe to extract, whatever is extracted of it
    (the member count is the budget's)."""
    total = 0
    for info in members:
        name = info.filename.replace("\\", "/")
        pure = PurePosixPath(name)
        if name.startswith("/") or ".." in pure.parts or (len(name) > 1 and name[1] == ":"):
            raise EntryProblem(f"{shown} has an unsafe path {info.filename!r} (zip slip): "
                               "nothing was extracted")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise EntryProblem(f"{shown} has a symbolic link {info.filename!r}: "
                               "nothing was extracted")
        if info.flag_bits & 0x1:
            raise EntryProblem(f"{shown} is encrypted ({info.filename!r})")
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if total > MAX_ENTRY_BYTES or (info.file_size > _RATIO_FLOOR and ratio > MAX_RATIO):
            raise EntryProblem(f"{shown} looks like a zip bomb ({info.filename!r} expands "
                               f"{info.compress_size} bytes to {info.file_size}): nothing was "
                               "extracted")


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, destination: Path,
             shown: str, budget: _Budget) -> None:
    """Write one member to ``destination``, counting the bytes really inflated (a member's
    declared size can lie)."""
    try:
        with archive.open(info) as source:
            budget.copy(source, destination, f"{shown}: {info.filename!r}", inflating=True)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, ValueError) as error:
        raise EntryProblem(f"{shown}: cannot extract {info.filename!r} ({error})") from None
    try:
        stamp = time.mktime((*info.date_time, 0, 0, -1))
        os.utime(destination, (stamp, stamp))
    except (OverflowError, ValueError, OSError):
        pass
