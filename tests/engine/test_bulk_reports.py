"""What the instructor and the students take away: the CSV, per-student JSON and pages, the class summary."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import pytest
from class_corpus import make_exercise, make_report

from grader import score
from grader.classes import exports
from grader.classes import report as class_report
from grader.classes.gradebook import Record
from grader.classes.submissions import Student
from grader.reports import feedback_page
from grader.results import Lateness


def _record(student_id: str, report, *, status: str = "graded", error: str | None = None, name: str = "") -> Record:
    return Record(
        student=Student(student_id, name, f"{student_id}@uni.edu" if name else ""),
        status=status,
        origin="grade-all",
        source=f"/class/{student_id}",
        content_hash="h",
        fingerprint="f",
        duration=1.0,
        report=report,
        error=error,
    )


def _conv(*outcomes: str, problem: str | None = None):
    """conv with a public test by hand (2 points) and a hidden stride test (3 points)."""
    by_hand, stride = outcomes
    return make_exercise(
        "conv",
        [
            ("a 3x3 input by hand", "public", 2, by_hand, None if by_hand == "passed" else "mismatch"),
            ("stride 2 on a 5x5 input", "hidden", 3, stride, None if stride == "passed" else "mismatch"),
        ],
        problem=problem,
        title="2D convolution",
    )


def _stub(exercise_id: str = "pooling"):
    return make_exercise(
        exercise_id,
        [
            ("max over each window", "public", 4, "failed", "not_implemented"),
            ("mean over each window", "public", 4, "failed", "not_implemented"),
        ],
        section="Pooling Layers",
    )


@pytest.fixture
def records():
    return [
        _record("ada", make_report([_conv("passed", "passed"), _stub()]), name="Ada Lovelace"),
        _record("ben", make_report([_conv("failed", "failed"), _stub()])),
        _record("cy", make_report([_conv("passed", "failed"), _stub()])),
        _record("eve", None, status="broken", error="eve.zip is not a readable zip"),
    ]


def _rows(course, records):
    return list(csv.DictReader(io.StringIO(exports.scores_csv(course, records))))


def test_the_csv_has_a_row_per_student_and_a_column_per_exercise_and_quiz(course, records):
    rows = _rows(course, records)
    header = list(rows[0])
    ids = [e.id for e in course.exercises] + [q.id for q in course.quizzes]
    assert header == ["student", "name", "email", *ids, "total", "max_score", "percent", "status", "graded_at"]
    ada, ben, cy, eve = rows
    assert (ada["student"], ada["name"], ada["conv"], ada["pooling"], ada["total"], ada["max_score"]) == (
        "ada",
        "Ada Lovelace",
        "5",
        "0",
        "5",
        "13",
    )
    assert (cy["conv"], cy["percent"]) == ("2", f"{100 * 2 / 13:.1f}")
    assert all(eve[i] == "" for i in ids) and (eve["total"], eve["status"]) == ("", "broken")
    other = [e.id for e in course.exercises if e.id not in ("conv", "pooling")]
    assert all(ada[i] == "" for i in other)  # not graded in this run: empty, not zero


def test_an_id_the_course_does_not_list_gets_a_column_at_the_end(course):
    quiz = make_exercise("quiz_pooling", [("q1", "public", 1, "passed", None)])
    rows = _rows(course, [_record("ada", make_report([_conv("passed", "passed"), quiz]))])
    assert list(rows[0])[-6:] == ["quiz_pooling", "total", "max_score", "percent", "status", "graded_at"]
    assert rows[0]["quiz_pooling"] == "1"


def test_the_students_json_is_the_grading_json_with_the_student_beside_it(records):
    ada = json.loads(exports.student_json(records[0]))
    assert ada["student"] == {"id": "ada", "name": "Ada Lovelace", "email": "ada@uni.edu"}
    assert (ada["score"], ada["max_score"]) == (score.total_score(records[0].report), 13)
    assert [t["name"] for t in ada["tests"]][:2] == ["conv: a 3x3 input by hand", "conv: stride 2 on a 5x5 input"]
    eve = json.loads(exports.student_json(records[3]))
    assert eve["submission"]["status"] == "broken" and eve["submission"]["error"] == "eve.zip is not a readable zip"
    assert "tests" not in eve


def test_the_feedback_page_shows_failures_hints_and_what_to_reread(records):
    text = feedback_page.render_markdown(exports.feedback(records[1], course="CNN"))
    assert "**Score: 0 / 13 (0%)**" in text
    assert "✗ **a 3x3 input by hand** (wrong result, 0 / 2)" in text
    assert "call: a 3x3 input by hand()" in text and "*Hint:* hint for a 3x3 input by hand" in text
    assert "**Reread:** the tutorial section *The Convolution Operation*." in text
    assert "## pooling: Pooling (0 / 8)\n\nNot implemented yet.\n\n## " in text or text.endswith(
        "Not implemented yet.\n"
    )
    assert "Reread:** the tutorial section *Pooling Layers*" not in text  # nothing tried, nothing to reread


def test_hidden_tests_details_are_shown_only_when_the_instructor_allows(records):
    withheld = feedback_page.render_markdown(exports.feedback(records[2], course="CNN"))
    assert "1 hidden test failed (3 points); their details are not shown." in withheld
    assert "stride 2" not in withheld and "hint for stride" not in withheld
    shown = feedback_page.render_markdown(exports.feedback(records[2], course="CNN", show_hidden=True))
    assert "✗ **stride 2 on a 5x5 input** (wrong result, 0 / 3)" in shown and "hint for stride 2" in shown


def test_a_fully_passed_exercise_needs_no_section(records):
    text = feedback_page.render_markdown(exports.feedback(records[0], course="CNN"))
    assert "## conv" not in text and "| conv | 2D convolution | 5 / 5 | passed |" in text


def test_the_html_page_escapes_what_student_code_printed(course):
    nasty = make_exercise(
        "conv", [("by hand", "public", 1, "failed", "exception")], problem="<script>alert('x')</script>"
    )
    page = feedback_page.render_html(feedback_page.page(make_report([nasty]), student="<b>mallory</b>"))
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;mallory&lt;/b&gt;" in page
    assert page.startswith("<!DOCTYPE html>") and "Reread:</strong> the tutorial section" in page


def test_a_broken_submission_gets_a_page_that_says_so(records):
    page = exports.feedback(records[3], course="CNN")
    assert "could not be graded" in feedback_page.render_markdown(page)
    assert "eve.zip is not a readable zip" in feedback_page.render_html(page)


def test_the_class_summary_ranks_tests_by_students_who_failed_them(records):
    summary = class_report.summarize(records, course="CNN")
    assert summary.percentages == pytest.approx([5 / 13 * 100, 0.0, 2 / 13 * 100])
    assert [(t.name, t.students, t.label) for t in summary.most_failed] == [
        ("stride 2 on a 5x5 input", 2, "wrong result"),
        ("a 3x3 input by hand", 1, "wrong result"),
    ]
    conv = next(e for e in summary.exercises if e.id == "conv")
    assert conv.mean_score == pytest.approx(7 / 3) and dict(conv.statuses) == {"passed": 1, "failed": 1, "partial": 1}
    assert [row.student for row in summary.broken] == ["eve"]


def _diagnosed(exercise, name: str):
    """The exercise result with every failing test diagnosed as `name`."""
    tests = tuple(t if t.passed else dataclasses.replace(t, diagnosis=name) for t in exercise.tests)
    return dataclasses.replace(exercise, tests=tests)


def test_the_summary_counts_each_students_misconception_once(records):
    flipped = [
        _record(s, make_report([_diagnosed(_conv("failed", "failed"), "flipped_kernel")])) for s in ("dan", "fay")
    ]
    summary = class_report.summarize(records + flipped, course="CNN")
    assert [(m.exercise, m.name, m.students) for m in summary.misconceptions] == [("conv", "flipped_kernel", 2)]
    assert summary.misconceptions[0].share == pytest.approx(40.0)  # 2 of the 5 graded, though each failed 2 tests
    markdown = class_report.render_markdown(summary, plots={}, student_pages={})
    assert "- conv: flipped_kernel: 2 students (40% of those graded)" in markdown
    assert "conv: flipped_kernel: 2 students (40% of those graded)" in class_report.render_html(
        summary, plots={}, student_pages={}
    )
    assert "None named." in class_report.render_markdown(
        class_report.summarize(records, course="CNN"), plots={}, student_pages={}
    )


def test_write_all_lays_out_the_csv_pages_summary_and_plots(tmp_path, course, records):
    written = exports.write_all(course, records, tmp_path / "grades")
    assert sorted(p.name for p in written.students.iterdir()) == sorted(
        f"{s}.{kind}" for s in ("ada", "ben", "cy", "eve") for kind in ("json", "md", "html")
    )
    assert set(written.plots) == {class_report.HISTOGRAM, class_report.MOST_FAILED, class_report.EXERCISES}
    for plot in written.plots.values():
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 5000
    html = written.summary_html.read_text()
    assert "<img src='plots/score_histogram.png'" in html and "href='students/ada.html'" in html
    assert "4 students, 3 graded, 1 could not be graded" in html
    assert "[ada](students/ada.md)" in written.summary_markdown.read_text()
    assert written.csv.read_text().startswith("student,name,email,conv,")


def test_student_ids_become_safe_distinct_file_names():
    assert exports.file_name("ada") == "ada" and exports.file_name("ada@uni.edu") == "ada@uni.edu"
    odd = [exports.file_name(name) for name in ("../etc/passwd", "a b", "a_b", "Zoë")]
    assert all("/" not in name and " " not in name for name in odd)
    assert len(set(odd)) == 4 and odd[2] == "a_b" and odd[1] != "a_b"


LATE = Lateness(
    assignment="a1",
    due="2026-12-11T23:59:00+00:00",
    submitted_at="2026-12-13T10:00:00+00:00",
    policy="penalty",
    penalty_per_day=10,
)


def test_a_late_penalty_shows_in_the_csv_the_page_and_the_summary(course, records):
    late = dataclasses.replace(records[0], report=dataclasses.replace(records[0].report, lateness=LATE))
    rows = _rows(course, [late, records[1]])
    assert (rows[0]["total"], rows[0]["days_late"], rows[0]["penalty_percent"]) == ("4", "2", "20")
    assert (rows[1]["days_late"], rows[1]["penalty_percent"]) == ("", "")
    text = feedback_page.render_markdown(exports.feedback(late, course="CNN"))
    assert "**Score: 4 / 13 (31%)**" in text
    assert (
        "Assignment a1, due 2026-12-11T23:59:00+00:00, handed in 2026-12-13T10:00:00+00:00: 2 days late, "
        "a 20% late penalty (5 points before it)."
    ) in text
    summary = class_report.summarize([late], course="CNN")
    assert summary.students[0].note == "2 days late, -20%"
    assert "days_late" not in list(_rows(course, records)[0])  # no assignment graded: no lateness columns


def test_the_summary_points_at_a_submission_that_changed_release_files(records):
    changed = dataclasses.replace(
        records[1], report=dataclasses.replace(records[1].report, tampered=("tests/public/test_conv.py",))
    )
    summary = class_report.summarize([changed], course="CNN")
    assert summary.students[0].note == "changed release files: tests/public/test_conv.py"
