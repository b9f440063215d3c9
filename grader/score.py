"""Scoring policy, and only here: what a test, an exercise and a report are worth.

Exporters format these numbers; they never compute their own.
"""

from __future__ import annotations

from typing import Literal

from grader.results import ExerciseResult, GradeReport, TestResult

Status = Literal["passed", "partial", "failed", "not implemented", "error"]


def test_score(test: TestResult) -> float:
    return test.points if test.passed else 0.0


def is_graded_here(test: TestResult) -> bool:
    """Pending items (left to the instructor) count neither for nor against the automatic score."""
    return test.outcome != "pending"


def pending_points(exercise: ExerciseResult) -> float:
    return sum(t.points for t in exercise.tests if not is_graded_here(t))


def exercise_score(exercise: ExerciseResult) -> float:
    return sum(test_score(t) for t in exercise.tests)


def exercise_max_score(exercise: ExerciseResult) -> float:
    """Points at stake in this run: hidden tests that were not run are not counted."""
    if exercise.tests:
        return sum(t.points for t in exercise.tests if is_graded_here(t))
    return exercise.points - pending_points(exercise)


def exercise_status(exercise: ExerciseResult) -> Status:
    if any(t.outcome == "error" for t in exercise.tests) or (exercise.problem and not exercise.tests):
        return "error"
    score, most = exercise_score(exercise), exercise_max_score(exercise)
    if most and score == most:
        return "passed"
    graded = [t for t in exercise.tests if is_graded_here(t)]
    if graded and all(t.reason == "not_implemented" for t in graded):
        return "not implemented"
    return "partial" if score > 0 else "failed"


def total_score(report: GradeReport) -> float:
    return sum(exercise_score(e) for e in report.exercises)


def total_max_score(report: GradeReport) -> float:
    return sum(exercise_max_score(e) for e in report.exercises)


def percentage(report: GradeReport) -> float:
    most = total_max_score(report)
    return 100.0 * total_score(report) / most if most else 0.0


def classify(test: TestResult) -> tuple[str, str]:
    """(category, label) for a test, the one wording every exporter uses."""
    if test.passed:
        return "passed", "passed"
    if test.outcome == "pending":
        return "pending", "left to the instructor"
    labels = {
        "not_implemented": "not implemented yet",
        "timeout": "timed out",
        "crash": "crashed",
        "import": "cannot be imported",
        "forbidden": "forbidden call",
        "missing": "missing",
        "not_run": "not run",
        "grader": "grader error",
        "exception": "raised an exception",
        "mismatch": "wrong result",
    }
    category = "error" if test.outcome == "error" else "failed"
    return category, labels.get(test.reason or "", "failed")
