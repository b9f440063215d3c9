"""Scores into nbgrader's own gradebook, so instructors who use formgrader see them there.

Written through nbgrader's public API (`nbgrader.api.Gradebook`), never its tables: the
assignment gets one notebook per exercise and quiz (named by id) holding one autograded
grade cell of the exercise's points; each student's submission gets that cell's
`auto_score`. A cell whose exercise still has items left to the instructor (manual items not
yet graded with `grader review`) is marked `needs_manual_grade`, so formgrader lists it for a
manual score; items graded with `grader review` are in the `auto_score` already.
nbgrader is optional: `pip install nbgrader`.
"""

from __future__ import annotations

import dataclasses

from grader import score
from grader.classes.exports import columns
from grader.classes.gradebook import Record
from grader.course.manifest import Course


class NbgraderMissing(Exception):
    """nbgrader is not installed."""


@dataclasses.dataclass(frozen=True)
class Written:
    students: int
    cells: int
    skipped: tuple[str, ...]  #: students without a report (broken submissions)


def write_scores(
    course: Course, records: list[Record], url: str, *, assignment: str, course_id: str = "default_course"
) -> Written:
    """Create or update `assignment` in the nbgrader gradebook at `url` with every graded student's scores."""
    try:
        from nbgrader.api import Gradebook, MissingEntry
    except ImportError:
        raise NbgraderMissing("writing to nbgrader's gradebook needs nbgrader: pip install nbgrader") from None
    graded = [r for r in records if r.report is not None]
    cells = _cells(course, graded)
    with Gradebook(url, course_id=course_id) as gradebook:
        gradebook.update_or_create_assignment(assignment)
        for name, max_score in cells.items():
            gradebook.update_or_create_notebook(name, assignment)
            gradebook.update_or_create_grade_cell(name, name, assignment, max_score=max_score, cell_type="code")
        for record in graded:
            _write_student(gradebook, MissingEntry, record, assignment, cells)
    return Written(len(graded), len(cells), tuple(r.student.id for r in records if r.report is None))


def _cells(course: Course, graded: list[Record]) -> dict[str, float]:
    points = {e.id: float(e.points) for e in course.exercises}
    for record in graded:
        for exercise in record.report.exercises:
            points.setdefault(exercise.id, float(exercise.points))
    return {i: points[i] for i in columns(course, graded) if i in points}


def _write_student(
    gradebook, missing_entry: type[Exception], record: Record, assignment: str, cells: dict[str, float]
) -> None:
    first, _, last = (record.student.name or "").rpartition(" ")
    gradebook.update_or_create_student(
        record.student.id, first_name=first or last, last_name=last if first else "", email=record.student.email or None
    )
    try:
        gradebook.find_submission(assignment, record.student.id)
    except missing_entry:
        gradebook.add_submission(assignment, record.student.id)  # mirrors every notebook and cell
    by_id = {e.id: e for e in record.report.exercises}
    for name in cells:
        if name not in by_id:
            continue
        try:
            grade = gradebook.find_grade(name, name, assignment, record.student.id)
        except missing_entry:  # a notebook added to the assignment after this submission was made
            _mirror_notebook(gradebook, name, assignment, record.student.id)
            grade = gradebook.find_grade(name, name, assignment, record.student.id)
        grade.auto_score = score.exercise_score(by_id[name])
        grade.needs_manual_grade = any(not score.is_graded_here(t) for t in by_id[name].tests)
    gradebook.db.commit()


def _mirror_notebook(gradebook, name: str, assignment: str, student: str) -> None:
    from nbgrader.api import Grade, SubmittedNotebook

    submission = gradebook.find_submission(assignment, student)
    notebook = gradebook.find_notebook(name, assignment)
    submitted = SubmittedNotebook(notebook=notebook, assignment=submission)
    for cell in notebook.grade_cells:
        Grade(cell_id=cell.id, notebook=submitted)
    gradebook.db.add(submitted)
    gradebook.db.commit()
