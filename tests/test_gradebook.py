"""The gradebook keeps every result, committed as it arrives, and restores it exactly."""

from __future__ import annotations

import sqlite3

import pytest

from grader.batch.gradebook import Gradebook, GradebookError
from grader.result import CheckResult, ExerciseResult


def a_result(score: float = 1.0) -> ExerciseResult:
    result = ExerciseResult("ex01", "Activation functions", "ex01_activations.py",
                            learner_output="hello <b>", notes=["a note"], fault="timeout",
                            seconds=0.75)
    result.checks = [
        CheckResult("sigmoid matches", score, 1.0, "passed" if score else "failed", "ok",
                    seconds=0.125),
        CheckResult("softmax is stable", 0.0, 2.0, "failed", "overflow", diagnosis="no max",
                    kind="exception"),
        CheckResult("hidden: relu", 1.0, 1.0, "passed", "secret detail", hidden=True),
    ]
    return result


def test_results_round_trip_through_the_gradebook(tmp_path):
    with Gradebook(tmp_path / "book.sqlite") as book:
        book.record("alice", "c1", "g1", a_result(), 0.25)
    with Gradebook(tmp_path / "book.sqlite") as book:
        [recorded] = book.results()
        assert book.hashes() == {("alice", "ex01"): ("c1", "g1")}
    assert recorded.result == a_result()
    assert recorded.seconds == 0.25
    assert recorded.result.redacted().checks[2].output == "hidden check passed"


def test_a_result_is_committed_before_record_returns(tmp_path):
    book = Gradebook(tmp_path / "book.sqlite")
    book.record("alice", "c1", "g1", a_result(), 0.1)
    # A second connection (another process after a crash) sees it without close().
    other = sqlite3.connect(tmp_path / "book.sqlite")
    rows = other.execute("SELECT student, score FROM results").fetchall()
    assert rows == [("alice", a_result().score)]
    assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    other.close()
    book.close()


def test_recording_again_replaces_and_filters_select(tmp_path):
    with Gradebook(tmp_path / "book.sqlite") as book:
        book.record("alice", "c1", "g1", a_result(1.0), 0.1)
        book.record("alice", "c2", "g1", a_result(0.0), 0.1)
        book.record("bob", "c3", "g1", a_result(1.0), 0.1)
        assert [r.result for r in book.results(["alice"])] == [a_result(0.0)]
        assert book.results(["alice"], ["ex02"]) == []
        assert book.hashes()[("alice", "ex01")] == ("c2", "g1")


def test_entries_and_runs_are_remembered(tmp_path):
    with Gradebook(tmp_path / "book.sqlite") as book:
        book.record_entry("alice", "/x/alice", None)
        book.record_entry("mallory", "/x/mallory.zip", "zip slip")
        run = book.start_run("bubblewrap", 2, ["ex01"], False)
        book.finish_run(run, graded=3, reused=1, status="interrupted")
        assert book.problems() == {"mallory": "zip slip"}
        book.record_entry("mallory", "/x/mallory.zip", None)
        assert book.problems() == {}


def test_a_file_that_is_not_a_gradebook_is_a_one_line_error(tmp_path):
    path = tmp_path / "book.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(GradebookError, match="cannot use .* as a gradebook"):
        Gradebook(path)


def test_read_only_reads_everything_and_changes_nothing(tmp_path):
    path = tmp_path / "book.sqlite"
    with Gradebook(path) as book:
        book.record("alice", "c1", "g1", a_result(), 0.5)
    before = path.read_bytes()
    with Gradebook(path, read_only=True) as book:
        assert [r.student for r in book.results()] == ["alice"]
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            book.record("bob", "c1", "g1", a_result(), 0.5)
    assert path.read_bytes() == before


def test_read_only_refuses_what_is_not_a_gradebook_and_creates_nothing(tmp_path):
    with pytest.raises(GradebookError, match="cannot use"):
        Gradebook(tmp_path / "missing.sqlite", read_only=True)
    assert not (tmp_path / "missing.sqlite").exists()
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(GradebookError, match="is not a gradebook"):
        Gradebook(other, read_only=True)


@pytest.mark.parametrize("stored", [None, -1, "1.5", True])
def test_a_result_without_a_valid_time_reads_back_without_one(stored):
    data = a_result().to_json()
    data["seconds"] = data["tests"][0]["seconds"] = stored
    result = ExerciseResult.from_json(data)
    assert result.seconds is None and result.checks[0].seconds is None


def test_outputs_never_show_a_result_recorded_for_other_files_or_another_grader(tmp_path):
    """A run stopped before it regraded a changed file must not present the old grade."""
    from grader.batch.entries import Entry
    from grader.batch.outputs import NOT_GRADED, student_results

    with Gradebook(tmp_path / "book.sqlite") as book:
        book.record("alice", "c1", "g1", a_result(), 0.5)
        entries = [Entry("alice", tmp_path / "alice", None)]
        assert student_results(book, entries, ["ex01"])["alice"]["ex01"] == a_result()
        now = student_results(book, entries, ["ex01"], {"alice": ("c1", "g1")})
        assert now["alice"]["ex01"] == a_result()
        for changed in [("c2", "g1"), ("c1", "g2")]:
            stale = student_results(book, entries, ["ex01"], {"alice": changed})["alice"]["ex01"]
            assert stale.error == NOT_GRADED and stale.score == 0


def test_the_note_says_missing_only_for_a_file_not_handed_in(tmp_path):
    from grader.batch.entries import Entry
    from grader.batch.outputs import _note
    from grader.batch.worker import missing_message
    from grader.engine import ungraded_result
    from grader.registry import load

    entry = Entry("bob", tmp_path / "bob", None)
    missing = ungraded_result(load("ex01"), missing_message("ex01_activations"))
    broken = ungraded_result(load("ex02"), "could not import your code: TypeError: f() "
                                           "missing 1 required positional argument: 'x'")
    assert _note(entry, {"ex01": missing, "ex02": broken}) == (
        "ex01 missing; ex02 could not be imported")
