"""Assignments: a due date and a late policy, applied by `score` and shown in every report."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from support import ROOT

from grader import score
from grader.course.manifest import AssignmentSpec, CourseError, load_course
from grader.engine.runner import GradeOptions, grade
from grader.reports import json_report, text_report
from grader.results import ExerciseResult, GradeReport, Lateness, TestResult, from_json, to_json

DUE = "2026-12-11T23:59:00+00:00"


def _report(policy: str, submitted_at: str, per_day: float = 10.0) -> GradeReport:
    test = TestResult(exercise="conv", test_id="t", name="t", kind="public", points=10.0, outcome="passed")
    exercise = ExerciseResult(id="conv", title="conv", section="s", points=10, tests=(test,))
    return GradeReport(
        course="c", submission="s", exercises=(exercise,), lateness=Lateness("a1", DUE, submitted_at, policy, per_day)
    )


@pytest.mark.parametrize(
    "submitted_at, days",
    [
        ("2026-12-11T23:59:00+00:00", 0),
        ("2026-12-11T23:59:01+00:00", 1),
        ("2026-12-12T23:59:00+00:00", 1),
        ("2026-12-13T00:00:00+00:00", 2),
        ("2026-12-01T00:00:00+00:00", 0),
        ("2026-12-12T01:00:00+02:00", 0),  # 23:00 UTC, before the deadline
    ],
)
def test_days_late_are_started_days(submitted_at, days):
    assert score.days_late(_report("penalty", submitted_at).lateness) == days


def test_penalty_per_day_is_taken_off_the_score():
    assert score.total_score(_report("penalty", "2026-12-13T00:00:00+00:00")) == 8.0
    assert score.total_score(_report("penalty", "2026-12-11T00:00:00+00:00")) == 10.0
    assert score.total_score(_report("penalty", "2027-03-01T00:00:00+00:00")) == 0.0  # never below zero


def test_refuse_scores_a_late_submission_zero_and_none_ignores_lateness():
    assert score.total_score(_report("refuse", "2026-12-12T00:00:00+00:00")) == 0.0
    assert score.total_score(_report("refuse", "2026-12-11T00:00:00+00:00")) == 10.0
    assert score.total_score(_report("none", "2027-01-01T00:00:00+00:00")) == 10.0


def test_reports_carry_the_assignment_and_the_penalty():
    report = _report("penalty", "2026-12-13T00:00:00+00:00")
    data = json_report.as_dict(report)
    assert data["score"] == 8.0 and data["max_score"] == 10.0
    assert data["assignment"] == {
        "id": "a1",
        "due": DUE,
        "submitted_at": "2026-12-13T00:00:00+00:00",
        "days_late": 2,
        "late_policy": "penalty",
        "penalty_percent": 20.0,
        "score_before_penalty": 10.0,
    }
    assert "assignment a1: 2 days late" in text_report.render(report)
    assert from_json(json.loads(json.dumps(to_json(report)))) == report


def test_grading_an_assignment_grades_its_items_with_its_policy(course):
    assignment = AssignmentSpec(
        id="conv-only",
        title="t",
        items=("conv",),
        due=dt.datetime.fromisoformat(DUE),
        late_policy="penalty",
        penalty_per_day=25,
    )
    course = dataclasses.replace(course, assignments=(assignment,))
    report = grade(
        course, ROOT / "reference", GradeOptions(assignment="conv-only", submitted_at=dt.datetime(2026, 12, 12, 8, 0))
    )
    assert [e.id for e in report.exercises] == ["conv"]
    assert score.raw_total_score(report) == 20 and score.total_score(report) == 15


def test_an_assignment_naming_an_unknown_item_is_refused(tmp_path):
    text = (ROOT / "course.toml").read_text()
    broken = text + '\n[[assignment]]\nid = "zz"\ntitle = "t"\nitems = ["nope"]\ndue = 2026-01-01T00:00:00Z\n'
    for name in ("docs", "reference", "exercises", "tests", "quizzes"):
        if (ROOT / name).exists():
            (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / "course.toml").write_text(broken)
    with pytest.raises(CourseError, match=r"assignment\[zz\].items': no exercise or quiz 'nope'"):
        load_course(tmp_path)
