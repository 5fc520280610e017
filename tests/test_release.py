"""`grade release OUT`: the student bundle holds what students need and no instructor material;
installed from its README it grades, and its GitHub Actions workflow grades as CI would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from conftest import EXERCISES, REPO, SOLUTIONS
from grader import release
from grader.expected import StoreError
from grader.registry import all_exercises, load

EX01_POINTS = load("ex01").max_score
TOTAL_POINTS = sum(exercise.max_score for exercise in all_exercises())
GRADE_COMMAND = ("grade all --format junit --output grade-report.xml "
                 '--summary "$GITHUB_STEP_SUMMARY"')


def run_grade(*args: str, cwd: Path = REPO, env: dict | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m grader ARGS`` with this repository's grader."""
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=timeout)


def files_under(folder: Path) -> list[Path]:
    """Every file under ``folder``, relative to it, hidden ones included."""
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())


def leaks(bundle: Path) -> list[str]:
    """What in ``bundle`` is instructor material: solutions, tests, authoring tools, a file
    with a solution marker, or a .py file whose content is that of a file in solutions/."""
    secret = {p.read_bytes() for p in SOLUTIONS.rglob("*") if p.is_file()}
    found = []
    for relative in files_under(bundle):
        parts = set(relative.parts)
        content = (bundle / relative).read_bytes()
        if parts & {"solutions", "tests", "benchmarks", "authoring", "__pycache__", ".git"}:
            found.append(f"{relative}: instructor-only folder")
        elif relative.as_posix() in ("grader/release.py",) or \
                relative.as_posix().startswith("grader/data/release/"):
            found.append(f"{relative}: release tool")
        elif re.search(rb"#+\s*BEGIN\s+SOLUTION", content, re.IGNORECASE):
            found.append(f"{relative}: solution marker")
        elif relative.suffix == ".py" and content in secret:
            found.append(f"{relative}: a copy of a solution file")
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> SimpleNamespace:
    """A bundle written by `grade release OUT` into an empty folder, with what it printed."""
    out = tmp_path_factory.mktemp("release") / "bundle"
    out.mkdir()
    done = run_grade("release", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    return SimpleNamespace(path=out, stdout=done.stdout, stderr=done.stderr)


def workflow(bundle: Path) -> dict:
    return yaml.safe_load((bundle / ".github/workflows/grade.yml").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the file list


def test_bundle_has_every_part_and_prints_one_line_per_part(built):
    bundle = built.path
    for path in ("pyproject.toml", "README.md", ".gitignore", ".github/workflows/grade.yml",
                 "grader/cli.py", "grader/runner/child.py", "dataset/mnist.py",
                 "datasets/mnist/SHA256SUMS", "datasets/mnist/train-images-idx3-ubyte.gz"):
        assert (bundle / path).is_file(), path
    stored = sorted(p.name for p in (REPO / "grader/data/expected").glob("*.npz"))
    assert stored and sorted(p.name for p in (bundle / "grader/data/expected").iterdir()) == stored
    assert not (bundle / "datasets/mnist/cache").exists()

    lines = built.stdout.strip().splitlines()
    for part in ("exercises/", "grader/", "dataset/", "datasets/mnist/", "pyproject.toml",
                 "README.md", ".github/workflows/grade.yml", ".gitignore"):
        assert sum(line.split()[1] == part for line in lines[:-1]) == 1, part
    assert len(lines) == 9
    assert lines[-1].startswith(f"student bundle: {bundle} (") and lines[-1].endswith("MB)")
    assert built.stderr == ""


def test_bundle_leaves_out_instructor_material(built):
    assert leaks(built.path) == []
    assert not any(p.suffix == ".pyc" for p in files_under(built.path))


def test_leak_detector_finds_what_it_looks_for(built, tmp_path):
    """The check above can fail: each leak in a doctored copy of the bundle is found."""
    doctored = tmp_path / "bundle"
    shutil.copytree(built.path, doctored, ignore=shutil.ignore_patterns("*.gz"))
    (doctored / "solutions").mkdir()
    (doctored / "solutions/notes.txt").write_text("x")
    shutil.copy(SOLUTIONS / "ex02_losses.py", doctored / "exercises/ex02_losses.py")
    (doctored / "grader/extra.txt").write_text("    ### BEGIN SOLUTION\n")
    (doctored / "grader/release.py").write_text("")
    shutil.copy(SOLUTIONS / "mistakes/ex07_optimizers.py", doctored / "grader/checks/buggy.py")
    assert len(leaks(doctored)) == 5


def test_bundle_code_imports_no_instructor_module(built):
    """Statically: no import of instructor modules, but for `grade release`'s guarded one
    (the slow tests check that it fails in one line)."""
    pattern = re.compile(r"^\s*(?:from|import)\s+(grader\.authoring|grader\.release|solutions)\b",
                         re.MULTILINE)
    found = {(path.relative_to(built.path).as_posix(), match)
             for path in (built.path / "grader").rglob("*.py")
             for match in pattern.findall(path.read_text(encoding="utf-8"))}
    assert found == {("grader/cli.py", "grader.release")}


def test_every_bundle_module_imports_from_the_bundle_alone(built):
    """Dynamically: each module of the bundle's packages imports, and everything they import
    of those packages comes from the bundle (not from this repository, installed editable)."""
    script = (
        "import importlib, pkgutil, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "for package in ('grader', 'dataset'):\n"
        "    root = importlib.import_module(package)\n"
        "    for info in pkgutil.walk_packages(root.__path__, package + '.'):\n"
        "        if info.name != 'grader.__main__':\n"
        "            importlib.import_module(info.name)\n"
        "for name, module in sorted(sys.modules.items()):\n"
        "    if name.split('.')[0] in ('grader', 'dataset'):\n"
        "        assert module.__file__.startswith(sys.argv[1]), module.__file__\n"
        "        print(name)\n"
    )
    done = subprocess.run([sys.executable, "-I", "-c", script, str(built.path)],
                          capture_output=True, text=True, timeout=120, cwd=built.path)
    assert done.returncode == 0, done.stderr[-3000:]
    imported = done.stdout.split()
    assert "grader.cli" in imported and "grader.exercises.ex10_keras_classifier" in imported
    assert "dataset.mnist" in imported and "grader.authoring" not in imported


def test_exercises_are_the_committed_ones(built):
    bundled = built.path / "exercises"
    assert [p.name for p in sorted(bundled.iterdir())] == [p.name for p in sorted(
        EXERCISES.iterdir()) if p.suffix in (".py", ".ipynb")]
    for path in bundled.iterdir():
        assert path.read_bytes() == (EXERCISES / path.name).read_bytes(), path.name
    # one modification time: an untouched exercise is graded from its .py file
    assert len({p.stat().st_mtime for p in bundled.iterdir()}) == 1


# --------------------------------------------------------------------------- what is in the files


def test_pyproject_installs_the_same_runtime_and_nothing_for_tests(built):
    ours = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    theirs = tomllib.loads((built.path / "pyproject.toml").read_text(encoding="utf-8"))
    assert theirs["project"]["dependencies"] == ours["project"]["dependencies"]
    assert theirs["project"]["scripts"] == {"grade": "grader.cli:main"}
    assert theirs["tool"] == {"setuptools": ours["tool"]["setuptools"]}
    assert "optional-dependencies" not in theirs["project"]
    assert theirs["build-system"] == ours["build-system"]


def test_student_pyproject_drops_extras_and_tool_settings_verbatim_otherwise():
    text = (
        '[project]\nname = "x"\ndependencies = [\n    # why\n    "numpy",\n    ["odd"],\n]\n\n'
        '[project.optional-dependencies]\ntest = ["pytest"]\n\n'
        '[project.scripts]\ngrade = "grader.cli:main"\n\n'
        "[tool.ruff]\nline-length = 100\n\n[tool.ruff.lint]\nselect = []\n\n"
        '[ tool.setuptools.package-data ]  # data\ngrader = ["data/*.npz"]\n'
    )
    assert release.student_pyproject(text) == (
        '[project]\nname = "x"\ndependencies = [\n    # why\n    "numpy",\n    ["odd"],\n]\n\n'
        '[project.scripts]\ngrade = "grader.cli:main"\n\n'
        '[ tool.setuptools.package-data ]  # data\ngrader = ["data/*.npz"]\n'
    )


def test_workflow_grades_each_push_with_only_githubs_actions(built):
    flow = workflow(built.path)
    triggers = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert {"push", "pull_request", "workflow_dispatch"} <= set(triggers)
    (job,) = flow["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    steps = job["steps"]
    uses = [step["uses"].split("@")[0] for step in steps if "uses" in step]
    assert uses == ["actions/checkout", "actions/setup-python", "actions/upload-artifact"]
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["python-version"] == "3.11" and setup["with"]["cache"] == "pip"
    runs = [step["run"].strip() for step in steps if "run" in step]
    assert runs == ["pip install -e .", GRADE_COMMAND]
    upload = steps[-1]
    assert upload["if"] == "always()" and upload["with"]["path"] == "grade-report.xml"
    # the job fails below full marks: no step or job ignores a failure
    assert not any(s.get("continue-on-error") for s in [job, *steps])
    assert [i for i, s in enumerate(steps) if "uses" in s and "upload" in s["uses"]] == \
        [len(steps) - 1]


def test_readme_tells_students_how_to_install_grade_and_submit(built):
    text = (built.path / "README.md").read_text(encoding="utf-8")
    assert install_command(built.path) == (
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e .")
    for needle in ("grade ex01", "grade all", "Likely mistake", "not implemented yet",
                   "git push", ".github/workflows/grade.yml", "Actions", "zip"):
        assert needle in text, needle
    for exercise in all_exercises():
        assert f"| {exercise.id} | `exercises/{exercise.module}.py` | {exercise.title} |" in text
    assert f"**{TOTAL_POINTS:g}**" in text
    assert "$" not in text  # every placeholder filled in


def install_command(bundle: Path) -> str:
    text = (bundle / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- install-command -->\s*```sh\n(.+)\n```", text)
    assert match, "no install command in the bundle's README"
    return match.group(1).strip()


# --------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize("make", ["non-empty folder", "file", "inside exercises/"])
def test_out_not_free_is_one_line_and_exit_2(tmp_path, make):
    if make == "non-empty folder":
        out = tmp_path / "out"
        out.mkdir()
        (out / "keep.txt").write_text("mine")
    elif make == "file":
        out = tmp_path / "out"
        out.write_text("mine")
    else:
        out = EXERCISES / "bundle"
    before = files_under(tmp_path)
    done = run_grade("release", str(out))
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("grade: ")
    assert "Traceback" not in done.stderr
    assert files_under(tmp_path) == before  # nothing written, nothing left behind
    assert not (EXERCISES / "bundle").exists()


def test_package_files_leave_out_instructor_parts_and_caches(tmp_path):
    for name in ("grader/__init__.py", "grader/cli.py", "grader/authoring/stubs.py",
                 "grader/release.py", "grader/data/release/README.md",
                 "grader/data/expected/ex01.npz", "grader/data/notes.txt",
                 "grader/__pycache__/cli.cpython-311.pyc", "grader/x/__pycache__/y.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    shipped = release.package_files(tmp_path, "grader", ["data/expected/*.npz"])
    assert [p.as_posix() for p in shipped] == [
        "grader/__init__.py", "grader/cli.py", "grader/data/expected/ex01.npz"]


def test_a_missing_or_stale_store_stops_the_release(tmp_path):
    stores = tmp_path / "expected"
    shutil.copytree(REPO / "grader/data/expected", stores)
    release.check_stores(stores)  # up to date: no error
    (stores / "ex03_gradient.npz").unlink()
    with pytest.raises(StoreError, match="no stored reference values for ex03"):
        release.check_stores(stores)
    shutil.copyfile(stores / "ex02_losses.npz", stores / "ex03_gradient.npz")
    with pytest.raises(StoreError, match="of ex03 is missing or out of date"):
        release.check_stores(stores)


def test_the_repository_check_works_when_the_grader_is_imported_through_a_link(monkeypatch,
                                                                             tmp_path):
    """E.g. PYTHONPATH pointing at a symbolic link to the checkout."""
    (tmp_path / "link").symlink_to(REPO)
    monkeypatch.setattr(release, "STORE_DIR", tmp_path / "link" / "grader/data/expected")
    release._check_repo(REPO, tmp_path / "bundle")  # no error: the stores are up to date


def test_release_without_solutions_is_a_one_line_error(tmp_path):
    with pytest.raises(release.ReleaseError, match="no solutions in .*instructor's repository"):
        release.build(tmp_path / "out", repo=tmp_path, echo=lambda line: None)
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- installed bundle


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> SimpleNamespace:
    """A bundle of its own installed by its README's command in a fresh virtual environment
    (shared by the slow tests)."""
    bundle = tmp_path_factory.mktemp("installed") / "bundle"
    release.build(bundle, echo=lambda line: None)
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    done = subprocess.run(["bash", "-c", install_command(bundle)], cwd=bundle, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    venv = bundle / ".venv"
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    env["VIRTUAL_ENV"] = str(venv)
    return SimpleNamespace(path=bundle, env=env)


def in_bundle(installed, command: str, timeout: float = 300,
              env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=installed.path, env=env or installed.env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def solved(installed):
    """The bundle's exercises/ with the reference solutions in place of the stubs, restored
    afterwards."""
    exercises = installed.path / "exercises"
    saved = {p.name: p.read_bytes() for p in exercises.glob("*.py")}
    for name in saved:
        shutil.copyfile(SOLUTIONS / name, exercises / name)
    yield installed
    for name, content in saved.items():
        (exercises / name).write_bytes(content)


@pytest.mark.slow
def test_installed_bundle_runs_its_own_grader(installed):
    done = in_bundle(installed, "python -c 'import grader, dataset; "
                                "print(grader.__file__); print(dataset.__file__)'")
    assert done.returncode == 0, done.stderr
    for line in done.stdout.split():
        assert Path(line).is_relative_to(installed.path), line
    assert in_bundle(installed, "command -v grade").stdout.strip() == \
        str(installed.path / ".venv/bin/grade")


@pytest.mark.slow
def test_installed_stubs_score_zero_and_exit_1(installed):
    done = in_bundle(installed, "grade ex01")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"Total for ex01: 0/{EX01_POINTS:g}" in done.stdout
    assert "not implemented yet" in done.stdout


@pytest.mark.slow
def test_installed_solutions_get_full_marks_and_exit_0(solved):
    done = in_bundle(solved, "grade ex01")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Total for ex01: {EX01_POINTS:g}/{EX01_POINTS:g}" in done.stdout
    assert "FAIL" not in done.stdout


@pytest.mark.slow
def test_instructor_commands_fail_in_one_line_in_the_bundle(installed, tmp_path):
    done = in_bundle(installed, f"grade release {tmp_path / 'again'}")
    assert done.returncode == 2
    assert done.stderr.strip() == ("grade: grade release needs the instructor's repository; "
                                   "this copy of the grader is the students' bundle")
    assert not (tmp_path / "again").exists()
    (tmp_path / "submissions/alice").mkdir(parents=True)
    done = in_bundle(installed, f"grade batch {tmp_path / 'submissions'} --out "
                                f"{tmp_path / 'graded'} --hidden --seed s")
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grade: ") and "hidden" in lines[0], lines
    assert not re.search(r"^\s+release\b", in_bundle(installed, "grade --help").stdout,
                         re.MULTILINE)
    done = in_bundle(installed, "python -m grader.expected --check")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().startswith("error: no reference solutions at "), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def run_workflow(installed, tmp_path: Path) -> SimpleNamespace:
    """Run the workflow's `run:` steps in the bundle as a GitHub runner does (bash -e, the
    runner's environment variables, stop at the first failing step)."""
    summary = tmp_path / "step_summary.md"
    summary.write_text("")
    env = dict(installed.env, CI="true", GITHUB_ACTIONS="true", GITHUB_WORKSPACE=str(
        installed.path), GITHUB_STEP_SUMMARY=str(summary), RUNNER_TEMP=str(tmp_path),
        RUNNER_OS="Linux", GITHUB_EVENT_NAME="push", GITHUB_WORKFLOW="Grade",
        GITHUB_REF="refs/heads/main", GITHUB_SHA="0" * 40, GITHUB_RUN_ID="1")
    report = installed.path / "grade-report.xml"
    report.unlink(missing_ok=True)
    (job,) = workflow(installed.path)["jobs"].values()
    status, output = 0, ""
    for step in job["steps"]:
        if "run" not in step:
            continue
        done = subprocess.run(["bash", "--noprofile", "--norc", "-e", "-c", step["run"]],
                              cwd=installed.path, env=env, capture_output=True, text=True,
                              timeout=900)
        output += done.stdout + done.stderr
        if done.returncode:
            status = done.returncode
            break
    return SimpleNamespace(status=status, output=output, report=report,
                           summary=summary.read_text(encoding="utf-8"))


def junit_totals(report: Path) -> tuple[int, int]:
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    failed = [case for case in cases if case.find("failure") is not None]
    return len(cases), len(failed)


@pytest.mark.slow
def test_workflow_fails_on_stubs_with_a_report_and_a_summary(installed, tmp_path):
    run = run_workflow(installed, tmp_path)
    assert run.status == 1, run.output[-3000:]
    tests, failures = junit_totals(run.report)
    assert tests > 100 and failures == tests
    assert run.summary.startswith("#") and "| ex10 |" in run.summary
    assert f"0/{TOTAL_POINTS:g}" in run.summary


@pytest.mark.slow
def test_workflow_passes_on_solutions(solved, tmp_path):
    run = run_workflow(solved, tmp_path)
    assert run.status == 0, run.output[-3000:]
    tests, failures = junit_totals(run.report)
    assert tests > 100 and failures == 0
    assert "| ex10 |" in run.summary and f"{TOTAL_POINTS:g}/{TOTAL_POINTS:g}" in run.summary
