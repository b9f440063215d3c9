"""Gradescope's results.json, with the course's own keys beside it.

Gradescope reads `score`, `output`, and `tests[]` with `name`, `score`,
`max_score`, `status`, `visibility`, `output`; we add `max_score` at the top,
`exercises[]`, and per test an `extra_data` object (exercise, reason,
diagnosis, duration) that Gradescope keeps and ignores.
"""

from __future__ import annotations

import json

from grader import score
from grader.results import ExerciseResult, GradeReport, TestResult


def as_dict(report: GradeReport) -> dict:
    return {
        "score": score.total_score(report),
        "max_score": score.total_max_score(report),
        "output": _summary(report),
        "tests": [
            _test(t, report.hidden_visibility) for e in report.exercises for t in e.tests if score.is_graded_here(t)
        ],
        "pending": [_pending(t) for e in report.exercises for t in e.tests if not score.is_graded_here(t)],
        "exercises": [_exercise(e) for e in report.exercises],
        "public_only": report.public_only,
        "notes": list(report.notes),
        "tampered": list(report.tampered),
        "assignment": _assignment(report),
    }


def render(report: GradeReport) -> str:
    return json.dumps(as_dict(report), indent=2) + "\n"


def _test(test: TestResult, hidden_visibility: str) -> dict:
    lines = list(test.message)
    if test.hint:
        lines.append(f"hint: {test.hint}")
    return {
        "name": f"{test.exercise}: {test.name}",
        "score": score.test_score(test),
        "max_score": test.points,
        "status": "passed" if test.passed else "failed",
        "visibility": "visible" if test.kind == "public" else hidden_visibility,
        "output": "\n".join(lines),
        "extra_data": {
            "exercise": test.exercise,
            "test_id": test.test_id,
            "kind": test.kind,
            "reason": test.reason,
            "diagnosis": test.diagnosis,
            "diagnoses": list(test.diagnoses),
            "duration": test.duration,
        },
    }


def _assignment(report: GradeReport) -> dict | None:
    lateness = report.lateness
    if lateness is None:
        return None
    return {
        "id": lateness.assignment,
        "due": lateness.due,
        "submitted_at": lateness.submitted_at,
        "days_late": score.days_late(lateness),
        "late_policy": lateness.policy,
        "penalty_percent": score.late_penalty_percent(report),
        "score_before_penalty": score.raw_total_score(report),
    }


def _pending(test: TestResult) -> dict:
    """An item an instructor grades by hand: kept out of `tests`, whose points Gradescope adds up."""
    return {
        "name": f"{test.exercise}: {test.name}",
        "exercise": test.exercise,
        "points": test.points,
        "output": "\n".join(test.message),
    }


def _exercise(exercise: ExerciseResult) -> dict:
    return {
        "id": exercise.id,
        "title": exercise.title,
        "score": score.exercise_score(exercise),
        "max_score": score.exercise_max_score(exercise),
        "status": score.exercise_status(exercise),
        "problem": exercise.problem,
        "hidden_points_not_run": exercise.hidden_points_not_run,
        "pending_points": score.pending_points(exercise),
        "output": exercise.output,
        "duration": exercise.duration,
    }


def _summary(report: GradeReport) -> str:
    lines = [
        f"{e.id}: {score.exercise_score(e):g}/{score.exercise_max_score(e):g} ({score.exercise_status(e)})"
        for e in report.exercises
    ]
    return "\n".join(lines + list(report.notes))
