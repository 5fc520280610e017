"""Text the grader does not control: lone surrogates, undecodable file names, control characters
and rich markup in learner strings and student ids, and folder entries too big to stage.

None of it may stop a batch, break an output file or rewrite a log: text is cleaned where it enters
(grader.text.clean / name_text), printed literally (grader.text.printable), and one result that
cannot be recorded costs only that result.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from conftest import SOLUTIONS, TEST_LIMITS
from grader.batch import entries as entries_module
from grader.batch.entries import discover
from grader.result import CheckResult, ExerciseResult
from grader.runner.protocol import dump_header, load_header
from grader.runner.session import Session
from grader.runner.submission import locate
from grader.text import clean, for_rich, name_text, printable

EX01 = "ex01_activations"
SOLUTION = (SOLUTIONS / f"{EX01}.py").read_text()
#: Student ids that try to rewrite a terminal or a log, or to inject markup.
SPOOFING_IDS = ["<script>", "\x1b[2J", "[red]x", "a\nFAKE LINE", "[link=http:x]y", "[bold]",
                "bell\x07\b\r:skull:"]
BAD_BYTES = os.fsdecode(b"kim\xff\xfe")  # a folder name that is not UTF-8, as listdir gives it

# -- the cleaning functions ----------------------------------------------------------------------


def valid(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def test_clean_makes_every_lone_surrogate_a_visible_escape():
    assert clean("ok é ✓ 😀") == "ok é ✓ 😀"
    assert clean("a\ud800b\udfffc") == "a\\ud800b\\udfffc"
    assert clean(clean("\ud800")) == clean("\ud800")


def test_name_text_percent_escapes_undecodable_bytes_stably():
    assert name_text(BAD_BYTES) == "kim%FF%FE"
    assert name_text("renée") == "renée" and name_text("a%20b") == "a%20b"
    assert valid(name_text("x\ud800"))


@pytest.mark.parametrize("text", SPOOFING_IDS + ["\x9b2J", "\u202egnp.exe", "l\u2028two",
                                                 "nul\x00", "del\x7f", "\ud800"])
def test_printable_is_one_visible_line(text):
    shown = printable(text)
    assert valid(shown) and shown.isprintable()


def test_printable_keeps_ordinary_text_and_names_the_escapes():
    assert printable("alice é [red]") == "alice é [red]"
    assert printable("a\nFAKE") == "a\\nFAKE" and printable("\x1b[2J") == "\\x1b[2J"


def rich_lines(markup: str, terminal: bool = False) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, force_terminal=terminal, highlight=False, emoji=False,
            width=200).print(markup)
    return buffer.getvalue()


@pytest.mark.parametrize("text", SPOOFING_IDS + ["trailing\\", "[/dim]", "\\[bold]"])
def test_for_rich_shows_markup_as_typed(text):
    shown = rich_lines(f"[dim]{for_rich(text)}[/dim] after")
    assert shown == f"{printable(text)} after\n"


# -- the wire: what the child sends ---------------------------------------------------------------


def test_a_frame_with_lone_surrogates_is_valid_text_after_decoding():
    raw = dump_header({"ok": False, "error": {"msg": "bad \ud800", "names": ["n\udfff"],
                                              "d": {"t": "d", "v": {"k\ud800": "v\udc80"}}},
                       "fine": "😀 é"})
    header = load_header(raw)
    assert header["error"]["msg"] == "bad \\ud800"
    assert header["error"]["names"] == ["n\\udfff"]
    assert header["error"]["d"]["v"] == {"k\\ud800": "v\\udc80"}
    assert header["fine"] == "😀 é"
    json.dumps(header, ensure_ascii=False).encode("utf-8")


HOSTILE = '''
import sys

class Odd:
    pass


Odd.__qualname__ = "Odd\\ud800"  # type() and __name__ refuse surrogates, __qualname__ does not
globals()["name\\udfff"] = 1
sys.stdout.buffer.write(b"bytes \\xff\\xfe end\\n")
sys.stdout.flush()
try:
    print("lone \\ud800")
except UnicodeEncodeError:
    pass
print("escaped \\udcff", flush=True)


def _inner():
    raise ValueError("bad \\ud800 [bold red]x[/bold red] \\x1b[2J")


_inner.__code__ = _inner.__code__.replace(co_name="f\\ud800", co_qualname="f\\ud800")


def raises():
    _inner()


def keys():
    return {"k\\ud800": "v\\udfff", "list": ["\\ud83d"], "t": ("\\udc00",)}


def odd():
    return Odd()


def exits():
    sys.exit("\\ud800")
'''


def all_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from all_strings(key)
            yield from all_strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from all_strings(item)


@pytest.fixture
def hostile(tmp_path):
    (tmp_path / f"{EX01}.py").write_text(HOSTILE)
    session = Session(locate(tmp_path / f"{EX01}.py", EX01), TEST_LIMITS)
    session.start()
    yield session
    session.close()


def test_lone_surrogates_from_learner_code_come_back_as_valid_text(hostile):
    assert hostile.import_error is None
    assert hostile.has("name\\udfff") and hostile.has("keys")
    error = hostile.call("raises").error
    assert error is not None and valid(error.message) and valid(error.detail)
    assert "bad \\ud800" in error.message and "f\\ud800" in error.detail
    value = hostile.call("keys").value
    assert all(valid(text) for text in all_strings(value))
    assert value["k\\ud800"] == "v\\udfff" and value["t"] == ("\\udc00",)
    handle = hostile.call("odd", keep=True).value
    assert handle.type_name == "Odd\\ud800"
    missing = hostile.getattr(handle, "nothing").error
    assert missing.kind == "not_found" and valid(missing.message)
    assert "Odd\\ud800" in missing.message
    exited = hostile.call("exits").error
    assert valid(exited.message) and valid(exited.detail)
    output = hostile.output
    assert valid(output) and "bytes \ufffd\ufffd end" in output


def test_an_import_error_with_surrogates_is_valid_text(tmp_path):
    (tmp_path / f"{EX01}.py").write_text('raise ValueError("\\ud800 \\udcff")\n')
    with Session(locate(tmp_path / f"{EX01}.py", EX01), TEST_LIMITS) as session:
        error = session.import_error
        assert error is not None and valid(error.message) and valid(error.detail)
        assert "\\ud800" in error.message


# -- staging: file names and caps ---------------------------------------------------------------


@pytest.fixture
def roots(tmp_path):
    submissions, staging = tmp_path / "submissions", tmp_path / "staging"
    submissions.mkdir()
    staging.mkdir()
    return submissions, staging


def by_student(submissions: Path, staging: Path) -> dict:
    return {entry.student: entry for entry in discover(submissions, staging)}


def solution_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / f"{EX01}.py").write_text(SOLUTION)
    return folder


def test_undecodable_entry_names_give_stable_valid_ids(roots, tmp_path):
    submissions, staging = roots
    solution_folder(submissions / BAD_BYTES)
    with zipfile.ZipFile(submissions / os.fsdecode(b"zed\xe9.zip"), "w") as archive:
        archive.writestr(f"{EX01}.py", SOLUTION)
    first = by_student(submissions, staging)
    assert sorted(first) == ["kim%FF%FE", "zed%E9"]
    assert all(entry.problem is None and valid(entry.shown_source) for entry in first.values())
    again = tmp_path / "again"
    again.mkdir()
    assert sorted(by_student(submissions, again)) == sorted(first)


def test_two_entries_with_the_same_id_are_a_duplicate_and_neither_is_lost(roots):
    submissions, staging = roots
    solution_folder(submissions / "kim%FF%FE")
    solution_folder(submissions / BAD_BYTES)
    found = discover(submissions, staging)
    assert len(found) == 2 and all(valid(e.student) for e in found)
    graded = [e for e in found if e.problem is None]
    duplicate = [e for e in found if e.problem is not None]
    assert [e.student for e in graded] == ["kim%FF%FE"]
    assert len(duplicate) == 1 and "a second entry for kim%FF%FE" in duplicate[0].problem
    assert duplicate[0].student != "kim%FF%FE"


def test_a_name_that_escaping_makes_too_long_is_cut_with_a_hash(roots):
    submissions, staging = roots
    solution_folder(submissions / os.fsdecode(b"\xff" * 200 + b"a"))
    solution_folder(submissions / os.fsdecode(b"\xff" * 200 + b"b"))
    found = by_student(submissions, staging)
    assert len(found) == 2
    for student in found:
        assert len(student.encode()) <= 255 and student.startswith("%FF%FF") and "~" in student


def test_a_problem_naming_undecodable_bytes_is_valid_text(roots):
    submissions, staging = roots
    (submissions / BAD_BYTES / os.fsdecode(b"sub\xff")).mkdir(parents=True)
    (submissions / BAD_BYTES / os.fsdecode(b"sub\xff") / f"{EX01}.py").symlink_to("/etc/passwd")
    (submissions / os.fsdecode(b"bad\xff.zip")).write_bytes(b"not a zip")
    found = by_student(submissions, staging)
    assert sorted(found) == ["bad%FF", "kim%FF%FE"]
    assert all(entry.problem and valid(entry.problem) for entry in found.values())
    assert "kim%FF%FE" in found["kim%FF%FE"].problem


def test_a_zip_member_name_marked_utf8_that_is_not_gets_a_row(roots):
    submissions, staging = roots
    path = submissions / "ann.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{EX01}.py", SOLUTION)
        archive.writestr("notes-é.txt", "x")  # non-ASCII: written as UTF-8 with the flag set
    path.write_bytes(path.read_bytes().replace("é".encode(), b"\xff\xfe"))
    found = by_student(submissions, staging)
    assert found["ann"].problem and "not a readable zip" in found["ann"].problem


def test_a_folder_of_many_small_files_is_refused_without_walking_it_all(roots):
    submissions, staging = roots
    crowded = solution_folder(submissions / "crowd")
    data = crowded / "data"
    data.mkdir()
    for i in range(20000):
        (data / f"f{i}.txt").touch()
    started = time.monotonic()
    found = by_student(submissions, staging)
    assert time.monotonic() - started < 5
    assert "more than 5000 files" in found["crowd"].problem
    assert "\n" not in found["crowd"].problem


def test_a_huge_non_exercise_file_is_never_read_and_a_huge_exercise_file_is_refused(roots):
    submissions, staging = roots
    big = solution_folder(submissions / "big")
    with open(big / "dataset.bin", "wb") as file:
        file.truncate(300 * 1024**2)  # sparse: costs no disk
    huge = solution_folder(submissions / "huge")
    with open(huge / "ex02_losses.py", "wb") as file:
        file.truncate(entries_module.MAX_FILE_BYTES + 1)
    started = time.monotonic()
    found = by_student(submissions, staging)
    assert time.monotonic() - started < 2
    assert found["big"].problem is None
    assert [p.name for p in found["big"].folder.iterdir()] == [f"{EX01}.py"]
    assert "is larger than 20 MB" in found["huge"].problem


def test_what_a_folder_or_zip_stages_is_capped_in_files_and_total_bytes(roots, monkeypatch):
    submissions, staging = roots
    monkeypatch.setattr(entries_module, "MAX_ENTRY_BYTES", 10_000)
    monkeypatch.setattr(entries_module, "MAX_STAGED_FILES", 5)
    many = submissions / "many"
    many.mkdir()
    for i in range(6):
        (many / f"ex{i + 1:02d}_part.py").write_text("x = 1\n")
    heavy = submissions / "heavy"
    heavy.mkdir()
    for i in range(3):
        (heavy / f"ex{i + 1:02d}_part.py").write_text("#" * 4000)
    with zipfile.ZipFile(submissions / "liar.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(3):
            archive.writestr(f"ex{i + 1:02d}_part.py", "#" * 4000)
    found = by_student(submissions, staging)
    assert "has 6 exercise files (more than 5)" in found["many"].problem
    assert "its exercise files hold more than" in found["heavy"].problem
    assert "zip bomb" in found["liar"].problem  # its declared sizes add up to too much
    # What the sizes say is checked first; the bytes really copied count too.
    monkeypatch.setattr(entries_module, "_vet", lambda shown, members: None)
    monkeypatch.setattr(entries_module._Budget, "plan", lambda self, sizes: None)
    again = staging.parent / "again"
    again.mkdir()
    found = by_student(submissions, again)
    assert "its exercise files hold more than" in found["liar"].problem
    assert "its exercise files hold more than" in found["heavy"].problem
    assert "more than 5 exercise files" in found["many"].problem
    assert not any(staging.iterdir()) and not any(again.iterdir())


# -- one result that cannot be recorded -----------------------------------------------------------


pytest_slow = pytest.mark.slow


@pytest_slow
def test_a_result_that_cannot_be_recorded_is_a_grader_error_and_the_batch_goes_on(
        tmp_path, monkeypatch):
    from grader.batch.gradebook import Gradebook
    from grader.batch.run import BatchOptions, run_batch
    from grader.runner.sandbox import NO_SANDBOX

    submissions = tmp_path / "submissions"
    for student in ("alice", "bob", "carol"):
        solution_folder(submissions / student)
    out = tmp_path / "out"
    record = Gradebook.record

    def failing(self, student, *args, **kwargs):
        if student == "bob":
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        return record(self, student, *args, **kwargs)

    monkeypatch.setattr(Gradebook, "record", failing)
    options = BatchOptions(submissions, out, ["ex01"], 2, NO_SANDBOX)
    summary = run_batch(options)
    assert summary.graded == 2 and len(summary.grader_errors) == 1
    assert summary.grader_errors[0].startswith("bob ex01: the result could not be recorded")
    with open(out / "grades.csv", newline="") as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    assert float(rows["alice"]["total"]) == float(rows["alice"]["max_total"])
    assert "not graded yet" in rows["bob"]["note"]
    assert (out / "feedback" / "bob" / "feedback.md").is_file()

    monkeypatch.setattr(Gradebook, "record", record)
    again = run_batch(options)
    assert again.graded == 1 and again.reused == 2 and not again.grader_errors


# -- a whole class: nothing breaks, nothing is spoofed --------------------------------------------


HOSTILE_EX01 = SOLUTION + textwrap.dedent('''

    import sys as _sys

    _sys.stdout.buffer.write(b"printed \\xff\\xfe\\x1b[2J\\n")
    _sys.stdout.flush()
    print("[bold red]PASS[/bold red] \\x1b]8;;http://evil\\x07link\\x1b]8;;\\x07", flush=True)
    class _Odd:
        pass


    _Odd.__qualname__ = "Odd\\ud800"


    def relu(x):
        raise ValueError("bad \\ud800 [link=http://x]click[/link] \\x1b[2J\\rPASS")


    def sigmoid(x):
        return {"\\ud800": 1}


    def sigmoid_grad(x):
        return _Odd()
''')


def grade_batch(submissions: Path, out: Path, isolation: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out),
         "--exercises", "ex01", "--jobs", "2", "--isolation", isolation],
        capture_output=True, timeout=600, cwd=out.parent,
    )


def isolation_mode(kind: str) -> str:
    from grader.runner.sandbox import SandboxUnavailable, detect

    try:
        detect(kind)
    except SandboxUnavailable as error:
        pytest.skip(f"{kind} is not available here: {error}")
    return kind


def assert_literal_log(stream: bytes) -> str:
    text = stream.decode("utf-8")
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text and "\b" not in text
    assert not any(line.startswith(("FAKE LINE", "PASS")) for line in text.splitlines())
    return text


@pytest_slow
@pytest.mark.parametrize("kind", ["none", "bubblewrap"])
def test_a_hostile_class_is_graded_written_and_resumed(tmp_path, kind):
    isolation = isolation_mode(kind)
    submissions = tmp_path / "submissions"
    (submissions / "evil").mkdir(parents=True)
    (submissions / "evil" / f"{EX01}.py").write_text(HOSTILE_EX01)
    for student in [*SPOOFING_IDS, BAD_BYTES]:
        solution_folder(submissions / student)
    out = tmp_path / "out"
    done = grade_batch(submissions, out, isolation)
    assert done.returncode == 0, done.stderr
    log = assert_literal_log(done.stderr)
    assert_literal_log(done.stdout)
    for student in SPOOFING_IDS:
        assert f"graded {printable(student)}: " in log
    assert "graded kim%FF%FE: " in log

    for path in out.rglob("*"):
        if path.is_file() and path.suffix != ".sqlite" and ".sqlite" not in path.name:
            path.read_bytes().decode("utf-8")  # every output is valid UTF-8
    with open(out / "grades.csv", newline="", encoding="utf-8") as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    assert sorted(rows) == sorted(["evil", "kim%FF%FE", *SPOOFING_IDS])
    full = float(rows["kim%FF%FE"]["max_total"])
    assert all(float(rows[s]["total"]) == full for s in [*SPOOFING_IDS, "kim%FF%FE"])
    assert 0 < float(rows["evil"]["total"]) < full
    grades = json.loads((out / "grades.json").read_text(encoding="utf-8"))
    assert len(grades["students"]) == len(rows)
    page = (out / "feedback" / "<script>" / "feedback.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page
    evil = out / "feedback" / "evil"
    assert "\\ud800" in (evil / "feedback.md").read_text(encoding="utf-8")
    ET.parse(evil / "junit.xml")
    json.loads((evil / "results.json").read_text(encoding="utf-8"))

    again = grade_batch(submissions, out, isolation)
    assert again.returncode == 0, again.stderr
    assert b"graded 0 run(s), reused 9" in again.stdout


def test_the_cli_prints_grader_errors_literally(tmp_path, monkeypatch, capfd):
    import grader.batch.run as run_module
    from grader.batch.run import BatchSummary
    from grader.cli import main

    def fake_run(options, progress=None):
        return BatchSummary(students=1, grader_errors=[
            "a\nFAKE LINE ex01: [red]x[/red] \x1b[2J\rdone \ud800"], isolation="none")

    monkeypatch.setattr(run_module, "run_batch", fake_run)
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    with pytest.raises(SystemExit) as exit_info:
        main(["batch", str(submissions), "--out", str(tmp_path / "out"), "--isolation", "none"])
    assert exit_info.value.code == 1
    captured = capfd.readouterr()
    assert "grader error (not recorded, will be retried): a\\nFAKE LINE ex01: [red]x[/red] " \
           "\\x1b[2J\\rdone \\ud800" in captured.err
    assert "\x1b" not in captured.err and "\nFAKE" not in captured.err


def test_the_progress_log_prints_student_ids_literally():
    from rich.console import Console

    from grader.batch.progress import ConsoleProgress

    buffer = io.StringIO()
    progress = ConsoleProgress(Console(file=buffer, width=300))
    progress.start(len(SPOOFING_IDS), 0)
    for student in SPOOFING_IDS:
        progress.expect(student, 1)
        progress.advance(student, "ex01", False)
    progress.stop()
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 1 + len(SPOOFING_IDS)
    for line, student in zip(lines[1:], SPOOFING_IDS, strict=True):
        assert line.startswith(f"graded {printable(student)}: ")
    assert "\x1b" not in buffer.getvalue()


def spoofing_result() -> ExerciseResult:
    message = "[link=http://x]click[/link] \x1b[2J\rPASS \ud800 :skull:"
    return ExerciseResult(
        exercise="ex01", title="Activations",
        checks=[CheckResult("relu [bold]x[/bold]", 0, 1, "failed", f"x\nPASS 1/1 {message}"),
                CheckResult("sigmoid", 1, 1, "passed", "ok")],
        error=f"could not import: {message}", learner_output=f"line one\n{message}\n",
        graded_file="ex01_activations.py", notes=[message])


@pytest.mark.parametrize("terminal", [False, True])
def test_the_exercise_table_shows_learner_text_as_typed(terminal):
    from rich.console import Console

    from grader.report import render_summary, render_text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=terminal, highlight=False, emoji=False,
                      width=400, color_system=None if not terminal else "standard")
    result = spoofing_result()
    render_text(result, console)
    render_summary([result], console)
    text = buffer.getvalue()
    plain = text
    if terminal:  # rich's own colours are the only escape sequences
        import re
        plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert "\x1b" not in plain and "\r" not in plain and "\ud800" not in plain
    assert "[link=http://x]click[/link] \\x1b[2J\\rPASS \\ud800 :skull:" in plain
    assert "relu [bold]x[/bold]" in plain and "💀" not in plain
    assert not any(line.lstrip().startswith("PASS 1/1") for line in plain.splitlines())


def test_make_console_shows_emoji_codes_as_typed():
    from grader.report import make_console

    buffer = io.StringIO()
    make_console(buffer).print(for_rich(":skull: ok"))
    assert buffer.getvalue() == ":skull: ok\n"
