"""The gradebook: every result of a batch, in one SQLite file that survives crashes.

Each result is committed on its own as soon as it arrives (WAL mode, ``synchronous=FULL``), so a
batch killed at any moment (Ctrl-C, ``kill -9``, power loss) keeps everything graded before.
A result is keyed by student and exercise and remembers the hash of the submission's content
and of the grader (version, checks, options) that produced it: a result is reused only while
both are unchanged.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from grader.result import ExerciseResult

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    student TEXT NOT NULL,
    exercise TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    grader_hash TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    fault TEXT,
    seconds REAL NOT NULL,
    graded_at TEXT NOT NULL,
    result_json TEXT NOT NULL,
    PRIMARY KEY (student, exercise)
);
CREATE TABLE IF NOT EXISTS entries (
    student TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    problem TEXT,
    seen_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    isolation TEXT NOT NULL,
    jobs INTEGER NOT NULL,
    exercises TEXT NOT NULL,
    hidden INTEGER NOT NULL,
    graded INTEGER NOT NULL DEFAULT 0,
    reused INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'running'
);
"""


#: The gradebook's file name in a batch's output folder.
GRADEBOOK = "gradebook.sqlite"


class GradebookError(Exception):
    """The gradebook file cannot be used (one line)."""


@dataclass(frozen=True)
class Recorded:
    """One stored result with what it was graded from."""

    student: str
    exercise: str
    content_hash: str
    grader_hash: str
    seconds: float
    result: ExerciseResult


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


class Gradebook:
    """``OUT/gradebook.sqlite``, opened for one batch run (one writer: the batch's main process),
    or with ``read_only=True`` for reading only (the class report): then nothing is created or
    changed, and a file that is not a gradebook is an error."""

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = path
        try:
            if read_only:
                self._db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True,
                                           timeout=30, isolation_level=None)
                tables = {name for (name,) in self._db.execute(
                    "SELECT name FROM sqlite_master WHERE type='table'")}
                if not {"meta", "results", "entries", "runs"} <= tables:
                    raise GradebookError(f"{path} is not a gradebook (no batch wrote it)")
            else:
                self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None and not read_only:
                self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif row is None or row[0] != str(SCHEMA_VERSION):
                found = "no gradebook schema" if row is None else f"gradebook schema {row[0]}"
                raise GradebookError(f"{path} has {found}, this grader writes "
                                     f"{SCHEMA_VERSION}: use another --out folder")
        except sqlite3.DatabaseError as error:
            raise GradebookError(f"cannot use {path} as a gradebook: {error}") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the batch's seed ----------------------------------------------------------------------

    def resample_seed(self) -> str:
        """The seed of this gradebook's fresh inputs (``grader.replay``): drawn at random the
        first time, recorded, and the same for every later run (so a resumed batch resamples
        exactly as the first run did)."""
        row = self._db.execute("SELECT value FROM meta WHERE key='resample_seed'").fetchone()
        if row is not None:
            return str(row[0])
        self._db.execute("INSERT INTO meta VALUES ('resample_seed', ?)", (secrets.token_hex(16),))
        return self.resample_seed()

    # -- runs --------------------------------------------------------------------------------

    def start_run(self, isolation: str, jobs: int, exercises: list[str], hidden: bool) -> int:
        """Record that a run started; returns its id."""
        cursor = self._db.execute(
            "INSERT INTO runs (started_at, isolation, jobs, exercises, hidden) VALUES (?,?,?,?,?)",
            (_now(), isolation, jobs, ",".join(exercises), int(hidden)),
        )
        return int(cursor.lastrowid)

    def finish_run(self, run: int, graded: int, reused: int, status: str) -> None:
        """Record how run ``run`` ended: ``status`` is "finished" or "interrupted"."""
        self._db.execute(
            "UPDATE runs SET finished_at=?, graded=?, reused=?, status=? WHERE id=?",
            (_now(), graded, reused, status, run),
        )

    def last_isolation(self) -> str | None:
        """The isolation line of the latest run (as the batch summary printed it), or None."""
        row = self._db.execute("SELECT isolation FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row and isinstance(row[0], str) else None

    # -- entries -----------------------------------------------------------------------------

    def record_entry(self, student: str, source: str, problem: str | None) -> None:
        """Remember a student's entry and why it cannot be graded (None when it can)."""
        self.record_entries([(student, source, problem)])

    def record_entries(self, entries: list[tuple[str, str, str | None]]) -> None:
        """:meth:`record_entry` for each (student, source, problem), in one transaction (one
        sync to disk for the whole class, not one per student)."""
        now = _now()
        with self._db:  # BEGIN ... COMMIT, or ROLLBACK on an error
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO entries VALUES (?,?,?,?) ON CONFLICT(student) DO UPDATE SET "
                "source=excluded.source, problem=excluded.problem, seen_at=excluded.seen_at",
                [(student, source, problem, now) for student, source, problem in entries],
            )

    def problems(self) -> dict[str, str]:
        """Student -> why their entry could not be graded, as last seen."""
        rows = self._db.execute("SELECT student, problem FROM entries WHERE problem IS NOT NULL")
        return dict(rows.fetchall())

    # -- results -----------------------------------------------------------------------------

    def hashes(self) -> dict[tuple[str, str], tuple[str, str]]:
        """(student, exercise) -> (content hash, grader hash) of every stored result."""
        rows = self._db.execute("SELECT student, exercise, content_hash, grader_hash FROM results")
        return {(s, e): (c, g) for s, e, c, g in rows.fetchall()}

    def record(self, student: str, content_hash: str, grader_hash: str,
               result: ExerciseResult, seconds: float) -> None:
        """Store (or replace) ``result`` of ``student``; committed before this returns."""
        self._db.execute(
            "INSERT OR REPLACE INTO results VALUES (?,?,?,?,?,?,?,?,?,?)",
            (student, result.exercise, content_hash, grader_hash, result.score,
             result.max_score, result.fault, seconds, _now(),
             json.dumps(result.to_json(), ensure_ascii=False)),
        )

    def results(self, students: list[str] | None = None,
                exercises: list[str] | None = None) -> list[Recorded]:
        """Stored results, by student then exercise, optionally only for some of them."""
        rows = self._db.execute(
            "SELECT student, exercise, content_hash, grader_hash, seconds, result_json "
            "FROM results ORDER BY student, exercise"
        ).fetchall()
        wanted_students = None if students is None else set(students)
        wanted_exercises = None if exercises is None else set(exercises)
        out = []
        for student, exercise, content, grader, seconds, text in rows:
            if wanted_students is not None and student not in wanted_students:
                continue
            if wanted_exercises is not None and exercise not in wanted_exercises:
                continue
            result = ExerciseResult.from_json(json.loads(text))
            out.append(Recorded(student, exercise, content, grader, seconds, result))
        return out
