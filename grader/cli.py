"""The ``grade`` command: a thin click layer over the grader library.

    grade list                         the exercises, their titles and points
    grade ex01 [--path P] [--format F] grade one exercise
    grade all  [--path P] [--format F] grade every exercise found under P

Exit status: 0 full marks, 1 otherwise, 2 for a usage error (printed as one line).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader import __version__
from grader.registry import EXERCISE_MODULES, UnknownExercise, all_exercises, load, resolve

FORMATS = click.Choice(["text", "json"])
DEFAULT_PATH = Path("exercises")


def _options(command):
    command = click.option("--format", "output_format", type=FORMATS, default="text",
                           show_default=True, help="text for people, json for programs")(command)
    command = click.option("--timeout", type=click.FloatRange(min=0.1), default=None,
                           help="seconds one call of your code may take")(command)
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


def _emit(results, output_format: str, single: bool) -> int:
    from grader import report

    if output_format == "json":
        click.echo(report.to_json(results, single=single))
    else:
        console = report.make_console()
        for result in results:
            report.render_text(result, console)
        if not single:
            report.render_summary(results, console)
    return 0 if results and all(r.full_marks for r in results) else 1


def _grade(exercise_ids: list[str], path: Path, timeout: float | None, skip_missing: bool):
    from grader.engine import grade_path, with_timeout
    from grader.expected import StoreError
    from grader.result import ExerciseResult
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
            missing = ExerciseResult(exercise.id, exercise.title, "", error=str(error))
            missing.checks = []
            results.append(_all_failed(exercise, missing, str(error)))
        except StoreError as error:
            raise click.ClickException(f"grader error: {error}") from None
    return results


def _all_failed(exercise, result, message: str):
    from grader.engine import failed_result

    result.checks = [failed_result(check, message) for check in exercise.checks if not check.hidden]
    return result


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
        click.echo(f"grade: {error.format_message()}", err=True)
        code = error.exit_code
    sys.exit(code if isinstance(code, int) else 0)
