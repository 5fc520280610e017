"""Report formats: Markdown, HTML, JUnit XML and Gradescope JSON, and `grade --format/--output`."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from conftest import EXERCISES, REPO, SOLUTIONS, grade
from grader.formats import view
from grader.formats.gradescope import gradescope
from grader.formats.html import html
from grader.formats.junit import junit
from grader.formats.markdown import fenced, inline, markdown
from grader.result import CheckResult, ExerciseResult

HOSTILE = ("<script>alert(1)</script> ]]> \x00\x1b[31mred\x1b[0m | a `tick` ``` ~~~ $x$ "
           "<!-- * _em_ [link](http://x) &amp; 한국어\n") + "y" * 100_000
SECRET = "SECRET-7f3a"


@pytest.fixture(scope="module")
def graded() -> list[ExerciseResult]:
    """ex01 at full marks (solutions) and ex02 at zero (the learner stub)."""
    return [grade("ex01", SOLUTIONS), grade("ex02", EXERCISES / "ex02_losses.py")]


def hostile_result() -> ExerciseResult:
    """An exercise whose learner-controlled text tries to break every format."""
    return ExerciseResult(
        "ex03", "Gradient | `x`", "my|work`.py",
        checks=[
            CheckResult("numerical_diff matches", 0.0, 1.0, "failed", HOSTILE,
                        diagnosis="forward <b>difference</b>"),
            CheckResult("gradient is finite", 1.0, 1.0, "passed", "ok"),
            CheckResult("hidden gradient check", 0.0, 2.0, "failed", f"{SECRET} output",
                        diagnosis=f"{SECRET} diagnosis", hidden=True, kind="exception"),
            CheckResult("hidden passing check", 1.0, 1.0, "passed", f"{SECRET} pass", hidden=True),
        ],
        error="import failed: <b>| `x`",
        learner_output=HOSTILE,
        notes=["ex02 Loss functions is not finished (0/7)"],
    )


def md_tokens(text: str) -> list:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(text)


def table_rows(tokens: list) -> list[list[str]]:
    """The cells' raw inline text of each table row (header included)."""
    rows, row = [], None
    for token in tokens:
        if token.type == "tr_open":
            row = []
        elif token.type == "inline" and row is not None:
            row.append(token.content)
        elif token.type == "tr_close":
            rows.append(row)
            row = None
    return rows


class PageParser(HTMLParser):
    """The tags and the text of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)

    def handle_data(self, data) -> None:
        self.text.append(data)


def parse_page(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


# --- shared rules ---------------------------------------------------------------------------

def test_clean_removes_what_xml_forbids_and_colour_codes_and_keeps_text():
    assert view.clean("a\x00b\x1b[31mc\x1b[0m\x07\ud800\uffff\r\nd\te 한국어") == "abc\nd\te 한국어"
    assert view.clean("plain text") == "plain text"


def test_clip_says_how_much_was_left_out():
    assert view.clip("abc", 10) == "abc"
    assert view.clip("x" * 25, 10) == "x" * 10 + "... (15 more characters)"


# --- real graded results --------------------------------------------------------------------

def test_junit_of_real_results_parses_back_with_counts_failures_and_points(graded):
    root = ET.fromstring(junit(graded, student="alice"))
    assert root.tag == "testsuites" and root.get("name") == "Feedback for alice"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["ex01 Activation functions", "ex02 Loss functions"]
    for suite, result in zip(suites, graded, strict=True):
        failed = [c for c in result.checks if not c.passed]
        assert suite.get("tests") == str(len(result.checks))
        assert suite.get("failures") == str(len(failed))
        props = {p.get("name"): p.get("value") for p in suite.find("properties")}
        assert float(props["score"]) == result.score
        assert float(props["max_score"]) == result.max_score
        cases = suite.findall("testcase")
        assert [c.get("name") for c in cases] == [c.name for c in result.checks]
        assert {c.get("classname") for c in cases} == {result.exercise}
        for case, check in zip(cases, result.checks, strict=True):
            points = {p.get("name"): float(p.get("value")) for p in case.find("properties")}
            assert points == {"score": check.score, "max_score": check.max_score}
            failure = case.find("failure")
            assert (failure is None) == check.passed
            if failure is not None:
                assert failure.get("message") == check.output
    assert root.get("tests") == str(sum(len(r.checks) for r in graded))
    assert suites[0].get("failures") == "0" and suites[1].get("failures") == "7"
    # wall times in seconds: each check's, each exercise's (its checks and starting the
    # learner's process), and the sum of the exercises
    for suite, result in zip(suites, graded, strict=True):
        case_times = [float(case.get("time")) for case in suite.findall("testcase")]
        assert case_times == [round(c.seconds, 3) for c in result.checks]
        assert all(t >= 0 for t in case_times)
        assert float(suite.get("time")) == round(result.seconds, 3) > 0
        assert float(suite.get("time")) >= sum(case_times)
    assert float(root.get("time")) == pytest.approx(sum(r.seconds for r in graded), abs=1e-3)
    assert "not implemented yet" in suites[1].find("testcase/failure").get("message")


def test_markdown_of_real_results_has_headline_table_and_failed_checks(graded):
    text = markdown(graded, student="alice")
    ex01, ex02 = graded
    tokens = md_tokens(text)
    assert tokens[0].type == "heading_open" and tokens[1].content == "Feedback for alice"
    assert f"{ex01.score + ex02.score:g}/{ex01.max_score + ex02.max_score:g} points, failed" in text
    assert table_rows(tokens) == [
        ["exercise", "title", "score", "max", "status"],
        ["ex01", "Activation functions", f"{ex01.score:g}", f"{ex01.max_score:g}", "passed"],
        ["ex02", "Loss functions", "0", f"{ex02.max_score:g}", "failed"],
    ]
    headings = [t.content for t, o in zip(tokens[1:], tokens, strict=False)
                if o.type == "heading_open" and o.tag == "h2"]
    assert headings == [f"ex02 Loss functions: 0/{ex02.max_score:g}"]  # ex01 passed: no section
    items = [t.content for t in tokens if t.type == "inline" and "not implemented yet" in t.content]
    assert len(items) == len(ex02.checks)


def test_markdown_names_the_likely_mistake(graded):
    check = CheckResult("mean_squared_error matches the reference", 0, 1, "failed",
                        "mean_squared_error sums; largest error 3", diagnosis="mse not averaged")
    result = ExerciseResult("ex02", "Loss functions", "ex02_losses.py", checks=[check])
    # worded as in the text table: the label, then the check's explanation
    assert "(0/1): Likely mistake: mean_squared_error sums; largest error 3" in markdown([result])
    assert "Likely mistake" not in markdown(graded)  # "not implemented" is said already


def test_html_of_real_results_is_one_self_contained_page(graded):
    page = html(graded, student="alice")
    parsed = parse_page(page)
    assert page.startswith("<!DOCTYPE html>")
    assert "script" not in parsed.tags and "link" not in parsed.tags and "img" not in parsed.tags
    assert "http" not in page and "src=" not in page
    text = "".join(parsed.text)
    assert "Feedback for alice" in text
    for check in graded[1].checks:
        assert check.name in text
    assert parsed.tags.count("tr") == 3


def test_gradescope_of_real_results_prefixes_exercise_ids(graded):
    data = gradescope(graded)
    json.dumps(data)  # serialisable
    assert data["score"] == sum(r.score for r in graded)
    assert data["max_score"] == sum(r.max_score for r in graded)
    names = [t["name"] for t in data["tests"]]
    assert names == [f"{r.exercise}: {c.name}" for r in graded for c in r.checks]
    assert data["execution_time"] == round(sum(r.seconds for r in graded), 3)
    for test in data["tests"]:
        assert {"name", "score", "max_score", "status", "output"} <= test.keys()
        assert test["extra_data"]["seconds"] >= 0
    not_implemented = [t for t in data["tests"] if t["name"].startswith("ex02")]
    assert all(t["extra_data"].keys() == {"diagnosis", "kind", "seconds"}
               and t["extra_data"]["diagnosis"] == "not implemented"
               and t["extra_data"]["kind"] == "not_implemented" for t in not_implemented)


# --- hostile learner text -------------------------------------------------------------------

def test_junit_is_valid_xml_for_any_learner_output():
    document = junit([hostile_result()])
    root = ET.fromstring(document)  # expat rejects what XML 1.0 forbids
    suite = root.find("testsuite")
    assert suite.get("name") == "ex03 Gradient | `x`"
    assert (suite.get("tests"), suite.get("failures")) == ("4", "2")
    failure = suite.find("testcase/failure")
    assert failure.get("message").startswith("Likely mistake: <script>alert(1)</script> ]]> "
                                             "red | a `tick`")
    assert failure.text.startswith("Likely mistake: <script>alert(1)</script> ]]> red")
    assert failure.get("type") == "forward <b>difference</b>"
    out = suite.find("system-out").text
    assert out.startswith("<script>") and "\x00" not in out and "\x1b" not in out
    assert "한국어" in out
    assert len(document) < 150_000


def test_markdown_shows_hostile_text_literally_without_breaking_structure():
    text = markdown([hostile_result()])
    tokens = md_tokens(text)
    rows = table_rows(tokens)
    assert len(rows) == 2 and all(len(row) == 5 for row in rows)
    assert rows[1][:2] == ["ex03", "Gradient | \\`x\\`"]  # the table parser unescaped "|"
    raw_html = {t.content for t in tokens if t.type == "html_block"}
    inline_html = {c.content for t in tokens if t.children for c in t.children
                   if c.type == "html_inline"}
    assert not raw_html and inline_html <= {"<br>"}
    kinds = [c.type for t in tokens if t.children for c in t.children]
    assert not {"code_inline", "link_open", "s_open"} & set(kinds)
    assert "em_open" not in kinds
    fences = [t for t in tokens if t.type == "fence"]
    assert len(fences) == 1
    assert fences[0].content.startswith("<script>alert(1)</script> ]]> red | a `tick` ``` ~~~")
    rendered = MarkdownIt("commonmark").enable("table").render(text)
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    assert "\x00" not in text and "\x1b" not in text
    assert len(text) < 10_000  # 10^5 characters clipped


def test_html_escapes_learner_text():
    page = html([hostile_result()])
    parsed = parse_page(page)
    assert set(parsed.tags) <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p",
                                "strong", "em", "table", "thead", "tbody", "tr", "th", "td",
                                "section", "code", "ul", "li", "pre"}
    text = "".join(parsed.text)
    assert "<script>alert(1)</script> ]]> red | a `tick`" in text
    assert "import failed: <b>| `x`" in text
    assert "\x00" not in page and "\x1b" not in page
    assert len(page) < 15_000


@pytest.mark.parametrize("render", [markdown, html, junit])
def test_hidden_checks_show_name_and_points_but_never_their_output(render):
    document = render([hostile_result()])
    assert SECRET not in document
    assert "hidden gradient check" in document


def test_gradescope_keeps_hidden_checks_for_after_publishing():
    tests = {t["name"]: t for t in gradescope([hostile_result()])["tests"]}
    hidden = tests["ex03: hidden gradient check"]
    assert hidden["visibility"] == "after_published"
    assert hidden["output"] == f"Likely mistake: {SECRET} output"  # as the table words it
    assert hidden["extra_data"] == {"diagnosis": f"{SECRET} diagnosis", "kind": "exception"}
    assert "visibility" not in tests["ex03: gradient is finite"]
    assert SECRET not in gradescope([hostile_result()])["output"]


def test_inline_and_fenced_escape_what_would_otherwise_be_markup():
    assert inline("a|b `c` <i> $x$ _y_ snake_case") == \
        "a\\|b \\`c\\` \\<i\\> \\$x\\$ \\_y\\_ snake_case"
    assert inline("one\ntwo") == "one<br>two"
    assert fenced("a ```` b").startswith("`````text\n")


# --- the command line -----------------------------------------------------------------------

def run_grade(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=120)


def test_cli_junit_output_file_and_text_report_on_screen(tmp_path):
    report = tmp_path / "report.xml"
    done = run_grade("ex02", "--path", str(SOLUTIONS), "--format", "junit",
                     "--output", str(report))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Total for ex02: 7/7" in done.stdout and "<testsuite" not in done.stdout
    suite = ET.parse(report).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("7", "0")


def test_cli_markdown_to_stdout_and_summary_appended_twice(tmp_path):
    summary = tmp_path / "summary.md"
    first = run_grade("ex02", "--path", str(SOLUTIONS), "--summary", str(summary))
    assert first.returncode == 0
    after_first = summary.read_text()
    second = run_grade("ex02", "--path", str(EXERCISES / "ex02_losses.py"),
                       "--format", "markdown", "--summary", str(summary))
    assert second.returncode == 1
    assert second.stdout.startswith("# ") and "| ex02 | Loss functions | 0 | 7 | failed |" \
        in second.stdout
    both = summary.read_text()
    assert both.startswith(after_first) and both == after_first + "\n" + second.stdout
    assert [line for line in both.splitlines() if line.startswith("# ")] == \
        ["# Backprop Lab grading report"] * 2


@pytest.mark.parametrize(("option", "target"), [
    ("--output", "{tmp}/no/such/folder/report.xml"),
    ("--output", "{tmp}"),
    ("--summary", "{tmp}/no/such/folder/summary.md"),
])
def test_cli_unwritable_file_is_a_one_line_usage_error(tmp_path, option, target):
    done = run_grade("ex02", "--path", str(SOLUTIONS), "--format", "junit", option,
                     target.format(tmp=tmp_path))
    assert done.returncode == 2
    assert done.stdout == ""  # refused before grading
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("grade: ") and "Traceback" not in done.stderr + done.stdout


def test_cli_an_empty_summary_path_is_refused_before_grading(tmp_path):
    """`--summary "$GITHUB_STEP_SUMMARY"` with the variable unset, as when run locally."""
    done = run_grade("ex02", "--path", str(SOLUTIONS), "--summary", "")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("grade: ") and "is a folder, not a file" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
