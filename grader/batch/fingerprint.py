"""What a stored result depends on: the submission's content and the grader that graded it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import grader

_GRADER_DIR = Path(grader.__file__).resolve().parent
_SOURCE_SUFFIXES = (".py", ".npz", ".json")


def _feed_tree(digest: hashlib._Hash, root: Path, suffixes: tuple[str, ...]) -> None:
    """Feed every file under ``root`` with one of ``suffixes`` (name and bytes) into ``digest``."""
    for path in sorted(p for p in root.rglob("*") if p.suffix in suffixes and p.is_file()):
        if "__pycache__" in path.parts:
            continue
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def submission_hash(folder: Path) -> str:
    """A hash of a staged submission folder: every file's name, modification time and bytes.

    Every exercise of a student shares it: any exercise may import the others, so a change to
    one file may change any result. The modification time counts because it decides between a
    ``.py`` file and its notebook twin.
    """
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        digest.update(path.name.encode() + b"\0")
        digest.update(str(path.stat().st_mtime_ns).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def grader_hash(timeout: float | None, hidden_seed: str | None = None,
                solutions: Path | None = None) -> str:
    """A hash of the grader's version, its checks and stored values, and the run's options.

    With hidden checks, the seed and the instructor's solutions (hidden checks and reference
    code) count too; the seed enters only through a hash.
    """
    digest = hashlib.sha256()
    digest.update(f"version={grader.__version__};timeout={timeout!r}\0".encode())
    _feed_tree(digest, _GRADER_DIR, _SOURCE_SUFFIXES)
    if hidden_seed is not None:
        digest.update(b"hidden\0" + hashlib.sha256(hidden_seed.encode()).digest())
        if solutions is not None:
            _feed_tree(digest, solutions, (".py",))
    return digest.hexdigest()
