"""JUnit XML of results, for CI systems that show test reports (GitHub, GitLab, Jenkins).

One ``<testsuite>`` per exercise, one ``<testcase>`` per check with ``score`` and ``max_score``
properties; ``time`` is each one's wall time in seconds. Text is cleaned of characters XML 1.0
forbids, so any learner output gives valid XML.
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


def _time(seconds: float | None) -> str:
    """JUnit's ``time`` attribute: seconds with millisecond precision (0 when not measured)."""
    return f"{seconds or 0.0:.3f}"


def _testcase(suite: ET.Element, exercise: str, check: CheckResult) -> None:
    case = ET.SubElement(suite, "testcase", classname=exercise, name=view.clean(check.name),
                         time=_time(check.seconds))
    _properties(case, [("score", view.points(check.score)),
                       ("max_score", view.points(check.max_score))])
    if check.passed:
        return
    message = view.clip(check.output)
    details = message
    mistake = view.mistake(check)
    if mistake:
        details += f"\nLikely mistake: {view.clean(mistake)}"
    failure = ET.SubElement(case, "failure", message=message,
                            type=view.clean(check.diagnosis or check.kind or "failed"))
    failure.text = details


def _testsuite(parent: ET.Element, result: ExerciseResult) -> None:
    failures = len(view.failed_checks(result))
    suite = ET.SubElement(parent, "testsuite", name=view.clean(f"{result.exercise} {result.title}"),
                          tests=str(len(result.checks)), failures=str(failures), errors="0",
                          skipped="0", time=_time(result.seconds))
    pairs = [("score", view.points(result.score)), ("max_score", view.points(result.max_score))]
    if result.graded_file:
        pairs.append(("graded_file", view.clean(result.graded_file)))
    pairs += [("note", view.clip(note)) for note in result.notes]
    if result.error:
        pairs.append(("error", view.clip(result.error)))
    if result.fault:
        pairs.append(("fault", result.fault))
    _properties(suite, pairs)
    for check in result.checks:
        _testcase(suite, view.clean(result.exercise), check)
    if result.learner_output:
        ET.SubElement(suite, "system-out").text = view.clip(result.learner_output,
                                                            SYSTEM_OUT_CHARS)


def junit(results: Sequence[ExerciseResult], student: str | None = None) -> str:
    """The JUnit XML document (UTF-8 declared), hidden checks redacted."""
    results = view.learner_view(results)
    root = ET.Element("testsuites", name=view.title(student),
                      tests=str(sum(len(r.checks) for r in results)),
                      failures=str(sum(len(view.failed_checks(r)) for r in results)), errors="0",
                      time=_time(sum(r.seconds or 0.0 for r in results)))
    for result in results:
        _testsuite(root, result)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
