"""The gradebook keeps every grading, on SQLite and on a real PostgreSQL server, and gives reports back intact."""

from __future__ import annotations

import dataclasses
import datetime
import uuid

import pytest
import sqlalchemy as sa
from class_corpus import make_exercise, make_report
from postgres_server import Unavailable, postgres_server

from grader import score
from grader.classes.gradebook import Gradebook, ManualGrade, Record, Seen, exercises, results, submissions
from grader.classes.submissions import Student


@pytest.fixture(scope="module")
def postgres():
    try:
        with postgres_server() as url:
            yield url
    except Unavailable as reason:
        pytest.skip(str(reason))


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gradebook.db'}"
        return
    pytest.importorskip("psycopg", reason="the PostgreSQL test needs psycopg: pip install -e '.[test]'")
    server = request.getfixturevalue("postgres")
    name = f"gradebook_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    yield server.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def _report(*, passed_hidden: bool = False):
    conv = make_exercise(
        "conv",
        [
            ("a 3x3 input by hand", "public", 2, "passed", None),
            (
                "stride 2 with padding",
                "hidden",
                3,
                "passed" if passed_hidden else "failed",
                None if passed_hidden else "mismatch",
            ),
            ("design notes", "public", 1, "pending", "manual"),
        ],
    )
    pool = make_exercise("pooling", [("max over each window", "public", 4, "failed", "not_implemented")])
    return make_report([conv, pool])


def _record(student: str, report, *, content_hash: str = "h1", status: str = "graded", error: str | None = None):
    return Record(
        student=Student(student, f"{student.title()} Doe", f"{student}@uni.edu"),
        status=status,
        origin="grade-all",
        source=f"/class/{student}",
        content_hash=content_hash,
        fingerprint="fp",
        duration=3.25,
        report=report,
        error=error,
    )


def test_a_report_comes_back_exactly_as_it_was_stored(url):
    report = _report()
    with Gradebook(url) as gradebook:
        gradebook.record(_record("ada", report))
        [back] = gradebook.latest()
    assert back.report == report
    assert back.student == Student("ada", "Ada Doe", "ada@uni.edu")
    assert (back.status, back.content_hash, back.fingerprint, back.duration) == ("graded", "h1", "fp", 3.25)
    assert back.graded_at.tzinfo is not None
    assert abs(back.graded_at - datetime.datetime.now(datetime.timezone.utc)) < datetime.timedelta(minutes=5)


def test_every_grading_is_kept_and_the_newest_is_the_latest(url):
    with Gradebook(url) as gradebook:
        gradebook.record(_record("ada", _report(), content_hash="old"))
        gradebook.record(_record("ben", _report(), content_hash="b"))
        gradebook.record(_record("ada", _report(passed_hidden=True), content_hash="new"))
        latest = {r.student.id: r for r in gradebook.latest()}
        history = gradebook.history("ada")
        seen = gradebook.seen()
    assert [r.content_hash for r in history] == ["old", "new"]
    assert latest["ada"].content_hash == "new" and score.total_score(latest["ada"].report) == 5
    assert seen == {"ada": Seen("new", "fp", "graded", 3.25), "ben": Seen("b", "fp", "graded", 3.25)}


def test_the_tables_hold_scores_outcomes_and_timings_for_queries(url):
    report = _report()
    with Gradebook(url) as gradebook:
        gradebook.record(_record("ada", report))
        with gradebook.engine.connect() as connection:
            row = connection.execute(sa.select(submissions.c.score, submissions.c.max_score)).one()
            per_exercise = dict(connection.execute(sa.select(exercises.c.exercise, exercises.c.status)).all())
            failed = connection.execute(
                sa.select(results.c.name, results.c.reason, results.c.message, results.c.hint)
                .where(results.c.outcome == "failed")
                .order_by(results.c.name)
            ).all()
    assert tuple(row) == (score.total_score(report), score.total_max_score(report)) == (2, 9)
    assert per_exercise == {"conv": "partial", "pooling": "not implemented"}
    assert failed[1] == (
        "stride 2 with padding",
        "mismatch",
        "call: stride 2 with padding()\nexpected: 1\ngot:      2",
        "hint for stride 2 with padding",
    )


def test_a_broken_submission_is_stored_with_its_reason(url):
    with Gradebook(url) as gradebook:
        gradebook.record(_record("eve", None, status="broken", error="eve.zip is not a readable zip"))
        [back] = gradebook.latest()
    assert (back.status, back.report, back.error) == ("broken", None, "eve.zip is not a readable zip")


def test_a_students_name_and_email_are_updated_not_duplicated(url):
    with Gradebook(url) as gradebook:
        gradebook.record(_record("ada", _report()))
        gradebook.record(
            Record(
                student=Student("ada", "Ada Lovelace", "ada@new.edu"),
                status="graded",
                origin="import",
                source="results.json",
                content_hash="h2",
                fingerprint="import",
                duration=0.0,
                report=_report(),
            )
        )
        latest = gradebook.latest()
    assert [r.student for r in latest] == [Student("ada", "Ada Lovelace", "ada@new.edu")]


def test_reopening_the_gradebook_keeps_its_contents(url):
    with Gradebook(url) as gradebook:
        gradebook.record(_record("ada", _report()))
    with Gradebook(url) as gradebook:
        assert [r.student.id for r in gradebook.latest()] == ["ada"]


def test_each_assignment_keeps_its_own_latest_submission(url):
    with Gradebook(url) as gradebook:
        gradebook.record(_record("ada", _report(), content_hash="free"))
        gradebook.record(
            dataclasses.replace(_record("ada", _report(passed_hidden=True), content_hash="a1"), assignment="a1")
        )
        gradebook.record(dataclasses.replace(_record("ben", _report(), content_hash="a2"), assignment="a2"))
        assert [(r.student.id, r.content_hash) for r in gradebook.latest()] == [("ada", "free")]
        assert [(r.student.id, r.content_hash, r.assignment) for r in gradebook.latest("a1")] == [("ada", "a1", "a1")]
        assert set(gradebook.seen("a2")) == {"ben"} and gradebook.history("ada", "a1")[0].content_hash == "a1"


def test_the_newest_result_of_each_item_is_merged_across_gradings(url):
    """conv graded in one run, pooling in a later one: the student's record holds both (and the newest conv)."""
    conv_old = make_exercise("conv", [("by hand", "public", 2, "failed", "mismatch")])
    conv_new = make_exercise("conv", [("by hand", "public", 2, "passed", None)])
    pool = make_exercise("pooling", [("max", "public", 4, "passed", None)])
    with Gradebook(url) as gradebook:
        gradebook.record(_record("ada", make_report([conv_old]), content_hash="1"))
        gradebook.record(_record("ada", make_report([conv_new]), content_hash="2"))
        gradebook.record(_record("ada", make_report([pool]), content_hash="3"))
        [merged] = gradebook.latest()
        [stored] = gradebook.latest(merged=False)
    assert [e.id for e in merged.report.exercises] == ["pooling", "conv"]
    assert score.total_score(merged.report) == 6 and merged.content_hash == "3"
    assert [e.id for e in stored.report.exercises] == ["pooling"]


def test_manual_grades_are_kept_with_who_and_when_and_the_newest_counts(url):
    item = "tests/public/test_conv.py::design_notes"
    with Gradebook(url) as gradebook:
        gradebook.record(_record("ada", _report()))
        gradebook.grade_manually(ManualGrade("ada", "conv", item, 0.5, "thin", grader="ta"))
        gradebook.grade_manually(ManualGrade("ada", "conv", item, 1, "fine on second reading", grader="prof"))
        [record] = gradebook.latest()
        history = gradebook.manual_grades("ada", history=True)
    assert [(g.points, g.grader) for g in history] == [(0.5, "ta"), (1, "prof")]
    assert all(g.graded_at.tzinfo is not None for g in history)
    notes = next(t for e in record.report.exercises for t in e.tests if t.test_id == item)
    assert (notes.awarded, notes.outcome, notes.message[0]) == (1, "passed", "fine on second reading")
    assert score.total_score(record.report) == 2 + 1 and [g.points for g in record.manual] == [1]
