"""What an instructor takes away from the gradebook: a CSV, a JSON file and a feedback page per student, a class summary.

`scores_csv` has one row per student and one column per exercise and quiz (the course's,
then any other id a report carries), then the total; `student_json` is the Gradescope-style
JSON report of `grader grade --format json` with the student and the submission beside it.
`write_all` lays everything out in one folder. Numbers come from `grader.score`; these only format.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import re
from pathlib import Path

from grader import class_report, score
from grader.gradebook import Record
from grader.manifest import Course
from grader.reports import feedback_page, json_report

CSV_FILE, SUMMARY_HTML, SUMMARY_MD, STUDENTS_DIR, PLOTS_DIR = (
    "scores.csv", "summary.html", "summary.md", "students", "plots")


@dataclasses.dataclass(frozen=True)
class Written:
    csv: Path
    summary_html: Path
    summary_markdown: Path
    students: Path                 #: the folder of per-student JSON, Markdown and HTML files
    plots: dict[str, Path]


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
    writer.writerow(["student", "name", "email", *ids, "total", "max_score", "percent", "status", "graded_at"]
                    + ["days_late", "penalty_percent"] * late)
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
    totals = [_number(score.total_score(report)), _number(score.total_max_score(report)),
              f"{score.percentage(report):.1f}"]
    return head + cells + totals + tail


def _number(value: float) -> str:
    return f"{value:g}"


def student_json(record: Record) -> str:
    data = {
        "student": dataclasses.asdict(record.student),
        "submission": {"status": record.status, "origin": record.origin, "source": record.source,
                       "content_hash": record.content_hash, "duration": record.duration, "error": record.error,
                       "graded_at": record.graded_at.isoformat() if record.graded_at else None},
    }
    if record.report is not None:
        data |= json_report.as_dict(record.report)
    return json.dumps(data, indent=2) + "\n"


def feedback(record: Record, *, course: str, show_hidden: bool = False) -> feedback_page.Page:
    if record.report is None:
        return feedback_page.broken_page(student=record.student.id, course=course,
                                         error=record.error or "unknown error")
    return feedback_page.page(record.report, student=record.student.name or record.student.id,
                              show_hidden=show_hidden)


def file_name(student_id: str) -> str:
    """A file name for a student id, safe on every OS; ids that had to change get a short hash."""
    safe = re.sub(r"[^A-Za-z0-9._@-]", "_", student_id).strip(".") or "student"
    if safe != student_id:
        safe += "-" + hashlib.sha256(student_id.encode()).hexdigest()[:6]
    return safe


def write_all(course: Course, records: list[Record], folder: Path, *, show_hidden: bool = False) -> Written:
    """The CSV, per-student JSON/Markdown/HTML and the class summary with its plots, under `folder`."""
    students = folder / STUDENTS_DIR
    students.mkdir(parents=True, exist_ok=True)
    pages = {}
    for record in records:
        stem = file_name(record.student.id)
        page = feedback(record, course=course.info.name, show_hidden=show_hidden)
        (students / f"{stem}.json").write_text(student_json(record), encoding="utf-8")
        (students / f"{stem}.md").write_text(feedback_page.render_markdown(page), encoding="utf-8")
        (students / f"{stem}.html").write_text(feedback_page.render_html(page), encoding="utf-8")
        pages[record.student.id] = f"{STUDENTS_DIR}/{stem}"
    (folder / CSV_FILE).write_text(scores_csv(course, records), encoding="utf-8")
    summary = class_report.summarize(records, course=course.info.name)
    plots = class_report.plot(summary, folder / PLOTS_DIR)
    links = {name: f"{PLOTS_DIR}/{name}" for name in plots}
    (folder / SUMMARY_MD).write_text(class_report.render_markdown(
        summary, plots=links, student_pages={k: v + ".md" for k, v in pages.items()}), encoding="utf-8")
    (folder / SUMMARY_HTML).write_text(class_report.render_html(
        summary, plots=links, student_pages={k: v + ".html" for k, v in pages.items()},
        downloads={"scores.csv": CSV_FILE, "summary.md": SUMMARY_MD}), encoding="utf-8")
    return Written(folder / CSV_FILE, folder / SUMMARY_HTML, folder / SUMMARY_MD, students, plots)
