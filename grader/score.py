"""Scoring policy, and only here: what a test, an exercise and a report are worth.

Exporters format these numbers; they never compute their own.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

from grader.results import ExerciseResult, GradeReport, Lateness, TestResult

Status = Literal["passed", "partial", "failed", "not implemented", "error"]


def test_score(test: TestResult) -> float:
    """All or nothing, except a manual item, which is worth what the instructor gave it."""
    if test.awarded is not None:
        return test.awarded
    return test.points if test.passed else 0.0


def is_manual(test: TestResult) -> bool:
    """An item left to the instructor (`@pytest.mark.manual`), whether graded by hand yet or not."""
    return test.reason == "manual" or test.awarded is not None


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


def raw_total_score(report: GradeReport) -> float:
    """Points earned, before any late penalty."""
    return sum(exercise_score(e) for e in report.exercises)


def days_late(lateness: Lateness) -> int:
    """Started days past the due date: one second late is one day late."""
    late_by = dt.datetime.fromisoformat(lateness.submitted_at) - dt.datetime.fromisoformat(lateness.due)
    return max(0, math.ceil(late_by / dt.timedelta(days=1)))


def late_penalty_percent(report: GradeReport) -> float:
    lateness = report.lateness
    if lateness is None or lateness.policy == "none" or days_late(lateness) == 0:
        return 0.0
    if lateness.policy == "refuse":
        return 100.0
    return min(100.0, days_late(lateness) * lateness.penalty_per_day)


def total_score(report: GradeReport) -> float:
    """Points earned, after the late penalty of the assignment's policy."""
    return round(raw_total_score(report) * (1 - late_penalty_percent(report) / 100), 6)


def total_max_score(report: GradeReport) -> float:
    return sum(exercise_max_score(e) for e in report.exercises)


def percentage(report: GradeReport) -> float:
    most = total_max_score(report)
    return 100.0 * total_score(report) / most if most else 0.0


def shown_failures(failing: list[TestResult]) -> list[TestResult]:
    """The failures every exporter shows: one import error is enough, the same message on
    every test says nothing new."""
    seen, kept = set(), []
    for test in failing:
        key = (test.reason, test.message[-1:]) if test.reason in ("import", "not_run", "forbidden") else (test.test_id,)
        if key not in seen:
            seen.add(key)
            kept.append(test)
    return kept


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
        "manual": "graded by the instructor",
    }
    category = "error" if test.outcome == "error" else "failed"
    return category, labels.get(test.reason or "", "failed")
