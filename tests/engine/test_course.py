"""Every exercise of the course is sound: reference full marks, stubs zero, stubs up to date.

Parametrized over course.toml, so a new exercise is covered the moment it is declared.
"""

from __future__ import annotations

import pytest
from support import ROOT, grade_source

from grader import score
from grader.course.manifest import load_course
from grader.course.stubs import stale_stubs

EXERCISES = [e.id for e in load_course(ROOT).exercises]


def test_generated_stubs_are_up_to_date(course):
    stale = [str(p.relative_to(ROOT)) for p in stale_stubs(course)]
    assert stale == [], "run `grader stubs` and commit exercises/"


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_reference_scores_full_marks(course, tmp_path, exercise_id):
    exercise = course.exercise(exercise_id)
    result = grade_source(
        course,
        exercise_id,
        course.reference_file(exercise),
        tmp_path,
        extra=_sibling_modules(course, exercise_id, course.reference_dir),
    )
    assert result.problem is None
    assert [(t.name, t.message) for t in result.tests if score.is_graded_here(t) and not t.passed] == []
    assert score.exercise_score(result) + score.pending_points(result) == exercise.points, (
        "the tests' points (automatic and left to the instructor) must add up to course.toml's"
    )


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_stub_scores_zero_with_not_implemented_yet(course, tmp_path, exercise_id):
    exercise = course.exercise(exercise_id)
    result = grade_source(
        course,
        exercise_id,
        course.exercises_dir / exercise.module,
        tmp_path,
        extra=_sibling_modules(course, exercise_id, course.exercises_dir),
    )
    graded = [t for t in result.tests if score.is_graded_here(t)]
    assert score.exercise_score(result) == 0
    assert graded and all(t.outcome == "failed" for t in graded)
    assert any("not implemented yet" in line for t in result.tests for line in t.message)


def _sibling_modules(course, exercise_id, folder):
    """Other modules of the same folder: exercises may import each other (efficientnet uses scaling)."""
    return {
        e.module: folder / e.module for e in course.exercises if e.id != exercise_id and (folder / e.module).is_file()
    }
