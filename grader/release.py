"""``grade release OUT``: the folder students receive, made from the instructor's repository.

The bundle holds what students need to work and grade themselves, and nothing that instructors
keep to themselves:

- ``exercises/``: stubs and notebooks generated afresh from ``solutions/``;
- the ``grader`` package (public checks, stored reference values) without its authoring tools,
  this module and its templates; the ``dataset`` package; ``datasets/mnist/`` (the data files
  and their checksums, never a decoded cache);
- ``pyproject.toml``: the repository's, keeping only what installs those packages, their
  runtime dependencies and the ``grade`` script;
- a ``README.md`` for students, ``.github/workflows/grade.yml`` (grades every push) and a
  ``.gitignore``, from the templates in ``grader/data/release/``.

``solutions/``, ``tests/``, ``benchmarks/`` and the rest of the repository are never read for
copying: the bundle is built from an explicit list of what to ship. Every public check must
find its stored reference value first, and every stored value must still be what the solutions
give, by the rule of ``python -m grader.expected --check`` (a stale store would fail every
student's check). The bundle is written to a temporary folder beside OUT and moved into place
only when complete.
"""

from __future__ import annotations

import os
import re
import shutil
import string
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.authoring import stubs
from grader.expected import STORE_DIR, StoredOracle, StoreError

#: The instructor's repository: the one this grader package lives in.
REPO = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).parent / "data" / "release"

#: The packages the bundle installs (as ``[tool.setuptools.packages.find]`` includes them).
PACKAGES = ("grader", "dataset")
#: Parts of those packages that only instructors use, as paths relative to the repository.
INSTRUCTOR_ONLY = ("grader/authoring", "grader/release.py", "grader/data/release")
#: The data sets shipped (folders of ``datasets/``); only their top-level files are copied.
DATA_SETS = ("mnist",)
#: Tables of pyproject.toml the bundle keeps; a ``tool.`` entry keeps its sub-tables too.
PYPROJECT_TABLES = ("build-system", "project", "project.scripts", "tool.setuptools")
#: Template file -> where it goes in the bundle (the README is filled in, the others copied).
TEMPLATE_FILES = {
    "README.md": "README.md",
    "grade.yml": ".github/workflows/grade.yml",
    "gitignore": ".gitignore",
}

#: A table header with bare keys (``[tool.ruff.lint]``, ``[[tool.x]]``); group 1 is its name.
_TABLE_HEADER = re.compile(r"^\[\[?\s*([\w-]+(?:\s*\.\s*[\w-]+)*)\s*\]\]?\s*(?:#.*)?$")


class ReleaseError(Exception):
    """The bundle cannot be written (one line: a bad OUT, or an incomplete repository)."""


@dataclass(frozen=True)
class Part:
    """One part of the bundle: its name (``exercises/``) and the files written for it."""

    name: str
    files: tuple[Path, ...]

    @property
    def size(self) -> int:
        """Bytes written for this part."""
        return sum(path.stat().st_size for path in self.files)


def check_target(out: Path) -> None:
    """Raise ``ReleaseError`` unless ``out`` is free: missing, or an empty folder."""
    if out.is_dir():
        if any(out.iterdir()):
            raise ReleaseError(f"{out} is not empty: give a new or empty folder")
    elif out.exists() or out.is_symlink():
        raise ReleaseError(f"{out} exists and is not a folder: give a new or empty folder")


def build(out: Path, repo: Path = REPO, echo: Callable[[str], None] = print) -> list[Part]:
    """Write the student bundle to ``out`` (missing or empty) from ``repo``; return its parts.

    ``echo`` gets one line per part written and a final line with the bundle's path and size.
    Raises ``ReleaseError`` (nothing written) when ``out`` is not free, when ``out`` lies inside
    a folder that is shipped, or when ``repo`` lacks what the bundle is made from.
    """
    out = Path(out).absolute()
    repo = Path(repo).resolve()
    check_target(out)
    _check_repo(repo, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        parts = []
        for part in _write_parts(repo, staging):
            echo(_describe(part))
            parts.append(part)
        check_target(out)  # still free after the build
        if out.is_dir():
            out.rmdir()
        staging.chmod(0o755)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    parts = [Part(p.name, tuple(out / f.relative_to(staging) for f in p.files)) for p in parts]
    count = sum(len(part.files) for part in parts)
    echo(f"student bundle: {out} ({count} files, {_size(sum(p.size for p in parts))})")
    return parts


def _check_repo(repo: Path, out: Path) -> None:
    solutions = repo / "solutions"
    if not any(solutions.glob("ex*.py")):
        raise ReleaseError(
            f"no solutions in {solutions}: grade release runs in the instructor's repository"
        )
    for name in (*PACKAGES, "exercises", "solutions", "datasets"):
        if out.resolve().is_relative_to(repo / name):
            raise ReleaseError(f"{out} is inside {repo / name}: write the bundle elsewhere")
    try:
        check_stores(repo / STORE_DIR.resolve().relative_to(REPO), solutions)
    except StoreError as error:
        raise ReleaseError(str(error)) from None


def check_stores(directory: Path, solutions: Path = REPO / "solutions") -> None:
    """Every public check finds its stored reference value (the stores match the checks), and
    every stored value agrees with what the ``solutions`` give now (:func:`stale_stores`).
    Raises StoreError."""
    from grader.registry import all_exercises

    oracle = StoredOracle(directory)
    for exercise in all_exercises():
        for ref in exercise.refs():
            oracle.expected(exercise, ref)
    problems = stale_stores(directory, solutions)
    if problems:
        exercises = ", ".join(dict.fromkeys(p.split(":")[0] for p in problems))
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise StoreError(f"stored reference values of {exercises} are out of date: "
                         f"{problems[0]}{more}; rebuild with: python -m grader.expected")


def stale_stores(directory: Path, solutions: Path) -> list[str]:
    """The stored values under ``directory`` that do not agree with what ``solutions`` give,
    as ``python -m grader.expected --check`` says (the same rule, ``grader.expected.agrees``).

    It runs as a process of its own: it imports every solution and runs the Keras ones, whose
    memory and log lines stay out of this one. Raises StoreError when it cannot check.
    """
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [root, *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run(
        [sys.executable, "-m", "grader.expected", "--check", "--solutions", str(solutions),
         "--store", str(directory)],
        capture_output=True, text=True, env=env, cwd=root, check=False)
    if done.returncode not in (0, 1):
        said = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise StoreError(f"could not check the stored reference values: {said}")
    return done.stdout.splitlines()


def _write_parts(repo: Path, out: Path) -> Iterable[Part]:
    yield Part("exercises/", _exercises(repo / "solutions", out / "exercises"))
    package_data = _package_data(repo / "pyproject.toml")
    for package in PACKAGES:
        files = package_files(repo, package, package_data.get(package, ()))
        yield Part(f"{package}/", _copy(repo, files, out))
    for data_set in DATA_SETS:
        folder = repo / "datasets" / data_set
        files = sorted(p.relative_to(repo) for p in folder.iterdir()
                       if p.is_file() and not p.name.startswith("."))
        if not files:
            raise ReleaseError(f"no data files in {folder}")
        yield Part(f"datasets/{data_set}/", _copy(repo, files, out))
    pyproject = out / "pyproject.toml"
    pyproject.write_text(student_pyproject((repo / "pyproject.toml").read_text("utf-8")),
                         encoding="utf-8")
    yield Part("pyproject.toml", (pyproject,))
    for template, target in TEMPLATE_FILES.items():
        text = (TEMPLATES / template).read_text(encoding="utf-8")
        if template == "README.md":
            text = student_readme(text)
        path = out / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        yield Part(target, (path,))


def _exercises(solutions: Path, folder: Path) -> tuple[Path, ...]:
    """Generate the stubs and notebooks into ``folder``, all with one modification time.

    Equal times make ``grade`` pick the ``.py`` file of an untouched exercise, not whichever
    of the two happened to be written last.
    """
    try:
        files = stubs.generate(solutions, folder)
    except ValueError as error:
        raise ReleaseError(str(error)) from None
    now = time.time()
    for path in files:
        os.utime(path, (now, now))
    return tuple(files)


def package_files(repo: Path, package: str, data_patterns: Sequence[str] = ()) -> list[Path]:
    """The files of ``package`` that students get, relative to ``repo``, sorted.

    That is every ``.py`` file and every file matching one of ``data_patterns`` (package-data
    globs, relative to the package), except the instructor-only parts and ``__pycache__``.
    """
    root = repo / package
    found = set(root.rglob("*.py"))
    for pattern in data_patterns:
        found.update(root.glob(pattern))
    shipped = []
    for path in found:
        relative = path.relative_to(repo)
        if path.is_file() and not is_instructor_only(relative):
            shipped.append(relative)
    return sorted(shipped)


def is_instructor_only(relative: Path | str) -> bool:
    """Whether a path of the repository (relative to it) must stay out of the bundle."""
    path = PurePosixPath(Path(relative).as_posix())
    if "__pycache__" in path.parts:
        return True
    return any(path == PurePosixPath(part) or path.is_relative_to(part)
               for part in INSTRUCTOR_ONLY)


def _copy(repo: Path, files: Iterable[Path], out: Path) -> tuple[Path, ...]:
    written = []
    for relative in files:
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(repo / relative, target)
        written.append(target)
    return tuple(written)


def _package_data(pyproject: Path) -> dict[str, list[str]]:
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return config.get("tool", {}).get("setuptools", {}).get("package-data", {})


def student_pyproject(text: str) -> str:
    """``text`` (the repository's pyproject.toml) keeping only the tables that install the
    bundle: build system, project metadata and dependencies, scripts, setuptools' options.

    Extras (``[project.optional-dependencies]``) and tool settings (pytest, ruff) are dropped;
    the lines kept are copied verbatim, comments included.
    """
    kept: list[str] = []
    keep = True
    for line in text.splitlines():
        header = _TABLE_HEADER.match(line)
        if header:
            table = re.sub(r"\s", "", header.group(1))
            keep = any(table == name or (name.startswith("tool.") and table.startswith(name + "."))
                       for name in PYPROJECT_TABLES)
        if keep and not (line.strip() == "" and kept and kept[-1].strip() == ""):
            kept.append(line)
    result = "\n".join(kept).strip() + "\n"
    _check_install_tables(tomllib.loads(text), result)
    return result


def _check_install_tables(original: dict, text: str) -> None:
    """``text`` installs as ``original`` does: same dependencies, script and package options."""
    try:
        bundle = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ReleaseError(f"pyproject.toml for the bundle is not valid TOML: {error}") from None

    def install(config: dict) -> tuple:
        project = config.get("project", {})
        return (config.get("build-system"), project.get("dependencies"),
                project.get("requires-python"), project.get("scripts"),
                config.get("tool", {}).get("setuptools"))

    if install(bundle) != install(original):
        raise ReleaseError("pyproject.toml for the bundle lost part of what installs it")


def student_readme(template: str) -> str:
    """The students' README: ``template`` with ``$exercises`` replaced by a table of the
    exercises (id, file, title, points) and their total."""
    from grader.registry import all_exercises

    exercises = all_exercises()
    rows = ["| id | file | what you build | points |", "| --- | --- | --- | ---: |"]
    rows += [f"| {e.id} | `exercises/{e.module}.py` | {e.title} | {e.max_score:g} |"
             for e in exercises]
    rows.append(f"| | | **total** | **{sum(e.max_score for e in exercises):g}** |")
    return string.Template(template).substitute(exercises="\n".join(rows))


def _describe(part: Part) -> str:
    count = len(part.files)
    files = f"{count} file" + ("s" if count != 1 else "")
    return f"wrote {part.name:<30} {files:>9}  {_size(part.size):>8}"


def _size(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    return f"{size / 1e3:.1f} kB" if size < 1e6 else f"{size / 1e6:.1f} MB"
