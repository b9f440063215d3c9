"""The gradebook: students, their submissions, and every exercise and test result, in a real database.

SQLAlchemy Core over four small tables, so the same code runs on the embedded SQLite default
and on any server database SQLAlchemy reaches (`postgresql+psycopg://user@host/course`).
A submission row keeps the whole `GradeReport` as its JSON (the one serialization path of
`grader.results`), and the `exercises` and `results` rows repeat what an instructor queries:
scores (from `grader.score`, never recomputed here), outcomes, reasons, messages and timings.
Every grading adds a submission; the newest one per student and assignment is flagged
`latest` (the assignment of course.toml graded, or "" for exercises chosen without one), so
the assignments of a course share one gradebook.
"""

from __future__ import annotations

import dataclasses
import datetime
import json

import sqlalchemy as sa

from grader import score
from grader.results import GradeReport, from_json, to_json
from grader.submissions import Student

metadata = sa.MetaData()

students = sa.Table(
    "students", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("student_id", sa.String(255), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False, default=""),
    sa.Column("email", sa.String(255), nullable=False, default=""),
)

submissions = sa.Table(
    "submissions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("student", sa.ForeignKey("students.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("assignment", sa.String(64), nullable=False, default="", index=True),
    sa.Column("latest", sa.Boolean, nullable=False, default=True),
    sa.Column("status", sa.String(16), nullable=False),          # graded | broken
    sa.Column("origin", sa.String(32), nullable=False),          # grade-all | import
    sa.Column("source", sa.Text, nullable=False),                # the folder, zip or results.json
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),     # of the course's tests and settings
    sa.Column("graded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("duration", sa.Float, nullable=False),             # seconds, wall clock
    sa.Column("score", sa.Float),
    sa.Column("max_score", sa.Float),
    sa.Column("error", sa.Text),                                 # why a broken submission broke the grader
    sa.Column("report", sa.Text),                                # GradeReport as JSON
)

exercises = sa.Table(
    "exercises", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("submission", sa.ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("exercise", sa.String(64), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("max_score", sa.Float, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("problem", sa.Text),
    sa.Column("duration", sa.Float, nullable=False),
)

results = sa.Table(
    "results", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("submission", sa.ForeignKey("submissions.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("exercise", sa.String(64), nullable=False),
    sa.Column("test_id", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("points", sa.Float, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(32)),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("hint", sa.Text),
    sa.Column("diagnosis", sa.Text),
    sa.Column("duration", sa.Float, nullable=False),
)


@dataclasses.dataclass(frozen=True)
class Record:
    """One grading of one student's submission, as the gradebook stores it."""

    student: Student
    status: str                            #: "graded", or "broken" when the grader could not grade it
    origin: str                            #: "grade-all" or "import"
    source: str
    content_hash: str
    fingerprint: str
    duration: float
    report: GradeReport | None = None      #: None when broken
    error: str | None = None
    graded_at: datetime.datetime | None = None
    assignment: str = ""                   #: the course.toml assignment graded; "" for none


@dataclasses.dataclass(frozen=True)
class Seen:
    """What the gradebook knows of a student's latest submission: enough to skip it if unchanged."""

    content_hash: str
    fingerprint: str
    status: str
    duration: float


class Gradebook:
    """A gradebook at a SQLAlchemy URL; the tables are created on first use."""

    def __init__(self, url: str):
        self.url = url
        self.engine = sa.create_engine(url)
        metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def seen(self, assignment: str = "") -> dict[str, Seen]:
        """Each student's latest submission for `assignment`, by student id."""
        query = (sa.select(students.c.student_id, submissions.c.content_hash, submissions.c.fingerprint,
                           submissions.c.status, submissions.c.duration)
                 .join(submissions, submissions.c.student == students.c.id)
                 .where(submissions.c.latest, submissions.c.assignment == assignment))
        with self.engine.connect() as connection:
            return {row.student_id: Seen(row.content_hash, row.fingerprint, row.status, row.duration)
                    for row in connection.execute(query)}

    def record(self, record: Record) -> None:
        """Store a grading as the student's latest submission, in one transaction."""
        with self.engine.begin() as connection:
            student = self._student_key(connection, record.student)
            connection.execute(submissions.update().values(latest=False).where(
                submissions.c.student == student, submissions.c.assignment == record.assignment))
            submission = connection.execute(submissions.insert().values(student=student, **_submission_row(record)))
            key = submission.inserted_primary_key[0]
            if record.report is not None:
                _insert_results(connection, key, record.report)

    def latest(self, assignment: str = "") -> list[Record]:
        """Every student's latest submission for `assignment`, reports rebuilt from their JSON, by student id."""
        query = (sa.select(students, submissions).join(submissions, submissions.c.student == students.c.id)
                 .where(submissions.c.latest, submissions.c.assignment == assignment)
                 .order_by(students.c.student_id))
        with self.engine.connect() as connection:
            return [_record(row) for row in connection.execute(query).mappings()]

    def history(self, student_id: str, assignment: str = "") -> list[Record]:
        """All of a student's submissions for `assignment`, oldest first."""
        query = (sa.select(students, submissions).join(submissions, submissions.c.student == students.c.id)
                 .where(students.c.student_id == student_id, submissions.c.assignment == assignment)
                 .order_by(submissions.c.id))
        with self.engine.connect() as connection:
            return [_record(row) for row in connection.execute(query).mappings()]

    @staticmethod
    def _student_key(connection: sa.Connection, student: Student) -> int:
        found = connection.execute(sa.select(students.c.id).where(students.c.student_id == student.id)).scalar()
        if found is None:
            inserted = connection.execute(students.insert().values(student_id=student.id, name=student.name,
                                                                   email=student.email))
            return inserted.inserted_primary_key[0]
        if student.name or student.email:
            connection.execute(students.update().where(students.c.id == found)
                               .values(name=student.name, email=student.email))
        return found


def _submission_row(record: Record) -> dict:
    report = record.report
    return {
        "assignment": record.assignment, "latest": True, "status": record.status, "origin": record.origin, "source": record.source,
        "content_hash": record.content_hash, "fingerprint": record.fingerprint,
        "graded_at": record.graded_at or datetime.datetime.now(datetime.timezone.utc),
        "duration": record.duration, "error": record.error,
        "score": score.total_score(report) if report else None,
        "max_score": score.total_max_score(report) if report else None,
        "report": json.dumps(to_json(report)) if report else None,
    }


def _insert_results(connection: sa.Connection, key: int, report: GradeReport) -> None:
    connection.execute(exercises.insert(), [
        {"submission": key, "exercise": e.id, "score": score.exercise_score(e),
         "max_score": score.exercise_max_score(e), "status": score.exercise_status(e),
         "problem": e.problem, "duration": e.duration}
        for e in report.exercises])
    rows = [{"submission": key, "exercise": t.exercise, "test_id": t.test_id, "name": t.name, "kind": t.kind,
             "points": t.points, "score": score.test_score(t), "outcome": t.outcome, "reason": t.reason,
             "message": "\n".join(t.message), "hint": t.hint, "diagnosis": t.diagnosis, "duration": t.duration}
            for e in report.exercises for t in e.tests]
    if rows:
        connection.execute(results.insert(), rows)


def _record(row: sa.RowMapping) -> Record:
    graded_at = row["graded_at"]
    if graded_at.tzinfo is None:   # SQLite keeps no time zone; we always store UTC
        graded_at = graded_at.replace(tzinfo=datetime.timezone.utc)
    return Record(
        student=Student(row["student_id"], row["name"], row["email"]), status=row["status"],
        origin=row["origin"], source=row["source"], content_hash=row["content_hash"],
        fingerprint=row["fingerprint"], duration=row["duration"], error=row["error"], graded_at=graded_at,
        assignment=row["assignment"],
        report=from_json(json.loads(row["report"])) if row["report"] else None,
    )
