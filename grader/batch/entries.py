"""The students of a batch: one entry per student, a folder or a ``.zip``, staged safely.

A submissions folder holds one entry per student, named by the student id: ``alice/`` (a folder
of ``exNN_*.py`` / ``.ipynb`` files, possibly nested one level, as ``alice/exercises/``) or
``alice.zip`` (the same, zipped, as an LMS or Gradescope download gives it).

Every entry is *staged*: its exercise files, and only those, are copied into a private folder
that the grader owns, so that grading never follows a learner's symbolic link, never reads a
file that changes mid-run and never extracts a path outside that folder. An entry that cannot be
staged (unreadable, not a zip, a zip-slip path, a zip bomb, no exercise file) gets a one-line
``problem`` instead and never stops the batch.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.runner.submission import EXERCISE_STEM, SUFFIXES

#: Caps for one entry; a real submission of ten exercises is well below them.
MAX_FILE_BYTES = 20 * 1024**2  # one exercise file (a notebook with plots is a few MB)
MAX_ENTRY_BYTES = 200 * 1024**2  # everything a zip declares, uncompressed
MAX_MEMBERS = 5000  # members of one zip
MAX_RATIO = 200  # uncompressed / compressed size of a zip member larger than 1 MiB
_RATIO_FLOOR = 1024**2
#: Names that archivers and desktops add and that are never a student.
_IGNORED = frozenset({"__MACOSX", "Thumbs.db", "desktop.ini"})
_CHUNK = 1 << 16


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


def student_id(path: Path) -> str:
    """The student id an entry stands for: its name, without ``.zip``."""
    return path.name[:-4] if path.name.lower().endswith(".zip") else path.name


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
            entries[path.name] = Entry(path.name, path, None,
                                       f"a second entry for {student}: grade one of them")
            continue
        target = staging / f"{len(entries):05d}"
        try:
            _stage(path, target)
        except EntryProblem as problem:
            shutil.rmtree(target, ignore_errors=True)
            entries[student] = Entry(student, path, None, str(problem))
        else:
            entries[student] = Entry(student, path, target)
    return sorted(entries.values(), key=lambda e: e.student)


def _stage(path: Path, target: Path) -> None:
    """Copy the exercise files of entry ``path`` into the new folder ``target``."""
    try:
        mode = path.stat().st_mode
    except OSError as error:
        raise EntryProblem(f"cannot read {path.name}: {error.strerror or error}") from None
    target.mkdir(parents=True)
    if stat.S_ISDIR(mode):
        copied = _stage_folder(path, target)
    elif stat.S_ISREG(mode) and path.name.lower().endswith(".zip"):
        copied = _stage_zip(path, target)
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


def _stage_folder(path: Path, target: Path) -> int:
    """Copy regular exercise files (no symbolic links followed) from the best folder of
    ``path``, at most two levels deep. Returns how many were copied."""
    candidates: dict[str, list[str]] = {}
    try:
        for folder, names in _walk(path, depth=2):
            found = [n for n in names if _exercise_file(n)]
            if found:
                candidates[folder] = found
    except OSError as error:
        raise EntryProblem(f"cannot read {path.name}: {error.strerror or error}") from None
    chosen = _pick_folder(candidates)
    if chosen is None:
        return 0
    for name in candidates[chosen]:
        source = path / chosen / name if chosen else path / name
        _copy_regular(source, target / name, f"{path.name}/{chosen + '/' if chosen else ''}{name}")
    return len(candidates[chosen])


def _walk(root: Path, depth: int) -> list[tuple[str, list[str]]]:
    """``(relative folder, regular file names)`` down to ``depth`` levels, links not followed."""
    out = []
    pending = [("", root, 0)]
    while pending:
        relative, folder, level = pending.pop()
        files = []
        with os.scandir(folder) as listing:
            for item in listing:
                if item.name.startswith(".") or item.name in _IGNORED:
                    continue
                if item.is_dir(follow_symlinks=False) and level < depth:
                    child = f"{relative}/{item.name}" if relative else item.name
                    pending.append((child, Path(item.path), level + 1))
                elif item.is_file(follow_symlinks=False):
                    files.append(item.name)
        out.append((relative, sorted(files)))
    return out


def _copy_regular(source: Path, destination: Path, shown: str) -> None:
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
        with open(destination, "wb") as out:
            shutil.copyfileobj(file, out)
    os.utime(destination, ns=(info.st_atime_ns, info.st_mtime_ns))


# -- zips --------------------------------------------------------------------------------------


def _stage_zip(path: Path, target: Path) -> int:
    """Extract the exercise files of the zip ``path`` into ``target``, after vetting every
    member: no absolute or ``..`` path, no link, no encryption, no bomb."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as error:
        raise EntryProblem(f"{path.name} is not a readable zip file ({error})") from None
    with archive:
        members = archive.infolist()
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
        for name in sorted(set(candidates[chosen])):
            _extract(archive, by_name[f"{chosen}/{name}"], target / name, path.name)
        return len(set(candidates[chosen]))


def _vet(shown: str, members: list[zipfile.ZipInfo]) -> None:
    """Raise EntryProblem for a zip that is unsafe to extract, whatever is extracted of it."""
    if len(members) > MAX_MEMBERS:
        raise EntryProblem(f"{shown} has {len(members)} members (more than {MAX_MEMBERS}): "
                           "not a submission")
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
             shown: str) -> None:
    """Write one member to ``destination``, counting the bytes really inflated (a member's
    declared size can lie)."""
    written = 0
    try:
        with archive.open(info) as source, open(destination, "wb") as out:
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                if written > MAX_FILE_BYTES:
                    raise EntryProblem(f"{shown}: {info.filename!r} inflates beyond "
                                       f"{MAX_FILE_BYTES // 1024**2} MB (a zip bomb?)")
                out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, ValueError) as error:
        raise EntryProblem(f"{shown}: cannot extract {info.filename!r} ({error})") from None
    try:
        stamp = time.mktime((*info.date_time, 0, 0, -1))
        os.utime(destination, (stamp, stamp))
    except (OverflowError, ValueError, OSError):
        pass
