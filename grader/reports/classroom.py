"""The runner result GitHub Classroom's autograding reporter reads.

`{"version": 1, "status": "pass"|"fail"|"error", "max_score": N, "tests": [...]}`
with, per test, `name`, `status`, `score`, `message`, `test_code`, `filename`,
`line_no` and `execution_time`: the shape the classroom runner actions
(command, io and python graders) put, base64-encoded, in their `result`
output. The reporter shows each test and posts the sum of the tests' `score`
out of the sum of the runners' `max_score`, which counts hidden tests that
did not run (CI without the key). Items left to the instructor are not
listed (they count neither for nor against the automatic score), and a hidden
test's feedback is shown only when course.toml's hidden_visibility is
"visible": a CI log is read before the due date.
"""

from __future__ import annotations

import dataclasses
import json

from grader import score
from grader.results import ExerciseResult, GradeReport, TestResult

HIDDEN_FEEDBACK = "a hidden test: its feedback is shown after the due date"


def as_dict(report: GradeReport) -> dict:
    tests = [_test(t, report.hidden_visibility) for e in report.exercises for t in e.tests if score.is_graded_here(t)]
    tests += [_exercise_problem(e) for e in report.exercises if e.problem and not e.tests]
    # Hidden tests that did not run (no key in CI) still count in the maximum: never full marks without them.
    most = score.total_max_score(report) + sum(e.hidden_points_not_run for e in report.exercises)
    result = {"version": 1, "status": _status(tests), "max_score": most, "tests": tests}
    if report.notes:
        result["message"] = "\n".join(report.notes)  # the runner format's top-level message; the summary shows it
    return result


def render(report: GradeReport) -> str:
    return json.dumps(as_dict(report), indent=2) + "\n"


def visible_feedback(test: TestResult, hidden_visibility: str) -> list[str]:
    """The feedback lines a CI log may show for `test` (shared with the JUnit report)."""
    if test.passed:
        return []
    if test.kind == "hidden" and hidden_visibility != "visible":
        return [HIDDEN_FEEDBACK]
    lines = list(test.message) or [score.classify(test)[1]]
    if test.diagnosis:
        lines.append(f"diagnosis: {test.diagnosis}")
    if test.hint:
        lines.append(f"hint: {test.hint}")
    return lines


def without_hidden_feedback(report: GradeReport) -> GradeReport:
    """The report as a student may read it in CI: a hidden test's messages, hint and diagnosis
    wait for the due date unless course.toml's hidden_visibility is "visible" (its score stays)."""
    if report.hidden_visibility == "visible":
        return report

    def shown(test: TestResult) -> TestResult:
        if test.kind != "hidden" or test.passed:
            return test
        return dataclasses.replace(test, message=(HIDDEN_FEEDBACK,), hint=None, diagnosis=None)

    exercises = tuple(dataclasses.replace(e, tests=tuple(shown(t) for t in e.tests)) for e in report.exercises)
    return dataclasses.replace(report, exercises=exercises)


def _test(test: TestResult, hidden_visibility: str) -> dict:
    status = "pass" if test.passed else "error" if test.outcome == "error" else "fail"
    return {
        "name": f"{test.exercise}: {test.name}",
        "status": status,
        "score": score.test_score(test),
        "message": "\n".join(visible_feedback(test, hidden_visibility)) or None,
        "test_code": test.test_id,
        "filename": test.test_id.split("::")[0],
        "line_no": 0,
        "execution_time": f"{test.duration:.3f}s",
    }


def _exercise_problem(exercise: ExerciseResult) -> dict:
    """An exercise that produced no test at all still shows up, as one errored line."""
    return {
        "name": f"{exercise.id}: {exercise.title}",
        "status": "error",
        "score": 0,
        "message": exercise.problem,
        "test_code": "",
        "filename": "",
        "line_no": 0,
        "execution_time": f"{exercise.duration:.3f}s",
    }


def _status(tests: list[dict]) -> str:
    """pass: every test passed; error: none ran properly; fail: anything else (the reporter's reading)."""
    if not tests or all(t["status"] == "error" for t in tests):
        return "error"
    return "pass" if all(t["status"] == "pass" for t in tests) else "fail"
