"""Our corpus of student submissions grades as it should.

`corpus/<exercise>/buggy_*.py` are the mistakes students really make: each must
lose points, with short feedback that blames the submission, never the grader.
`corpus/<exercise>/correct_*.py` are right answers written differently: each
must score full marks. Sibling modules a variant needs (efficientnet imports
scaling) come from reference/.
"""

from __future__ import annotations

import pytest

from grader import score
from grader.feedback import MAX_LINES
from support import CORPUS, ROOT, grade_source

VARIANTS = sorted(CORPUS.glob("*/*.py"))


def _grade(course, tmp_path, path):
    exercise_id = path.parent.name
    extra = {e.module: course.reference_file(e) for e in course.exercises
             if e.id != exercise_id and course.reference_file(e).is_file()}
    return grade_source(course, exercise_id, path, tmp_path, extra=extra)


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.name.startswith("correct_")],
                         ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_correct_alternatives_score_full_marks(course, tmp_path, variant):
    result = _grade(course, tmp_path, variant)
    assert [(t.name, t.message) for t in result.tests if not t.passed] == []
    assert score.exercise_score(result) == course.exercise(variant.parent.name).points


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.name.startswith("buggy_")],
                         ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_each_known_bug_loses_points_with_short_feedback(course, tmp_path, variant):
    result = _grade(course, tmp_path, variant)
    failing = [t for t in result.tests if not t.passed]
    assert failing, f"{variant.name} scored full marks"
    for test in failing:
        assert test.outcome == "failed", test.message  # the submission's fault, not the grader's
        assert len(test.message) + 1 <= MAX_LINES
        text = "\n".join(test.message)
        assert "Traceback" not in text and "grader/" not in text and "site-packages" not in text


def test_every_exercise_has_a_corpus(course):
    missing = [e.id for e in course.exercises
               if len(list((CORPUS / e.id).glob("buggy_*.py"))) < 5 or not list((CORPUS / e.id).glob("correct_*.py"))]
    assert missing == [], "each exercise needs at least five buggy and one correct variant"
