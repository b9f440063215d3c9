"""JUnit XML, for any CI that reads it (Jenkins, GitLab, the test-result actions of GitHub).

One `<testsuite>` per exercise, one `<testcase>` per test (classname
`<exercise>.<public|hidden>`); a wrong result is a `<failure>`, a test the
grader could not run is an `<error>`, an item left to the instructor is
`<skipped>`. The exercise's points are `<property>` elements of its suite
(JUnit has no place for a test's points). Feedback follows the classroom
report's visibility rule.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from grader import score
from grader.reports.classroom import visible_feedback
from grader.results import ExerciseResult, GradeReport, TestResult


def render(report: GradeReport) -> str:
    suites = [_suite(e, report.hidden_visibility) for e in report.exercises]
    root = ET.Element("testsuites", name=report.course, **_counts(suites))
    root.extend(suites)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(exercise: ExerciseResult, hidden_visibility: str) -> ET.Element:
    cases = [_case(t, hidden_visibility) for t in exercise.tests]
    if exercise.problem and not exercise.tests:
        case = ET.Element("testcase", classname=exercise.id, name=exercise.title, time="0.000")
        ET.SubElement(case, "error", message=exercise.problem, type="exercise")
        cases.append(case)
    suite = ET.Element("testsuite", name=exercise.id, **_counts(cases))  # no timestamp: same run, same file
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("title", exercise.title),
        ("score", f"{score.exercise_score(exercise):g}"),
        ("max_score", f"{score.exercise_max_score(exercise):g}"),
        ("status", score.exercise_status(exercise)),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    suite.extend(cases)
    if exercise.problem and exercise.tests:
        ET.SubElement(suite, "system-err").text = exercise.problem
    if exercise.output:
        ET.SubElement(suite, "system-out").text = exercise.output
    return suite


def _case(test: TestResult, hidden_visibility: str) -> ET.Element:
    case = ET.Element(
        "testcase",
        classname=f"{test.exercise}.{test.kind}",
        name=test.name,
        file=test.test_id.split("::")[0],
        time=f"{test.duration:.3f}",
    )
    category, label = score.classify(test)
    if category == "pending":
        ET.SubElement(case, "skipped", message=label)
    elif category != "passed":
        element = ET.SubElement(
            case, "error" if category == "error" else "failure", message=label, type=test.reason or category
        )
        element.text = "\n".join(visible_feedback(test, hidden_visibility))
    return case


def _counts(elements: list[ET.Element]) -> dict[str, str]:
    """tests/failures/errors/skipped/time of a list of testcases, or of testsuites (summed)."""
    if elements and elements[0].tag == "testsuite":
        keys = ("tests", "failures", "errors", "skipped")
        counts = {k: str(sum(int(e.get(k)) for e in elements)) for k in keys}
        return counts | {"time": f"{sum(float(e.get('time')) for e in elements):.3f}"}
    return {
        "tests": str(len(elements)),
        "failures": str(sum(1 for e in elements if e.find("failure") is not None)),
        "errors": str(sum(1 for e in elements if e.find("error") is not None)),
        "skipped": str(sum(1 for e in elements if e.find("skipped") is not None)),
        "time": f"{sum(float(e.get('time')) for e in elements):.3f}",
    }
