"""Scores written into nbgrader's gradebook are what nbgrader's own API (and so formgrader) reads back."""

from __future__ import annotations

import pytest
from class_corpus import make_exercise, make_report

from grader.classes import nbgrader as nbgrader_export
from grader.classes.gradebook import Record
from grader.classes.submissions import Student

api = pytest.importorskip("nbgrader.api", reason="nbgrader is optional: pip install nbgrader")


def _record(student: Student, conv_passed: bool, *, extra: list | None = None) -> Record:
    conv = make_exercise(
        "conv",
        [
            ("by hand", "public", 8, "passed", None),
            ("stride", "hidden", 12, "passed" if conv_passed else "failed", None if conv_passed else "mismatch"),
        ],
    )
    return Record(
        student=student,
        status="graded",
        origin="grade-all",
        source="x",
        content_hash="h",
        fingerprint="f",
        duration=1.0,
        report=make_report([conv, *(extra or [])]),
    )


# nbgrader's own add_submission builds objects outside its session; SQLAlchemy 2 warns about it.
@pytest.mark.filterwarnings("ignore:Object of type <Submitted:sqlalchemy.exc.SAWarning")
def test_scores_land_in_nbgrader_and_update_in_place(tmp_path, course):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    ada, ben = Student("ada", "Ada King Lovelace", "ada@uni.edu"), Student("ben")
    broken = Record(
        student=Student("eve"),
        status="broken",
        origin="grade-all",
        source="eve.zip",
        content_hash="",
        fingerprint="f",
        duration=0.0,
        error="not a zip",
    )
    written = nbgrader_export.write_scores(
        course, [_record(ada, True), _record(ben, False), broken], url, assignment="ps1"
    )
    assert (written.students, written.skipped) == (2, ("eve",))
    with api.Gradebook(url) as gradebook:
        cell = gradebook.find_grade_cell("conv", "conv", "ps1")
        assert (cell.max_score, cell.cell_type) == (20, "code")
        assert gradebook.find_grade("conv", "conv", "ps1", "ada").score == 20
        assert gradebook.find_grade("conv", "conv", "ps1", "ben").score == 8
        assert gradebook.find_submission("ps1", "ben").score == 8
        student = gradebook.find_student("ada")
        assert (student.first_name, student.last_name, student.email) == ("Ada King", "Lovelace", "ada@uni.edu")
        assert sorted(s.id for s in gradebook.students) == ["ada", "ben"]
    # Ben fixes his code, and a quiz is graded too: the same rows change, a notebook is added.
    quiz = make_exercise("quiz_conv", [("q1", "public", 2, "passed", None)])
    nbgrader_export.write_scores(course, [_record(ben, True, extra=[quiz])], url, assignment="ps1")
    with api.Gradebook(url) as gradebook:
        assert gradebook.find_grade("conv", "conv", "ps1", "ben").score == 20
        assert gradebook.find_grade("quiz_conv", "quiz_conv", "ps1", "ben").score == 2
        assert gradebook.find_submission("ps1", "ben").score == 22
        assert len(gradebook.find_assignment("ps1").submissions) == 2
