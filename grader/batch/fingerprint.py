"""What a stored result depends on: the submission's content and the grader that graded it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import grader

_GRADER_DIR = Path(grader.__file__).resolve().parent
_SOURCE_SUFFIXES = (".py", ".npz", ".json", ".mo")
#: Parts of the grader that only present results already graded, or serve other commands:
#: editing them leaves every stored result valid, so they stay out of the grader hash (a test
#: checks that grading never imports them).
PRESENTATION = (
    "__main__.py", "cli.py", "report.py", "release.py", "formats", "classreport", "authoring",
    "data/release", "batch/outputs.py", "batch/progress.py",
)


def _feed_tree(digest: hashlib._Hash, root: Path, suffixes: tuple[str, ...],
               skip: tuple[str, ...] = ()) -> None:
    """Feed every file under ``root`` with one of ``suffixes`` (name and bytes) into ``digest``,
    except those at or under the relative paths ``skip``."""
    for path in sorted(p for p in root.rglob("*") if p.suffix in suffixes and p.is_file()):
        relative = path.relative_to(root).as_posix()
        if "__pycache__" in path.parts or any(
                relative == part or relative.startswith(part + "/") for part in skip):
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
                solutions: Path | None = None, resample_seed: str | None = None,
                lang: str = "en") -> str:
    """A hash of the grader's version, its checks, runner and stored values (everything but
    :data:`PRESENTATION`), and the run's options.

    With hidden checks, or with public checks resampled (``resample_seed``), their seed and the
    instructor's ``solutions`` (hidden checks and reference code) count too; a seed enters only
    through a hash. A language other than English (``lang``) counts too, and its catalogue is
    part of the grader's files.
    """
    digest = hashlib.sha256()
    digest.update(f"version={grader.__version__};timeout={timeout!r}\0".encode())
    _feed_tree(digest, _GRADER_DIR, _SOURCE_SUFFIXES, PRESENTATION)
    if lang != "en":
        digest.update(f"lang={lang}\0".encode())
    if hidden_seed is not None:
        digest.update(b"hidden\0" + hashlib.sha256(hidden_seed.encode()).digest())
    if resample_seed is not None:
        digest.update(b"resampled\0" + hashlib.sha256(resample_seed.encode()).digest())
    if solutions is not None and (hidden_seed is not None or resample_seed is not None):
        _feed_tree(digest, solutions, (".py",))
    return digest.hexdigest()
