"""What an instructor takes away from the gradebook: a CSV, a JSON file and a feedback page per student, a summary.

`scores_csv` has one row per student and one column per exercise and quiz (the course's,
then any other id a report carries), then the total; `student_json` is the Gradescope-style
JSON report of `grader grade --format json` with the student and the submission beside it.
`canvas_csv` is the same scores in the CSV that Canvas's gradebook imports (Grades >
Import), one column per assignment, after late penalties. `with_roster` gives every record the
roster's name and e-mail and adds a "missing" record for each roster student who handed in
nothing. `write_all` lays everything out in one folder. Numbers come from `grader.score`; these only format.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
import re
from pathlib import Path

from grader import score
from grader.classes import report as class_report
from grader.classes.gradebook import Record
from grader.classes.roster import Roster, RosterEntry
from grader.classes.submissions import Student
from grader.course.manifest import Course, CourseError
from grader.quiz.bank import load_bank
from grader.reports import feedback_page, json_report
from grader.results import GradeReport

CSV_FILE, SUMMARY_HTML, SUMMARY_MD, STUDENTS_DIR, PLOTS_DIR, CANVAS_FILE = (
    "scores.csv",
    "summary.html",
    "summary.md",
    "students",
    "plots",
    "canvas.csv",
)
MISSING = "missing"  #: the status of a roster student with no submission


@dataclasses.dataclass(frozen=True)
class Written:
    csv: Path
    summary_html: Path
    summary_markdown: Path
    students: Path  #: the folder of per-student JSON, Markdown and HTML files
    plots: dict[str, Path]
    canvas: Path  #: scores in Canvas's gradebook import format


def columns(course: Course, records: list[Record]) -> list[str]:
    """Exercise and quiz ids: the course's in course.toml order, then any other a report carries."""
    ids = [e.id for e in course.exercises] + [q.id for q in course.quizzes]
    for record in records:
        ids += [e.id for e in (record.report.exercises if record.report else ()) if e.id not in ids]
    return ids


def scores_csv(course: Course, records: list[Record]) -> str:
    """`total` is after any late penalty; `days_late` and `penalty_percent` appear when an assignment was graded."""
    ids = columns(course, records)
    late = any(r.report is not None and r.report.lateness is not None for r in records)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["student", "name", "email", *ids, "total", "max_score", "percent", "status", "graded_at"]
        + ["days_late", "penalty_percent"] * late
    )
    for record in records:
        writer.writerow(_row(record, ids) + _lateness_cells(record) * late)
    return out.getvalue()


def _lateness_cells(record: Record) -> list[str]:
    if record.report is None or record.report.lateness is None:
        return ["", ""]
    return [str(score.days_late(record.report.lateness)), _number(score.late_penalty_percent(record.report))]


def _row(record: Record, ids: list[str]) -> list[object]:
    student = record.student
    head = [student.id, student.name, student.email]
    tail = [record.status, record.graded_at.isoformat(timespec="seconds") if record.graded_at else ""]
    if record.report is None:
        return head + [""] * (len(ids) + 3) + tail
    by_id = {e.id: e for e in record.report.exercises}
    cells = [_number(score.exercise_score(by_id[i])) if i in by_id else "" for i in ids]
    report = record.report
    totals = [
        _number(score.total_score(report)),
        _number(score.total_max_score(report)),
        f"{score.percentage(report):.1f}",
    ]
    return head + cells + totals + tail


def _number(value: float) -> str:
    return f"{value:g}"


def with_roster(records: list[Record], roster: Roster | None) -> list[Record]:
    """Records with the roster's names, e-mails and extensions, plus a "missing" record per roster student
    with none, by id.

    A student's `extension_days` moves the due date of the assignment their report was graded
    against, so `grader.score` counts days late (and the penalty) from their own due date.
    """
    if roster is None:
        return records
    named = [
        dataclasses.replace(
            r, student=_named(r.student, roster), report=_extended(r.report, roster.entry(r.student.id))
        )
        for r in records
    ]
    have = {r.student.id for r in records}
    missing = [
        Record(
            student=Student(e.id, e.name, e.email),
            status=MISSING,
            origin="roster",
            source="",
            content_hash="",
            fingerprint="",
            duration=0.0,
            error="no submission",
        )
        for e in roster
        if e.id not in have
    ]
    return sorted(named + missing, key=lambda r: r.student.id)


def _extended(report: GradeReport | None, entry: RosterEntry | None) -> GradeReport | None:
    if report is None or report.lateness is None or entry is None or not entry.extension_days:
        return report
    due = dt.datetime.fromisoformat(report.lateness.due) + entry.extension
    return dataclasses.replace(report, lateness=dataclasses.replace(report.lateness, due=due.isoformat()))


def _named(student: Student, roster: Roster) -> Student:
    entry = roster.entry(student.id)
    if entry is None:
        return student
    return Student(student.id, entry.name or student.name, entry.email or student.email)


def canvas_csv(course: Course, records: list[Record], *, assignment: str, column: str | None = None) -> str:
    """Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, then the assignment.

    The second row is "Points Possible" with the assignment's points (without an assignment:
    those of the items graded). Students are matched by
    SIS User ID (the roster's id); Canvas's own ID and the login are left blank, which Canvas
    accepts. The score is the total after the late penalty; a student with no graded
    submission gets an empty cell (Canvas leaves the grade as it is). `column` names the
    Canvas assignment, "Title (canvas id)" to update an existing one; default: the title.
    """
    spec = next((a for a in course.assignments if a.id == assignment), None)
    graded = {e.id for r in records if r.report is not None for e in r.report.exercises}
    ids = list(spec.items) if spec else [i for i in columns(course, records) if i in graded]
    heading = column or (spec.title if spec else (assignment or course.info.name))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", heading])
    writer.writerow(["Points Possible", "", "", "", "", _number(_points_possible(course, records, ids))])
    for record in records:
        total = _number(score.total_score(record.report)) if record.report is not None else ""
        writer.writerow([_canvas_name(record.student), "", record.student.id, "", "", total])
    return out.getvalue()


def _points_possible(course: Course, records: list[Record], ids: list[str]) -> float:
    """The items' points: course.toml's for exercises, the bank's for quizzes, else a graded report's."""
    points = {e.id: float(e.points) for e in course.exercises}
    for quiz in course.quizzes:
        if quiz.id in ids:
            try:
                points[quiz.id] = float(load_bank(course, quiz).points)
            except CourseError:
                pass  # `grader check` reports a broken bank; a report's points stand in for it
    for record in records:
        for exercise in record.report.exercises if record.report else ():
            points.setdefault(exercise.id, float(exercise.points))
    return sum(points.get(i, 0.0) for i in ids)


def _canvas_name(student: Student) -> str:
    """Canvas shows "Last, First"; it matches on the ids, so this is for the reader."""
    first, _, last = student.name.rpartition(" ")
    return f"{last}, {first}" if first else (student.name or student.id)


def student_json(record: Record) -> str:
    data = {
        "student": dataclasses.asdict(record.student),
        "submission": {
            "status": record.status,
            "origin": record.origin,
            "source": record.source,
            "content_hash": record.content_hash,
            "duration": record.duration,
            "error": record.error,
            "graded_at": record.graded_at.isoformat() if record.graded_at else None,
        },
        "manual": [
            {
                "exercise": g.exercise,
                "test_id": g.test_id,
                "points": g.points,
                "comment": g.comment,
                "grader": g.grader,
                "graded_at": g.graded_at.isoformat() if g.graded_at else None,
            }
            for g in record.manual
        ],
    }
    if record.report is not None:
        data |= json_report.as_dict(record.report)
    return json.dumps(data, indent=2) + "\n"


def feedback(record: Record, *, course: str, show_hidden: bool = False) -> feedback_page.Page:
    if record.report is None:
        return feedback_page.broken_page(
            student=record.student.id, course=course, error=record.error or "unknown error"
        )
    return feedback_page.page(record.report, student=record.student.name or record.student.id, show_hidden=show_hidden)


def file_name(student_id: str) -> str:
    """A file name for a student id, safe on every OS; ids that had to change get a short hash."""
    safe = re.sub(r"[^A-Za-z0-9._@-]", "_", student_id).strip(".") or "student"
    if safe != student_id:
        safe += "-" + hashlib.sha256(student_id.encode()).hexdigest()[:6]
    return safe


def write_all(
    course: Course, records: list[Record], folder: Path, *, show_hidden: bool = False, assignment: str = ""
) -> Written:
    """The CSV, Canvas's CSV, per-student JSON/Markdown/HTML and the class summary with its plots, under `folder`."""
    students = folder / STUDENTS_DIR
    students.mkdir(parents=True, exist_ok=True)
    pages = {}
    for record in records:
        if record.status == MISSING:
            continue
        stem = file_name(record.student.id)
        page = feedback(record, course=course.info.name, show_hidden=show_hidden)
        (students / f"{stem}.json").write_text(student_json(record), encoding="utf-8")
        (students / f"{stem}.md").write_text(feedback_page.render_markdown(page), encoding="utf-8")
        (students / f"{stem}.html").write_text(feedback_page.render_html(page), encoding="utf-8")
        pages[record.student.id] = f"{STUDENTS_DIR}/{stem}"
    (folder / CSV_FILE).write_text(scores_csv(course, records), encoding="utf-8")
    (folder / CANVAS_FILE).write_text(canvas_csv(course, records, assignment=assignment), encoding="utf-8")
    summary = class_report.summarize(records, course=course.info.name)
    plots = class_report.plot(summary, folder / PLOTS_DIR)
    links = {name: f"{PLOTS_DIR}/{name}" for name in plots}
    (folder / SUMMARY_MD).write_text(
        class_report.render_markdown(summary, plots=links, student_pages={k: v + ".md" for k, v in pages.items()}),
        encoding="utf-8",
    )
    (folder / SUMMARY_HTML).write_text(
        class_report.render_html(
            summary,
            plots=links,
            student_pages={k: v + ".html" for k, v in pages.items()},
            downloads={"scores.csv": CSV_FILE, "canvas.csv": CANVAS_FILE, "summary.md": SUMMARY_MD},
        ),
        encoding="utf-8",
    )
    return Written(folder / CSV_FILE, folder / SUMMARY_HTML, folder / SUMMARY_MD, students, plots, folder / CANVAS_FILE)
