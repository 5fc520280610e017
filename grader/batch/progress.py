"""How a batch shows its progress: a live bar on a terminal, a line per student otherwise."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichBar

from grader.batch.run import Progress
from grader.text import printable


class ConsoleProgress(Progress):
    """Done, failed, elapsed and estimated time left, on ``console`` (stderr by default).

    On a terminal this is a live bar; in a log (CI, a pipe) one line per student once all of
    their gradings are done, so the log stays short and readable. A student id is printed as
    it was typed (grader.text.printable, no rich markup) and never wrapped (a long id with
    spaces, folded at the console's width, would start a line of its own choosing): it cannot
    forge or colour a line.
    """

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.live = self.console.is_terminal
        self._bar: RichBar | None = None
        self._task = None
        self._failed = 0
        self._done = 0
        self._total = 0
        self._left: dict[str, int] = {}
        self._started = time.monotonic()

    def start(self, total: int, reused: int) -> None:
        self._total = total
        self._started = time.monotonic()
        if reused:
            self.console.print(f"{reused} result(s) unchanged since the last run: reused")
        if total == 0:
            return
        if self.live:
            self._bar = RichBar(
                TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                TextColumn("[red]{task.fields[failed]} failed"),
                TextColumn("elapsed"), TimeElapsedColumn(),
                TextColumn("left"), TimeRemainingColumn(),
                console=self.console, transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task("grading", total=total, failed=0)
        else:
            self.console.print(f"grading {total} exercise run(s)")

    def expect(self, student: str, runs: int) -> None:
        """``student`` has ``runs`` gradings in this run (for the per-student log lines)."""
        self._left[student] = runs

    def advance(self, student: str, exercise: str, failed: bool) -> None:
        self._done += 1
        self._failed += failed
        if self._bar is not None:
            self._bar.update(self._task, advance=1, failed=self._failed)
            return
        left = self._left.get(student, 1) - 1
        self._left[student] = left
        if left <= 0:
            elapsed = time.monotonic() - self._started
            remaining = elapsed / self._done * (self._total - self._done)
            self.console.print(
                f"graded {printable(student)}: {self._done}/{self._total} done, "
                f"{self._failed} failed, {elapsed:.0f} s elapsed, about {remaining:.0f} s left",
                highlight=False, markup=False, emoji=False, soft_wrap=True,
            )

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
