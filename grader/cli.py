"""The ``grade`` command: a thin click layer over the grader library.

    grade list                         the exercises, their titles and points
    grade ex01 [--path P] [--format F] grade one exercise
    grade all  [--path P] [--format F] grade every exercise found under P
    grade batch SUBMISSIONS --out OUT  grade a class, one folder or .zip per student
    grade report OUT                   the class report of a batch, OUT/report.html
    grade release OUT                  the students' bundle (instructors only)

Exit status: 0 full marks, 1 otherwise, 2 for a usage error (printed as one line); ``batch``
exits 0 when the class was graded, 1 when the grader itself failed on some run, 130 on Ctrl-C.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from click.core import ParameterSource

from grader import SOLUTIONS_DIR, __version__
from grader.registry import EXERCISE_MODULES, UnknownExercise, all_exercises, load, resolve
from grader.runner.limits import BUDGET_CALLS

FORMATS = click.Choice(["text", "json", "junit", "markdown"])
DEFAULT_PATH = Path("exercises")
#: Where --output and --summary leave their files for _emit (they are not command arguments).
_FILES_KEY = "grade.files"


def _remember_file(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    """Keep --output/--summary for _emit; a folder, or a file in a missing folder (an empty
    value, as an unset $GITHUB_STEP_SUMMARY gives, is the current folder) fails before grading."""
    if value is not None and value.is_dir():
        raise click.BadParameter(f"{str(value) or '(empty)'!r} is a folder, not a file")
    if value is not None and not value.resolve().parent.is_dir():
        raise click.BadParameter(f"no folder {value.parent} to write {value.name} in")
    ctx.meta.setdefault(_FILES_KEY, {})[param.name] = value


def _set_language(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """``--lang``: the language of every message from here on (else the locale's)."""
    from grader.i18n import set_language

    if value:
        set_language(value)


def _lang_option(command):
    return click.option("--lang", type=click.Choice(["en", "ko"], case_sensitive=False),
                        default=None, expose_value=False, is_eager=True,
                        callback=_set_language,
                        help="language of the feedback: en or ko [default: from LANG]")(command)


def _options(command):
    command = _lang_option(command)
    command = click.option("--summary", type=click.Path(dir_okay=False, path_type=Path),
                           expose_value=False, callback=_remember_file,
                           help="append a Markdown summary to this file "
                                "(e.g. $GITHUB_STEP_SUMMARY)")(command)
    command = click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
                           expose_value=False, callback=_remember_file,
                           help="write the --format report to this file; the text report "
                                "still goes to the screen")(command)
    command = click.option("--format", "output_format", type=FORMATS, default="text",
                           show_default=True,
                           help="text for people, json for programs, junit (XML) for CI test "
                                "reports, markdown for a summary page")(command)
    command = click.option("--timeout", type=click.FloatRange(min=0.1), default=None,
                           help="seconds one call of your code may take; all the checks of "
                                f"an exercise may take {BUDGET_CALLS} times that")(command)
    return click.option("--path", type=click.Path(path_type=Path), default=None,
                        help="your .py or .ipynb file, or the folder holding it "
                             "[default: ./exercises, or . when there is none]")(command)


def _check_path(path: Path | None) -> Path:
    """The path to grade: as given, else ./exercises, else the working directory."""
    if path is None:
        return DEFAULT_PATH if DEFAULT_PATH.is_dir() else Path(".")
    if not path.exists():
        raise click.UsageError(f"no such file or folder: {path}")
    return path


def _print_text(results, single: bool, file=None) -> None:
    """The text report on ``file`` (stdout): colour on a terminal, plain otherwise."""
    from grader import report

    console = report.make_console(file)
    for result in results:
        report.render_text(result, console)
    if not single:
        report.render_summary(results, console)


def _render(results, output_format: str, single: bool) -> str:
    """The whole report in ``output_format`` as a string."""
    if output_format == "json":
        from grader import report

        return report.to_json(results, single=single) + "\n"
    if output_format == "junit":
        from grader.formats.junit import junit

        return junit(results)
    if output_format == "markdown":
        from grader.formats.markdown import markdown

        return markdown(results)
    import io

    buffer = io.StringIO()
    _print_text(results, single, buffer)
    return buffer.getvalue()


def _write(path: Path, text: str, append: bool = False) -> None:
    """Write (or append) ``text`` to ``path``; a failure is a one-line usage error."""
    try:
        with path.open("a" if append else "w", encoding="utf-8") as file:
            if append and file.tell() > 0:
                file.write("\n")  # a blank line between two summaries
            file.write(text)
    except OSError as error:
        raise click.UsageError(f"cannot write {path}: {error.strerror or error}") from None


def _emit(results, output_format: str, single: bool) -> int:
    """Report ``results``, write --output and --summary; the exit status for the results.

    With --output the chosen format goes to that file and the text report to the screen.
    """
    ctx = click.get_current_context(silent=True)
    files = ctx.meta.get(_FILES_KEY, {}) if ctx else {}
    output, summary = files.get("output"), files.get("summary")
    if output is not None or output_format == "text":
        _print_text(results, single)  # first, so that a file that cannot be written loses nothing
    else:
        click.echo(_render(results, output_format, single), nl=False)
    if output is not None:
        _write(output, _render(results, output_format, single))
    if summary is not None:
        _write(summary, _render(results, "markdown", single), append=True)
    return 0 if results and all(r.full_marks for r in results) else 1


def _grade(exercise_ids: list[str], path: Path, timeout: float | None, skip_missing: bool):
    from grader.engine import grade_path, ungraded_result, with_timeout
    from grader.expected import StoreError
    from grader.runner.limits import Limits
    from grader.runner.submission import SubmissionError

    results = []
    for exercise_id in exercise_ids:
        exercise = load(exercise_id)
        limits = with_timeout(exercise.limits or Limits(), timeout)
        try:
            results.append(grade_path(exercise, path, limits=limits))
        except SubmissionError as error:
            if not skip_missing:
                raise click.UsageError(str(error)) from None
            results.append(ungraded_result(exercise, str(error)))
        except StoreError as error:
            raise click.ClickException(f"grader error: {error}") from None
    return results


class ExerciseGroup(click.Group):
    """A group whose unknown commands are exercise names: ``grade ex01``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *EXERCISE_MODULES]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        try:
            exercise_id = resolve(name)
        except UnknownExercise as error:
            raise click.UsageError(str(error)) from None
        return _exercise_command(exercise_id)


def _exercise_command(exercise_id: str) -> click.Command:
    @click.command(name=exercise_id, help=f"Grade {exercise_id}.")
    @_options
    def command(path: Path | None, timeout: float | None, output_format: str) -> int:
        path = _check_path(path)
        return _emit(_grade([exercise_id], path, timeout, skip_missing=False), output_format,
                     single=True)

    return command


@click.group(cls=ExerciseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grade")
@_lang_option
def cli() -> None:
    """Backprop Lab: grade your neural-network exercises.

    Run `grade ex01` in the folder that holds exercises/, or point --path at your file.
    """


@cli.command("list")
def list_exercises() -> int:
    """The exercises, their titles and points."""
    exercises = all_exercises()
    width = max(len(exercise.title) for exercise in exercises)
    for exercise in exercises:
        points = f"{exercise.max_score:g} points"
        click.echo(f"{exercise.id}  {exercise.title:<{width}}  {points:>10}  "
                   f"({exercise.module}.py / .ipynb)")
    return 0


@cli.command("all")
@_options
def grade_all(path: Path | None, timeout: float | None, output_format: str) -> int:
    """Grade every exercise; missing files score 0 and are named."""
    path = _check_path(path)
    return _emit(_grade(list(EXERCISE_MODULES), path, timeout, skip_missing=True),
                 output_format, single=False)


@cli.command("release", short_help="Write the students' bundle to OUT (instructors only).",
             hidden=not Path(__file__).with_name("release.py").is_file())
@click.argument("out", type=click.Path(path_type=Path))
def release(out: Path) -> int:
    """Write the students' bundle to OUT, a new or empty folder (instructors only).

    It holds exercises/ generated from solutions/, the grader without its instructor-only
    parts, MNIST, a README for students and a GitHub Actions workflow that grades each push.
    """
    try:
        import grader.release as bundle  # not in the students' bundle
    except ModuleNotFoundError as error:
        if error.name not in ("grader.release", "grader.authoring"):
            raise
        raise click.UsageError("grade release needs the instructor's repository; this copy of "
                               "the grader is the students' bundle") from None
    try:
        bundle.build(out, echo=click.echo)
    except bundle.ReleaseError as error:
        raise click.UsageError(str(error)) from None
    except OSError as error:
        raise click.UsageError(f"cannot write the bundle to {out}: {error}") from None
    return 0


def _exercise_list(text: str | None) -> list[str]:
    """``"ex01,ex3"`` -> ``["ex01", "ex03"]`` in course order; None -> every exercise."""
    if text is None:
        return list(EXERCISE_MODULES)
    try:
        chosen = {resolve(name) for name in text.split(",") if name.strip()}
    except UnknownExercise as error:
        raise click.UsageError(str(error)) from None
    if not chosen:
        raise click.UsageError("--exercises names no exercise")
    return [exercise_id for exercise_id in EXERCISE_MODULES if exercise_id in chosen]


@cli.command("batch")
@click.argument("submissions", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="folder for the gradebook, grades.csv, grades.json and feedback/")
@click.option("--exercises", metavar="ex01,ex02,...", default=None,
              help="exercises to grade [default: all]")
@click.option("--jobs", type=click.IntRange(min=1), default=os.cpu_count() or 1,
              show_default=True, help="students graded at the same time")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=None,
              help=f"seconds one call of a student's code may take; each exercise may take "
                   f"{BUDGET_CALLS} times that in all [default: per exercise; training exercises "
                   "keep their own longer limits]")
@click.option("--hidden", is_flag=True, help="add the hidden checks (needs --seed)")
@click.option("--seed", envvar="BACKPROP_LAB_SEED", default=None,
              help="secret seed of the hidden checks (or $BACKPROP_LAB_SEED)")
@click.option("--solutions", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="the instructor's solutions/ with hidden/ [default: beside the grader]")
@_lang_option
@click.option("--isolation", type=click.Choice(["auto", "bubblewrap", "none"]),
              default="auto", show_default=True,
              help="how runs are kept apart: auto is bubblewrap, and refuses without it; "
                   "none protects your own code only (the summary says what it leaves open)")
def batch(submissions: Path, out: Path, exercises: str | None, jobs: int,
          timeout: float | None, hidden: bool, seed: str | None, solutions: Path | None,
          isolation: str) -> int:
    """Grade a class: SUBMISSIONS holds one folder or .zip per student.

    Results go to a gradebook in OUT as they arrive; running the same command again grades
    only what changed, so an interrupted run resumes where it stopped.
    """
    from grader.batch.gradebook import GradebookError
    from grader.batch.progress import ConsoleProgress
    from grader.batch.run import BatchOptions, run_batch
    from grader.batch.worker import HiddenSpec
    from grader.engine import display_path
    from grader.hidden import HiddenChecksError, with_hidden
    from grader.runner.sandbox import SandboxUnavailable, detect
    from grader.text import printable

    if out.resolve().is_relative_to(submissions.resolve()):
        raise click.UsageError("--out must not be inside SUBMISSIONS (it would count as a "
                               "student)")
    given = click.get_current_context().get_parameter_source("seed")
    if seed is not None and not hidden and given is ParameterSource.COMMANDLINE:
        raise click.UsageError("--seed is for hidden checks: add --hidden")
    chosen = _exercise_list(exercises)
    spec = None
    if hidden:
        if not seed:
            raise click.UsageError("--hidden needs --seed (or $BACKPROP_LAB_SEED)")
        solutions = (solutions or SOLUTIONS_DIR).resolve()
        try:  # once here, rather than failing in every student's run
            for exercise_id in chosen:
                with_hidden(load(exercise_id), solutions, seed)
        except HiddenChecksError as error:
            raise click.UsageError(f"{error} (use --solutions)") from None
        spec = HiddenSpec(seed, solutions)
    try:
        sandbox = detect(isolation, for_class=True)  # "auto": bubblewrap, or this refusal
    except SandboxUnavailable as error:
        raise click.UsageError(str(error)) from None
    from grader.i18n import current

    options = BatchOptions(submissions.resolve(), out.resolve(), chosen, jobs, sandbox, timeout,
                           spec, lang=current())
    try:
        summary = run_batch(options, ConsoleProgress())
    except GradebookError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        if error.filename is None:  # not a file the user named: a fault of the grader
            raise click.ClickException(
                f"the grader failed ({type(error).__name__}: {error}); results already "
                f"recorded are kept in {out}: run the same command again") from None
        if Path(str(error.filename)).resolve().is_relative_to(options.out):
            raise click.ClickException(f"cannot write {out}: {error}") from None
        raise click.ClickException(f"cannot grade {submissions}: {error}") from None
    click.echo(f"batch: {summary.students} student(s), {len(options.exercises)} exercise(s)"
               + (f"; {summary.problems} entr{'y' if summary.problems == 1 else 'ies'} "
                  "could not be graded (see the note column)" if summary.problems else ""))
    click.echo(f"graded {summary.graded} run(s), reused {summary.reused} unchanged from the "
               f"gradebook; {summary.failed} failed (timed out, crashed, missing or not "
               "importable)")
    graded = summary.students - summary.problems
    click.echo(f"worst case: {_duration(summary.worst_case)} for {graded} student(s) x "
               f"{len(options.exercises)} exercise(s) on {jobs} job(s), if every run used its "
               "whole budget")
    click.echo(f"isolation: {summary.isolation}")
    if summary.killed_workers:
        click.echo(f"{summary.killed_workers} run(s) killed the grader process grading them "
                   "(tried again alone): recorded as crashed", err=True)
    for line in summary.grader_errors:
        click.echo(f"grader error (not recorded, will be retried): {printable(line)}", err=True)
    click.echo(f"took {summary.seconds:.1f} s; wrote "
               + ", ".join(display_path(p) + ("/" if p.name == "feedback" else "")
                           for p in summary.outputs))
    if summary.interrupted:
        click.echo("interrupted: run the same command again to grade the rest", err=True)
        return 130
    return 1 if summary.grader_errors else 0


def _duration(seconds: float) -> str:
    """``"42 s"``, ``"12 min"``, ``"3 h 05 min"``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d} min"


@cli.command("report")
@click.argument("out", type=click.Path(path_type=Path))
def class_report(out: Path) -> int:
    """Write the class report of a batch, OUT/report.html (instructors).

    OUT is a `grade batch` output folder; the page shows the score distributions, each
    check's failure rate, the diagnosed mistakes and the runs that failed.
    """
    from grader.classreport import ReportError, write_report
    from grader.engine import display_path

    try:
        path = write_report(out)
    except ReportError as error:
        raise click.UsageError(str(error)) from None
    click.echo(f"wrote {display_path(path)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI; usage errors are one line on stderr with exit status 2."""
    try:
        code = cli.main(args=argv, prog_name="grade", standalone_mode=False)
    except click.exceptions.Exit as done:
        code = done.exit_code
    except click.exceptions.Abort:
        click.echo("grade: interrupted", err=True)
        code = 130
    except click.ClickException as error:
        # One line, as typed: a message can name a learner's file or folder, whose name may
        # hold a newline or an escape sequence (grader.text.printable).
        from grader.text import printable

        click.echo(f"grade: {printable(error.format_message())}", err=True)
        code = error.exit_code
    sys.exit(code if isinstance(code, int) else 0)
