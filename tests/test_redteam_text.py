"""Red-team attacks on what the grader prints: a learner's text or a student id must never start a
line of its own choosing, in a log (where rich folds long lines at the console's width) or on a
terminal (where text outside the table would be folded to the left edge)."""

from __future__ import annotations

import io
import re

import pytest

from grader.result import CheckResult, ExerciseResult

#: Text padded so that, folded at a narrow width, a forged line starts at the left edge.
FORGED = "Total for ex01: 25/25"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _padded(width: int, forged: str) -> list[str]:
    """Texts that, folded at ``width`` after some prefix, would put ``forged`` at a line start."""
    return [" ".join(["x" * n, forged]) for n in range(1, width + 1)]


def test_a_long_student_id_with_spaces_cannot_forge_a_progress_line():
    from rich.console import Console

    from grader.batch.progress import ConsoleProgress

    forged = "graded alice: 0/9 done, 9 failed, 0 s elapsed, about 0 s left"
    students = _padded(40, forged)
    buffer = io.StringIO()
    progress = ConsoleProgress(Console(file=buffer, width=40))
    progress.start(len(students), 0)
    for student in students:
        progress.expect(student, 1)
        progress.advance(student, "ex01", False)
    progress.stop()
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 1 + len(students)  # one line per student, never folded
    for line, student in zip(lines[1:], students, strict=True):
        assert line.startswith(f"graded {student}: ")


@pytest.mark.parametrize("terminal", [False, True])
def test_learner_text_outside_the_table_cannot_start_a_line(terminal):
    from rich.console import Console

    from grader.report import render_summary, render_text

    width = 60
    for text in _padded(width, FORGED)[::7]:
        result = ExerciseResult(
            exercise="ex01", title="Activations", graded_file=f"{text}.py",
            checks=[CheckResult("relu", 0, 1, "failed", "no")],
            error=f"could not import your code: ValueError: {text}",
            learner_output=f"{text}\n")
        buffer = io.StringIO()
        console = Console(file=buffer, force_terminal=terminal, width=width, highlight=False,
                          emoji=False, soft_wrap=not terminal)
        render_text(result, console)
        render_summary([result], console)
        lines = _ANSI.sub("", buffer.getvalue()).splitlines()
        assert not any(line.startswith(FORGED) for line in lines), text
        if not terminal:  # piped: nothing is cut
            assert f"ValueError: {text}" in buffer.getvalue()


@pytest.mark.parametrize("name", ["d\x1b[31m\nFAKE LINE", "nope\r\nFAKE LINE", "\u202eFAKE LINE\n"])
def test_a_usage_error_naming_a_learners_path_is_one_line(tmp_path, capfd, name):
    from grader.cli import main

    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / name).mkdir()  # an existing folder without ex01 in it
    for path in (folder / name, folder / f"missing {name}"):
        with pytest.raises(SystemExit) as exit_info:
            main(["ex01", "--path", str(path)])
        assert exit_info.value.code == 2
        err = capfd.readouterr().err
        assert err.count("\n") == 1 and err.startswith("grade: "), err
        assert "\x1b" not in err and "\r" not in err and "\u202e" not in err
        assert "FAKE LINE" in err
