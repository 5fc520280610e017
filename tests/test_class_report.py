"""`grade report OUT`: the class report of a batch, built from a hand-made gradebook (no grading),
checked as HTML and, in headless Chromium, as a rendered page."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import select
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import REPO
from grader.batch.entries import Entry
from grader.batch.gradebook import Gradebook
from grader.batch.outputs import write_outputs
from grader.classreport import write_report
from grader.classreport.data import gather
from grader.cli import main
from grader.registry import load
from grader.result import CheckResult, ExerciseResult

EXERCISES = ["ex01", "ex02"]
SOFTMAX_MISTAKE = "softmax without subtracting the row maximum: exp overflows"
HOSTILE = '<img src=x onerror=alert(1)>'
HOSTILE_OUTPUT = "</td></tr></table><script>document.title='pwned'</script>"
PROBLEM = "heidi.zip is not a readable zip file (File is not a zip file)"


def passed(name: str, points: float = 1.0, hidden: bool = False) -> CheckResult:
    return CheckResult(name, points, points, "passed", "ok", hidden=hidden)


def failed(name: str, points: float = 1.0, output: str = "wrong", diagnosis: str | None = None,
           kind: str | None = None, hidden: bool = False) -> CheckResult:
    return CheckResult(name, 0.0, points, "failed", output, diagnosis, hidden, kind)


def ex01(*checks: CheckResult, fault: str | None = None) -> ExerciseResult:
    """ex01 with five checks, full marks unless some are replaced by ``checks`` (by name)."""
    chosen = {c.name: c for c in checks}
    default = [passed("sigmoid"), passed("relu"), passed("softmax", 2.0),
               passed("softmax rows sum to 1"), passed("hidden: softmax random", hidden=True)]
    result = ExerciseResult("ex01", "Activation functions", "ex01_activations.py", fault=fault)
    result.checks = [chosen.get(c.name, c) for c in default]
    return result


def ex02(*checks: CheckResult, fault: str | None = None) -> ExerciseResult:
    chosen = {c.name: c for c in checks}
    default = [passed("mean squared error", 2.0), passed("cross-entropy", 2.0)]
    result = ExerciseResult("ex02", "Loss functions", "ex02_losses.py", fault=fault)
    result.checks = [chosen.get(c.name, c) for c in default]
    return result


def not_implemented(name: str, points: float = 1.0) -> CheckResult:
    return failed(name, points, f"{name} is not implemented yet", "not implemented",
                  "not_implemented")


def softmax_mistake(name: str = "softmax", points: float = 2.0) -> CheckResult:
    return failed(name, points, "overflow: got nan", SOFTMAX_MISTAKE)


#: student -> (ex01, ex02); heidi's entry could not be graded.
CLASS = {
    "alice": (ex01(), ex02()),
    "bob": (ex01(not_implemented("sigmoid"), not_implemented("relu"),
                 not_implemented("softmax", 2.0), not_implemented("softmax rows sum to 1"),
                 not_implemented("hidden: softmax random")),
            ex02(not_implemented("mean squared error", 2.0),
                 not_implemented("cross-entropy", 2.0))),
    "carol": (ex01(softmax_mistake()), ex02()),
    # dave's mistake is found by two checks: he still counts once.
    "dave": (ex01(softmax_mistake(), softmax_mistake("softmax rows sum to 1", 1.0)), ex02()),
    "erin": (ex01(softmax_mistake(), failed("hidden: softmax random", hidden=True)), ex02()),
    "frank": (ex01(), ex02(failed("cross-entropy", 2.0, "cross_entropy_error took longer than "
                                  "3 s (an endless loop?)", kind="timeout"), fault="timeout")),
    "grace": (ex01(failed("sigmoid", output="your code crashed (killed by signal 9)",
                          kind="crashed"), fault="crashed"), ex02()),
    HOSTILE: (ex01(failed("relu", output=HOSTILE_OUTPUT, kind="crashed"), fault="crashed"),
              ex02()),
    "ivan": (ex01(failed("relu")), ex02(failed("mean squared error", 2.0,
                                                diagnosis="sum instead of mean"))),
    "judy": (ex01(failed("hidden: softmax random", hidden=True)), ex02()),
    "mallory": (ex01(), ex02(failed("cross-entropy", 2.0))),
}
STUDENTS = sorted([*CLASS, "heidi"])


def build_out(out: Path, stale: bool = True) -> Path:
    """A batch output folder as `grade batch` leaves it: gradebook, grades.json, feedback.

    With ``stale``, the gradebook also holds a result of a student who is not in the last run.
    """
    out.mkdir(parents=True)
    with Gradebook(out / "gradebook.sqlite") as book:
        for student, results in CLASS.items():
            book.record_entry(student, f"/submissions/{student}", None)
            for result in results:
                book.record(student, "content", "grader", result, 0.5)
        book.record_entry("heidi", "/submissions/heidi.zip", PROBLEM)
        entries = [Entry(s, Path(f"/submissions/{s}"), None, PROBLEM if s == "heidi" else None)
                   for s in STUDENTS]
        write_outputs(out, book, entries, EXERCISES)
        if stale:
            book.record("oscar", "content", "grader", ex01(softmax_mistake()), 0.5)
    return out


def grade_report(out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", "report", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=out.parent)


class Page(HTMLParser):
    """The parts of the report the tests look at: images, links and table cells."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.urls: list[str] = []
        self.tables: list[tuple[str, list[list[str]]]] = []  # (class, body rows of cell text)
        self._in_body = False
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href", "action", "srcset")]
        if tag == "img":
            self.images.append(attributes)
        elif tag == "table":
            self.tables.append((attributes.get("class") or "", []))
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.tables[-1][1].append([])
        elif tag == "td" and self._in_body:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.tables[-1][1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def table(self, css: str) -> list[list[str]]:
        [rows] = [rows for name, rows in self.tables if name == css]
        return rows

    def all_rows(self, css: str) -> list[list[list[str]]]:
        return [rows for name, rows in self.tables if name == css]


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG (from its IHDR chunk); fails on anything else."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess, str]:
    out = build_out(tmp_path_factory.mktemp("class") / "out")
    done = grade_report(out)
    text = (out / "report.html").read_text(encoding="utf-8") if done.returncode == 0 else ""
    return out, done, text


def test_grade_report_writes_the_page_and_says_where(report):
    out, done, text = report
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote {out.name}/report.html"
    assert text.startswith("<!DOCTYPE html>")
    assert f"<strong>{len(STUDENTS)}</strong> student(s)" in text
    assert "<strong>2</strong> exercise(s)" in text
    assert "grader 0.1.0" in text
    assert re.search(r"Written \d{4}-\d\d-\d\d \d\d:\d\d", text)


def test_the_page_is_self_contained_with_a_png_per_distribution(report):
    _, _, text = report
    page = Page(text)
    assert len(page.images) == len(EXERCISES) + 1  # one per exercise and the total
    for image in page.images:
        src = image["src"] or ""
        assert src.startswith("data:image/png;base64,")
        width, height = png_size(base64.b64decode(src.split(",", 1)[1], validate=True))
        assert width >= 300 and height >= 200
        assert image["alt"].startswith("histogram of the scores of ")
    assert all(url.startswith(("data:", "#")) for url in page.urls), page.urls
    assert "<script" not in text.lower() and "<link" not in text.lower()
    assert "default-src 'none'" in text  # nothing but inline images and style, ever


def test_scores_table_counts_students_mean_median_and_full_marks(report):
    _, _, text = report
    rows = {row[0]: row for row in Page(text).table("stats")}
    # The largest maximum is shown: heidi's ungraded entry counts 0 of the real exercise's
    # points (25 and 7), more than these hand-made results have (6 and 4).
    maxima = [load(e).max_score for e in EXERCISES]
    # ex01 (of 6): alice, frank, mallory 6; bob 0; carol 4; dave 3; erin 3; grace 5;
    # hostile 5; ivan 5; judy 5; heidi 0.
    ex01_scores = [6, 6, 6, 0, 4, 3, 3, 5, 5, 5, 5, 0]
    assert rows["ex01"][2:] == ["12", f"{sum(ex01_scores) / 12:.3g}", "5", "3", f"{maxima[0]:g}"]
    # ex02 (of 4): full marks for 7 students; bob and heidi 0, frank, ivan, mallory 2.
    assert rows["ex02"][2:] == ["12", f"{(7 * 4 + 3 * 2) / 12:.3g}", "4", "7", f"{maxima[1]:g}"]
    assert rows["total"][2] == "12" and rows["total"][5] == "1"  # only alice has everything
    assert rows["total"][6] == f"{sum(maxima):g}"


def test_check_failure_rates_are_sorted_and_include_hidden_checks(report):
    _, _, text = report
    ex01_rates, ex02_rates = Page(text).all_rows("rates")
    rates = [int(row[3].rstrip("%")) for row in ex01_rates]
    assert rates == sorted(rates, reverse=True)
    by_name = {row[0]: row for row in ex01_rates}
    # 11 graded (heidi's entry was not, oscar is not in the run): softmax failed by bob,
    # carol, dave, erin.
    assert by_name["softmax"][1:] == ["4", "11", "36%"]
    assert by_name["hidden: softmax random hidden"][1:] == ["3", "11", "27%"]
    assert by_name["sigmoid"][1:] == ["2", "11", "18%"]
    assert ex02_rates[0][:3] == ["cross-entropy", "3", "11"]  # bob, frank, mallory


def test_mistakes_name_who_made_them_without_not_implemented(report):
    _, _, text = report
    rows = Page(text).table("mistakes")
    assert rows[0] == ["3", "ex01", SOFTMAX_MISTAKE, "softmax, softmax rows sum to 1",
                       "carol, dave, erin"]
    assert rows[1] == ["1", "ex02", "sum instead of mean", "mean squared error", "ivan"]
    assert len(rows) == 2  # bob's "not implemented" is no mistake; oscar is not in the run
    assert "oscar" not in text


def test_timeouts_crashes_and_ungraded_entries_are_listed_with_their_message(report):
    _, _, text = report
    rows = {(row[0], row[1]): row for row in Page(text).table("failures")}
    assert set(rows) == {("frank", "ex02"), ("grace", "ex01"), (HOSTILE, "ex01"),
                         ("heidi", "–")}
    assert rows["frank", "ex02"][2:] == [
        "timeout", "cross-entropy: cross_entropy_error took longer than 3 s (an endless loop?)"]
    assert rows["grace", "ex01"][2:] == ["crashed", "sigmoid: your code crashed (killed by "
                                                    "signal 9)"]
    assert rows[HOSTILE, "ex01"][2:] == ["crashed", f"relu: {HOSTILE_OUTPUT}"]
    assert rows["heidi", "–"][2:] == ["not graded", PROBLEM]


def test_learner_controlled_text_is_escaped(report):
    _, _, text = report
    assert HOSTILE not in text and HOSTILE_OUTPUT not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;" in text


def test_without_grades_json_the_gradebook_alone_is_reported(tmp_path):
    out = build_out(tmp_path / "out")
    (out / "grades.json").unlink()
    data = gather(out)
    assert "grades.json is missing" in data.notes[0]
    assert "oscar" in data.students  # every result in the gradebook counts now
    assert data.distributions[0].students == 12  # the 11 graded and oscar; heidi has none
    assert ("heidi", None, "not graded", PROBLEM) in {
        (f.student, f.exercise, f.what, f.message) for f in data.failures}
    assert write_report(out).is_file()


@pytest.mark.parametrize("case", ["missing", "a file", "empty", "bad json", "not grades",
                                  "not sqlite", "other sqlite"])
def test_a_folder_that_is_no_batch_output_is_one_line_and_exit_2(tmp_path, capsys, case):
    out = tmp_path / "out"
    if case in ("bad json", "not grades"):
        build_out(out)
        (out / "grades.json").write_text("{" if case == "bad json" else '{"students": 3}')
    elif case == "a file":
        out.write_text("grades")
    elif case != "missing":
        out.mkdir()
    if case == "not sqlite":
        (out / "gradebook.sqlite").write_text("not a database, just text" * 100)
    if case == "other sqlite":
        with contextlib.closing(sqlite3.connect(out / "gradebook.sqlite")) as db:
            db.execute("CREATE TABLE notes (text TEXT)")
            db.commit()
    before = (out / "gradebook.sqlite").read_bytes() if case.endswith("sqlite") else None
    with pytest.raises(SystemExit) as exit_status:
        main(["report", str(out)])  # in this process: quicker than a new one per case
    expected = {
        "missing": "no such folder",
        "a file": "out is not a folder",
        "empty": "holds no gradebook.sqlite: grade the class first",
        "bad json": "grades.json is not valid JSON",
        "not grades": "grades.json is not a batch's grades file",
        "not sqlite": "cannot use",
        "other sqlite": "gradebook.sqlite is not a gradebook (no batch wrote it)",
    }[case]
    stderr = capsys.readouterr().err
    assert exit_status.value.code == 2
    assert stderr.startswith("grade: ") and expected in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert not (out / "report.html").exists()
    if before is not None:  # the report reads, never writes, the gradebook
        assert (out / "gradebook.sqlite").read_bytes() == before


def test_the_command_exits_2_with_one_line_for_a_missing_folder(tmp_path):
    done = grade_report(tmp_path / "nowhere")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"grade: no such folder: {tmp_path / 'nowhere'}\n"


# -- in a real browser ---------------------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which(
    "chromium-browser")
SCREENSHOT = Path(os.environ.get("CLASS_REPORT_SCREENSHOT")
                  or REPO / "tests" / "artifacts" / "class-report.png")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--remote-debugging-pipe"]
#: What the page reports of itself once loaded.
INSPECT = """JSON.stringify({
    images: [...document.images].map(i => ({complete: i.complete, width: i.naturalWidth})),
    tables: [...document.querySelectorAll("table")].map(
        t => ({css: t.className, rows: t.tBodies[0].rows.length})),
    scripts: document.scripts.length,
    title: document.title,
    pwned: window.pwned === 1,
})"""


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4): JSON
    messages ended by NUL, no port and no extra dependency."""

    def __init__(self, executable: str, profile: Path) -> None:
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()

        def as_fds_3_and_4() -> None:  # in the child, before exec
            mine = os.dup(to_browser), os.dup(from_browser)  # above 4, whatever they were
            os.dup2(mine[0], 3)
            os.dup2(mine[1], 4)

        self.process = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=as_fds_3_and_4, close_fds=False)
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._id = 0
        self.events: list[dict] = []

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._read], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed its pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(event.get("method") == method for event in self.events):
            self.events.append(self._receive(deadline))

    def open(self, url: str) -> tuple[str, list[str], dict]:
        """Load ``url`` in a new tab; returns its session, the errors logged while loading and
        what INSPECT says of the page."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})
        session = session["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=session)
        self.call("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 900,
                                                         "deviceScaleFactor": 1,
                                                         "mobile": False}, session)
        self.events.clear()
        self.call("Page.navigate", {"url": url}, session)
        self.wait_for("Page.loadEventFired")
        inspected = self.call("Runtime.evaluate", {"expression": INSPECT,
                                                   "returnByValue": True}, session)
        return session, self.errors(), json.loads(inspected["result"]["value"])

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries seen so far."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                found.append(" ".join(str(a.get("value")) for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                found.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(params["entry"]["text"])
        return found

    def screenshot(self, session: str, path: Path) -> None:
        """The whole page (not only the viewport) as a PNG at ``path``."""
        size = self.call("Page.getLayoutMetrics", session=session)["cssContentSize"]
        shot = self.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                     "scale": 1}}, session)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except (OSError, EOFError, TimeoutError, RuntimeError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._write)
        os.close(self._read)


@pytest.fixture
def chromium(tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        browser = Chromium(CHROMIUM, Path(profile))
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.slow
def test_the_report_renders_in_chromium_without_errors(report, chromium, tmp_path):
    out, done, text = report
    assert done.returncode == 0, done.stderr
    # A spoiled copy first, to show that this test sees a broken image, an error and a script.
    spoiled = tmp_path / "spoiled.html"
    first_png = re.search(r'data:image/png;base64,[^"]+', text).group(0)
    spoiled.write_text(text.replace(first_png, "data:image/png;base64,AAAA", 1).replace(
        "</body>", "<script>window.pwned = 1</script></body>"), encoding="utf-8")
    _, errors, page = chromium.open(spoiled.as_uri())
    assert [image["width"] for image in page["images"]].count(0) == 1
    assert not page["pwned"], "the page's Content Security Policy let a script run"
    assert any("Content Security Policy" in error for error in errors), errors

    session, errors, page = chromium.open((out / "report.html").as_uri())
    chromium.screenshot(session, SCREENSHOT)
    assert errors == []
    assert page["title"] == "Backprop Lab class report"
    assert len(page["images"]) == len(EXERCISES) + 1
    assert all(image["complete"] and image["width"] > 0 for image in page["images"]), page
    assert [(table["css"], table["rows"]) for table in page["tables"]] == [
        ("stats", 3), ("rates", 5), ("rates", 2), ("mistakes", 2), ("failures", 4)]
    assert page["scripts"] == 0
    width, height = png_size(SCREENSHOT.read_bytes())
    assert width > 1200 and height > 900  # the whole page, taller than the window
