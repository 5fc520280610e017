"""Wall time, per-run seconds and peak memory of `grade batch` on a generated class.

    python benchmarks/bench_batch.py [--students 100] [--jobs 2] [--timeout 2]
        [--exercises ex01,...,ex08] [--isolation auto] [--seed 0] [--keep DIR]

Generates one submission per student (folders, about 10% as .zip, some nested one level) from
the reference solutions, with a seeded, deterministic mix per exercise: correct files (.py, or
the same as a notebook, or both), real bugs (text mutations of the solution that the grader
diagnoses, e.g. softmax without max-subtraction, Adam without bias correction), untouched stubs
(students who stopped early), and about 3 students whose code loops forever at the top of one
function of one or two exercises. Then runs, as a subprocess of this checkout's grader
(``python -m grader`` in the repository):

1. ``grade batch SUBS --out OUT --jobs J --timeout T --exercises ...`` on a fresh OUT;
2. the same command again over the unchanged, fully graded folder (everything reused);
3. when the selection has more than ex01-ex07, the same on ex01-ex07 only, on a fresh OUT.

and prints the wall time of each, the summed RSS of the whole process tree (batch, workers,
sandboxes and learner children; sampled every 50 ms from /proc), the seconds the gradebook
records per exercise, each looping run's seconds, whether the grader caught every bug and gave
every correct file full marks, and the isolation line the batch printed. The targets are
printed beside the figures, never asserted. Exits 1 if a batch fails to run at all.
"""

from __future__ import annotations

import argparse
import ast
import io
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from bench_grade import _descendants, _rss_kib
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.authoring.stubs import KERNELSPEC, LANGUAGE_INFO, parse_percent  # noqa: E402

SOLUTIONS = REPO / "solutions"
STUBS = REPO / "exercises"
NUMPY_EXERCISES = ("ex01", "ex02", "ex03", "ex04", "ex05", "ex06", "ex07", "ex08")
#: The exercises whose wall-time target is 0.25 s per submission (ex08 costs its training).
FAST_EXERCISES = NUMPY_EXERCISES[:7]
WALL_TARGET, RERUN_TARGET, MEMORY_TARGET_MIB = 0.25, 5.0, 2048
SAMPLE_SECONDS = 0.05

#: Which exercises a learner's exercise imports (their bugs and stubs show up in it too).
DEPENDS = {"ex06": ("ex03", "ex05"), "ex08": ("ex03", "ex05", "ex06", "ex07")}

#: Real mistakes, as exact text edits of the reference solution: (name, [(old, new), ...]).
#: Every ``old`` must occur exactly once in the solution, or the benchmark stops.
MUTATIONS: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {
    "ex01": [
        ("softmax without max-subtraction",
         [("    shifted = x - np.max(x, axis=-1, keepdims=True)  # the max-subtraction trick\n",
           "    shifted = x\n")]),
        ("sigmoid_grad on the output",
         [("    s = sigmoid(x)\n    return s * (1.0 - s)\n", "    return x * (1.0 - x)\n")]),
        ("relu_grad returns relu",
         [("    return np.where(np.asarray(x) > 0, 1.0, 0.0)\n", "    return np.maximum(0, x)\n")]),
        ("step 1 at 0",
         [("np.array(np.asarray(x) > 0, dtype=np.int64)", "np.array(np.asarray(x) >= 0, "
           "dtype=np.int64)")]),
        ("ELU without the -1",
         [("alpha * np.expm1(np.minimum(x, 0.0))", "alpha * np.exp(np.minimum(x, 0.0))")]),
    ],
    "ex02": [
        ("sum_squared_error without the 0.5",
         [("    return 0.5 * np.sum((np.asarray(y)", "    return np.sum((np.asarray(y)")]),
        ("mean_squared_error with 0.5",
         [("    return np.mean(per_sample)\n", "    return 0.5 * np.mean(per_sample)\n")]),
        ("binary cross-entropy without the guard", [("    delta = 1e-7\n", "    delta = 0\n")]),
        ("cross-entropy summed over the batch",
         [("t] + 1e-7)) / batch_size\n", "t] + 1e-7))\n")]),
    ],
    "ex03": [
        ("numerical_diff forward difference",
         [("    return (f(x + h) - f(x - h)) / (2 * h)\n", "    return (f(x + h) - f(x)) / h\n")]),
        ("numerical_gradient divided by h",
         [("grad[idx] = (fxh1 - fxh2) / (2 * h)", "grad[idx] = (fxh1 - fxh2) / h")]),
        ("gradient_descent ascends", [("        x -= lr * grad\n", "        x += lr * grad\n")]),
    ],
    "ex04": [
        ("MulLayer.backward swapped",
         [("dx = dout * self.y  # the inputs swap\n        dy = dout * self.x\n",
           "dx = dout * self.x\n        dy = dout * self.y\n")]),
        ("AddLayer.backward without dout",
         [("dx = dout * 1\n        dy = dout * 1\n", "dx = 1\n        dy = 1\n")]),
    ],
    "ex05": [
        ("Affine db not summed over the batch",
         [("self.db = np.sum(dout, axis=0)", "self.db = dout")]),
        ("Affine dW transposed",
         [("self.dW = np.dot(self.x.T, dout)", "self.dW = np.dot(dout.T, self.x)")]),
        ("Relu backward without the mask", [("        dout[self.mask] = 0\n", "")]),
        ("SoftmaxWithLoss loss summed",
         [("self.loss = -np.sum(np.log(self.y[np.arange(n), labels] + 1e-7)) / n",
           "self.loss = -np.sum(np.log(self.y[np.arange(n), labels] + 1e-7))")]),
    ],
    "ex06": [
        ("rand instead of randn",
         [("np.random.randn(input_size, hidden_size)", "np.random.rand(input_size, hidden_size)"),
          ("np.random.randn(hidden_size, output_size)",
           "np.random.rand(hidden_size, output_size)")]),
        ("weight_init_std ignored",
         [("weight_init_std * np.random.randn(input_size",
           "0.01 * np.random.randn(input_size"),
          ("weight_init_std * np.random.randn(hidden_size",
           "0.01 * np.random.randn(hidden_size")]),
        ("accuracy counts instead of averaging",
         [("return np.sum(y == t) / float(x.shape[0])", "return np.sum(y == t)")]),
    ],
    "ex07": [
        ("SGD adds the step",
         [("            params[key] -= self.lr * grads[key]\n",
           "            params[key] += self.lr * grads[key]\n")]),
        ("Momentum adds lr*g",
         [("self.momentum * self.v[key] - self.lr * grads[key]",
           "self.momentum * self.v[key] + self.lr * grads[key]")]),
        ("RMSprop decay_rate reversed",
         [("self.decay_rate * self.h[key] + (1 - self.decay_rate) * g * g",
           "(1 - self.decay_rate) * self.h[key] + self.decay_rate * g * g")]),
        ("Adam without bias correction",
         [("lr_t = self.lr * np.sqrt(1 - self.beta2**self.t) / (1 - self.beta1**self.t)",
           "lr_t = self.lr")]),
    ],
    "ex08": [
        ("iterations_per_epoch integer division",
         [("return max(train_size / batch_size, 1)", "return max(train_size // batch_size, 1)")]),
        ("one fixed batch",
         [("        batch_mask = rng.choice(train_size, batch_size)\n",
           "        batch_mask = np.random.default_rng(seed).choice(train_size, batch_size)\n")]),
        ("accuracies swapped",
         [('history["train_acc"].append(float(network.accuracy(x_train, t_train)))',
           'history["train_acc"].append(float(network.accuracy(x_test, t_test)))'),
          ('history["test_acc"].append(float(network.accuracy(x_test, t_test)))',
           'history["test_acc"].append(float(network.accuracy(x_train, t_train)))')]),
    ],
}

#: Functions that may loop forever: none is used by another exercise, so a loop stays in its own.
LOOP_TARGETS = {
    "ex01": ("softmax", "sigmoid_grad", "elu"),
    "ex02": ("cross_entropy_error", "mean_squared_error"),
    "ex03": ("gradient_descent",),
    "ex04": ("MulLayer.backward", "AddLayer.forward"),
    "ex05": ("Sigmoid.backward",),
    "ex07": ("Adam.update", "RMSprop.update"),
}


# ------------------------------------------------------------------------- making submissions


def mutate(exercise: str, source: str, edits: list[tuple[str, str]], name: str) -> str:
    """``source`` with every edit applied; exits if an edit's text is not there exactly once."""
    for old, new in edits:
        count = source.count(old)
        if count != 1:
            sys.exit(f"mutation {exercise} {name!r}: {old!r} occurs {count} times in the "
                     "solution (expected once): update MUTATIONS in benchmarks/bench_batch.py")
        source = source.replace(old, new)
    compile(source, f"{exercise} ({name})", "exec")
    return source


def loop_forever(source: str, qualname: str) -> str:
    """``source`` with ``while True: pass`` at the top of the body of ``qualname`` (after its
    docstring); exits if there is no such function."""
    tree = ast.parse(source)
    scope: list[ast.stmt] = tree.body
    node = None
    for part in qualname.split("."):
        node = next((n for n in scope if isinstance(n, ast.FunctionDef | ast.ClassDef)
                     and n.name == part), None)
        if node is None:
            sys.exit(f"loop target {qualname!r} not found in the solution")
        scope = node.body
    body = node.body
    first = body[1] if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(
        body[0].value, ast.Constant) and isinstance(body[0].value.value, str) else body[0]
    lines = source.splitlines(keepends=True)
    indent = " " * first.col_offset
    lines.insert(first.lineno - 1, f"{indent}while True:\n{indent}    pass\n")
    return "".join(lines)


def notebook(source: str) -> str:
    """The percent-format ``source`` as a notebook, solutions kept (what a learner who worked in
    Jupyter hands in)."""
    cells = [(new_markdown_cell if cell.kind == "markdown" else new_code_cell)(cell.text)
             for cell in parse_percent(source)]
    book = new_notebook(cells=cells, metadata={"kernelspec": dict(KERNELSPEC),
                                               "language_info": dict(LANGUAGE_INFO)})
    return nbformat.writes(book) + "\n"


@dataclass
class Student:
    """One generated submission: ``variants`` maps exercise id to what was handed in."""

    name: str
    zipped: bool
    nested: bool
    variants: dict[str, tuple[str, str]] = field(default_factory=dict)  # (kind, detail)


def modules() -> dict[str, str]:
    """Exercise id -> module name, from the solutions folder."""
    return {path.stem[:4]: path.stem for path in sorted(SOLUTIONS.glob("ex[0-9][0-9]_*.py"))}


def plan_class(count: int, exercises: list[str], seed: int) -> list[Student]:
    """The seeded mix of submissions. Every student hands in ex01-ex08 (and the chosen Keras
    exercises): later exercises import earlier ones."""
    rng = random.Random(seed)
    handed_in = sorted(set(NUMPY_EXERCISES) | set(exercises))
    students = []
    for number in range(count):
        student = Student(f"student{number:03d}", rng.random() < 0.10, rng.random() < 0.10)
        stop = rng.randrange(len(handed_in)) if rng.random() < 0.25 else len(handed_in)
        for position, exercise in enumerate(handed_in):
            draw = rng.random()
            if position >= stop:
                student.variants[exercise] = ("stub", "")
            elif draw < 0.35 and MUTATIONS.get(exercise):
                student.variants[exercise] = ("buggy", rng.choice(MUTATIONS[exercise])[0])
            elif draw < 0.45:
                student.variants[exercise] = ("notebook", "")
            elif draw < 0.55:
                student.variants[exercise] = ("py+notebook", "")
            else:
                student.variants[exercise] = ("correct", "")
        students.append(student)
    loopable = [e for e in exercises if e in LOOP_TARGETS]
    if loopable and students:
        for student in rng.sample(students, min(len(students), max(1, round(count * 0.03)))):
            for exercise in rng.sample(loopable, min(len(loopable), rng.randint(1, 2))):
                student.variants[exercise] = ("loop", rng.choice(LOOP_TARGETS[exercise]))
    return students


def files_of(student: Student, names: dict[str, str],
             sources: dict[str, str], stubs: dict[str, tuple[str, str]]) -> dict[str, str]:
    """File name -> text of ``student``'s submission."""
    files = {}
    for exercise, (kind, detail) in student.variants.items():
        module, source = names[exercise], sources[exercise]
        if kind == "stub":
            files[f"{module}.py"], files[f"{module}.ipynb"] = stubs[exercise]
        elif kind == "buggy":
            edits = dict(MUTATIONS[exercise])[detail]
            files[f"{module}.py"] = mutate(exercise, source, edits, detail)
        elif kind == "loop":
            files[f"{module}.py"] = loop_forever(source, detail)
        else:
            if kind in ("correct", "py+notebook"):
                files[f"{module}.py"] = source
            if kind in ("notebook", "py+notebook"):
                files[f"{module}.ipynb"] = notebook(source)
    return files


def write_class(students: list[Student], exercises: list[str], folder: Path) -> None:
    """Write every submission into ``folder``: a folder or a .zip per student."""
    names = modules()
    handed_in = {e for s in students for e in s.variants}
    missing = sorted(handed_in - set(names))
    if missing:
        sys.exit(f"no solution for {', '.join(missing)} in {SOLUTIONS}")
    sources = {e: (SOLUTIONS / f"{names[e]}.py").read_text() for e in handed_in}
    stubs = {e: ((STUBS / f"{names[e]}.py").read_text(), (STUBS / f"{names[e]}.ipynb").read_text())
             for e in handed_in}
    for exercise, mutations in MUTATIONS.items():  # every mutation must apply, chosen or not
        if exercise in sources:
            for name, edits in mutations:
                mutate(exercise, sources[exercise], edits, name)
    for exercise, targets in LOOP_TARGETS.items():
        if exercise in sources:
            for target in targets:
                compile(loop_forever(sources[exercise], target), target, "exec")
    folder.mkdir(parents=True)
    for student in students:
        files = files_of(student, names, sources, stubs)
        prefix = "exercises/" if student.nested else ""
        if student.zipped:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, text in sorted(files.items()):
                    info = zipfile.ZipInfo(f"{student.name}/{prefix}{name}", (2025, 1, 1, 12, 0, 0))
                    archive.writestr(info, text, zipfile.ZIP_DEFLATED)
            (folder / f"{student.name}.zip").write_bytes(buffer.getvalue())
        else:
            target = folder / student.name / prefix
            target.mkdir(parents=True)
            for name, text in files.items():
                (target / name).write_text(text)


# ------------------------------------------------------------------------------- running


class TreeMemory:
    """Peak summed RSS of a process and all its descendants, sampled every SAMPLE_SECONDS."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kib, self.peak_processes = pid, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            tree = [self.pid, *_descendants(self.pid)]
            rss = [_rss_kib(p) for p in tree]
            self.peak_kib = max(self.peak_kib, sum(rss))
            self.peak_processes = max(self.peak_processes, sum(1 for r in rss if r))
            self._stop.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class BatchRun:
    """One ``grade batch`` subprocess and what it showed."""

    label: str
    exercises: list[str]
    out: Path
    wall: float
    peak_kib: int
    peak_processes: int
    returncode: int
    stdout: str
    stderr: str

    def line(self, pattern: str) -> re.Match | None:
        return re.search(pattern, self.stdout, re.MULTILINE)

    @property
    def graded_reused(self) -> tuple[int, int]:
        match = self.line(r"^graded (\d+) run\(s\), reused (\d+)")
        return (int(match[1]), int(match[2])) if match else (-1, -1)

    @property
    def isolation(self) -> str:
        match = self.line(r"^isolation: (.*)$")
        return match[1] if match else "(no isolation line printed)"


def run_batch(label: str, submissions: Path, out: Path, exercises: list[str],
              args: argparse.Namespace) -> BatchRun:
    """Run ``grade batch`` (this checkout's grader) and measure it."""
    command = [sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out),
               "--jobs", str(args.jobs), "--timeout", str(args.timeout),
               "--exercises", ",".join(exercises), "--isolation", args.isolation]
    print(f"[{label}] {' '.join(command[1:])}", flush=True)
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeMemory(process.pid)
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - start
    sampler.stop()
    run = BatchRun(label, exercises, out, wall, sampler.peak_kib, sampler.peak_processes,
                   process.returncode, stdout, stderr)
    graded, reused = run.graded_reused
    print(f"[{label}] exit {process.returncode}, {wall:.1f} s, graded {graded}, reused "
          f"{reused}, peak {sampler.peak_kib / 1024:.0f} MiB", flush=True)
    if graded < 0:
        sys.exit(f"grade batch did not finish:\n{stdout[-3000:]}\n{stderr[-3000:]}")
    return run


@dataclass(frozen=True)
class Row:
    """One result of the gradebook."""

    student: str
    exercise: str
    score: float
    max_score: float
    fault: str | None
    seconds: float


def gradebook_rows(out: Path) -> list[Row]:
    """Every result the batch recorded in ``out``."""
    with sqlite3.connect(f"file:{out / 'gradebook.sqlite'}?mode=ro", uri=True) as db:
        query = "SELECT student, exercise, score, max_score, fault, seconds FROM results"
        return [Row(*values) for values in db.execute(query)]


# ------------------------------------------------------------------------------- reporting


def clean(student: Student, exercise: str) -> bool:
    """Whether the exercise and everything it imports were handed in correct."""
    correct = ("correct", "notebook", "py+notebook")
    return all(student.variants[e][0] in correct for e in (exercise, *DEPENDS.get(exercise, ())))


def mark(value: float, target: float) -> str:
    return "within target" if value < target else "OVER target"


def table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    for line in (header, *rows):
        print("  " + "  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                               for i, (c, w) in enumerate(zip(line, widths, strict=True))))


def report_exercises(run: BatchRun, students: dict[str, Student], jobs: int) -> None:
    """Per exercise: gradebook seconds (looping runs apart) and whether grading was right."""
    rows = gradebook_rows(run.out)
    lines = []
    for exercise in run.exercises:
        mine = [r for r in rows if r.exercise == exercise]
        normal = [r for r in mine if students[r.student].variants[exercise][0] != "loop"]
        seconds = [r.seconds for r in normal]
        kinds = {r.student: students[r.student].variants[exercise][0] for r in normal}
        wrong_correct = sum(1 for r in normal if clean(students[r.student], exercise)
                            and r.score < r.max_score)
        clean_count = sum(1 for r in normal if clean(students[r.student], exercise))
        buggy = [r for r in normal if kinds[r.student] == "buggy"]
        missed = sum(1 for r in buggy if r.score >= r.max_score)
        stub_points = sum(1 for r in normal if kinds[r.student] == "stub" and r.score > 0)
        timeouts = sum(1 for r in normal if r.fault == "timeout")
        crashes = sum(1 for r in normal if r.fault == "crashed")
        lines.append([exercise, str(len(normal)),
                      f"{statistics.mean(seconds):.3f}" if seconds else "-",
                      f"{statistics.median(seconds):.3f}" if seconds else "-",
                      f"{max(seconds):.3f}" if seconds else "-",
                      f"{sum(seconds) / jobs / max(len(normal), 1):.3f}",
                      f"{wrong_correct}/{clean_count}", f"{missed}/{len(buggy)}",
                      str(stub_points), f"{timeouts}/{crashes}"])
    print(f"per exercise, from the gradebook's seconds (looping runs left out); wall share = "
          f"seconds / {jobs} jobs:")
    table(["exercise", "runs", "mean s", "median s", "max s", "wall share s",
           "correct<full", "bug missed", "stub>0", "timeout/crash"], lines)
    print("  (correct<full: correct files, dependencies correct too, below full marks; "
          "bug missed: mutated files given full marks; timeout/crash: faults of non-looping runs)")
    missed_bugs = Counter(students[r.student].variants[r.exercise][1] for r in rows
                          if students[r.student].variants[r.exercise][0] == "buggy"
                          and r.exercise in run.exercises and r.score >= r.max_score)
    for name, count in sorted(missed_bugs.items()):
        print(f"  NOT CAUGHT: {name} ({count} run(s) with full marks)")


def report_loops(run: BatchRun, students: dict[str, Student], timeout: float) -> list[Row]:
    """Each looping (student, exercise) against the target timeout + 1 s."""
    rows = [r for r in gradebook_rows(run.out) if r.exercise in run.exercises
            and students[r.student].variants[r.exercise][0] == "loop"]
    print(f"looping runs (target: at most timeout + 1 = {timeout + 1:g} s each):")
    if not rows:
        print("  none")
        return rows
    table(["student", "exercise", "loops in", "seconds", "fault", "score", ""],
          [[r.student, r.exercise, students[r.student].variants[r.exercise][1],
            f"{r.seconds:.2f}", str(r.fault), f"{r.score:g}/{r.max_score:g}",
            "within target" if r.seconds <= timeout + 1 else "OVER target"]
           for r in sorted(rows, key=lambda r: (r.student, r.exercise))])
    return rows


def report_wall(run: BatchRun, loops: list[Row], jobs: int, fast: bool) -> None:
    """Wall time per run, and an estimate without the looping runs."""
    runs = sum(1 for r in gradebook_rows(run.out) if r.exercise in run.exercises)
    looping = [r for r in loops if r.exercise in run.exercises]
    normal = runs - len(looping)
    estimate = (run.wall - sum(r.seconds for r in looping) / jobs) / max(normal, 1)
    target = f" ({mark(estimate, WALL_TARGET)} < {WALL_TARGET} s)" if fast else ""
    print(f"  wall {run.wall:.1f} s for {runs} runs: {run.wall / max(runs, 1):.3f} s per "
          f"submission x exercise; without the {len(looping)} looping run(s) (their seconds / "
          f"{jobs} jobs taken off) about {estimate:.3f} s{target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--exercises", default=",".join(NUMPY_EXERCISES),
                        help="comma-separated ids [default: ex01,...,ex08]")
    parser.add_argument("--isolation", default="auto",
                        choices=["auto", "bubblewrap", "none"])
    parser.add_argument("--seed", type=int, default=0, help="seed of the mix of submissions")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the submissions and outputs in DIR (new or empty)")
    args = parser.parse_args()
    exercises = [e.strip() for e in args.exercises.split(",") if e.strip()]
    unknown = sorted(set(exercises) - set(modules()))
    if unknown or not exercises:
        parser.error(f"unknown exercise(s): {', '.join(unknown) or '(none given)'}")
    if args.keep is not None and args.keep.exists() and any(args.keep.iterdir()):
        parser.error(f"--keep {args.keep} is not empty")

    with tempfile.TemporaryDirectory(prefix="bench_batch_") as scratch:
        work = args.keep.resolve() if args.keep else Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        subs = work / "submissions"
        students = plan_class(args.students, exercises, args.seed)
        write_class(students, exercises, subs)
        by_name = {s.name: s for s in students}
        load_before = os.getloadavg()
        print(f"grade batch benchmark: {len(students)} students "
              f"({sum(s.zipped for s in students)} as .zip, {sum(s.nested for s in students)} "
              f"nested), exercises {','.join(exercises)}, --jobs {args.jobs} --timeout "
              f"{args.timeout:g} --isolation {args.isolation}, seed {args.seed}")
        print(f"machine: {os.cpu_count()} CPUs, load average {load_before[0]:.2f} "
              f"{load_before[1]:.2f} {load_before[2]:.2f} (1, 5, 15 min) before the runs")
        mix = Counter((e, s.variants[e][0]) for s in students for e in exercises)
        kinds = ["correct", "notebook", "py+notebook", "buggy", "stub", "loop"]
        print("mix of submissions per exercise:")
        table(["exercise", *kinds], [[e, *(str(mix[e, k]) for k in kinds)] for e in exercises])

        first = run_batch("full", subs, work / "out", exercises, args)
        again = run_batch("re-run", subs, work / "out", exercises, args)
        fast = [e for e in exercises if e in FAST_EXERCISES]
        restricted = (run_batch("ex01-ex07", subs, work / "out-fast", fast, args)
                      if fast and fast != exercises else None)
        load_after = os.getloadavg()

        print()
        print(f"isolation: {first.isolation}")
        print(f"load average after the runs: {load_after[0]:.2f} {load_after[1]:.2f} "
              f"{load_after[2]:.2f}")
        print()
        print(f"run 1, {','.join(exercises)} on a fresh OUT (exit {first.returncode}):")
        for line in first.stdout.splitlines():
            if line.startswith(("batch:", "graded ")):
                print(f"  the batch said: {line}")
        loops = report_loops(first, by_name, args.timeout)
        report_wall(first, loops, args.jobs, fast == exercises)
        report_exercises(first, by_name, args.jobs)
        if restricted is not None:
            print()
            print(f"run 3, {','.join(fast)} only on a fresh OUT (exit {restricted.returncode}):")
            report_wall(restricted, report_loops(restricted, by_name, args.timeout), args.jobs,
                        True)
            report_exercises(restricted, by_name, args.jobs)
        print()
        graded, reused = again.graded_reused
        print(f"run 2, the same command again over the unchanged, graded folder: "
              f"{again.wall:.2f} s ({mark(again.wall, RERUN_TARGET)} < {RERUN_TARGET:g} s); "
              f"graded {graded}, reused {reused}")
        if graded:
            print("  WARNING: the re-run graded again: was the grader's source changed during "
                  "the benchmark? (the gradebook keys results by a hash of grader/)")
        print()
        print("peak memory, summed RSS of the batch's process tree (a page shared by several "
              f"processes counts in each), sampled every {SAMPLE_SECONDS * 1000:.0f} ms:")
        for run in (first, again, restricted):
            if run is not None:
                mib = run.peak_kib / 1024
                print(f"  {run.label:>9}: {mib:.0f} MiB over up to {run.peak_processes} "
                      f"processes ({mark(mib, MEMORY_TARGET_MIB)} < {MEMORY_TARGET_MIB} MiB)")
        errors = [line for run in (first, again, restricted) if run is not None
                  for line in run.stderr.splitlines() if line.startswith("grader error")]
        for line in errors:
            print(f"  {line}")
        if args.keep:
            print(f"\nkept in {work}: submissions/, out/ (runs 1 and 2)"
                  + (", out-fast/ (run 3)" if restricted else ""))


if __name__ == "__main__":
    main()
