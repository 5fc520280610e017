"""JUnit XML of results, for CI systems that show test reports (GitHub, GitLab, Jenkins).

One ``<testsuite>`` per exercise, one ``<testcase>`` per check with ``score`` and ``max_score``
properties and the message the text table shows; an error that stopped the grading is the
suite's ``<system-err>``, once. ``time`` is each one's wall time in seconds, left out where it
was not measured or must not be shown (hidden checks: see ``ExerciseResult.redacted``). Text
is cleaned of characters XML 1.0 forbids, so any learner output gives valid XML.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from grader.formats import view
from grader.result import CheckResult, ExerciseResult

#: Characters of the learner's printed output kept in ``<system-out>`` (the runner keeps 64 KiB).
SYSTEM_OUT_CHARS = 64 * 1024


def _properties(parent: ET.Element, pairs: list[tuple[str, str]]) -> None:
    properties = ET.SubElement(parent, "properties")
    for name, value in pairs:
        ET.SubElement(properties, "property", name=name, value=value)


def _time(seconds: float | None) -> dict[str, str]:
    """JUnit's ``time`` attribute: seconds with millisecond precision; none when not known."""
    return {} if seconds is None else {"time": f"{seconds:.3f}"}


def _testcase(suite: ET.Element, exercise: str, check: CheckResult, message: str) -> None:
    case = ET.SubElement(suite, "testcase", classname=exercise,
                         name=view.clean(view.check_title(check)),
                         **_time(check.seconds))
    _properties(case, [("score", view.points(check.score)),
                       ("max_score", view.points(check.max_score))])
    if check.passed:
        return
    message = view.clip(message)
    failure = ET.SubElement(case, "failure", message=message,
                            type=view.clean(check.diagnosis or check.kind or "failed"))
    failure.text = message


def _testsuite(parent: ET.Element, result: ExerciseResult) -> None:
    failures = len(view.failed_checks(result))
    suite = ET.SubElement(parent, "testsuite", name=view.clean(f"{result.exercise} {result.title}"),
                          tests=str(len(result.checks)), failures=str(failures), errors="0",
                          skipped="0", **_time(result.seconds))
    pairs = [("score", view.points(result.score)), ("max_score", view.points(result.max_score))]
    if result.graded_file:
        pairs.append(("graded_file", view.clean(result.graded_file)))
    pairs += [("note", view.clip(note)) for note in result.notes]
    if result.fault:
        pairs.append(("fault", result.fault))
    _properties(suite, pairs)
    for check, message in zip(result.checks, view.check_messages(result), strict=True):
        _testcase(suite, view.clean(result.exercise), check, message)
    if result.learner_output:
        ET.SubElement(suite, "system-out").text = view.clip(result.learner_output,
                                                            SYSTEM_OUT_CHARS)
    if result.error:  # the checks that did not run only refer to it
        ET.SubElement(suite, "system-err").text = view.clip(result.error)


def _total_seconds(results: Sequence[ExerciseResult]) -> float | None:
    measured = [r.seconds for r in results if r.seconds is not None]
    return round(sum(measured), 3) if measured else None


def junit(results: Sequence[ExerciseResult], student: str | None = None) -> str:
    """The JUnit XML document (UTF-8 declared), hidden checks redacted."""
    results = view.learner_view(results)
    root = ET.Element("testsuites", name=view.title(student),
                      tests=str(sum(len(r.checks) for r in results)),
                      failures=str(sum(len(view.failed_checks(r)) for r in results)), errors="0",
                      **_time(_total_seconds(results)))
    for result in results:
        _testsuite(root, result)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
