"""The gradebook: students, their submissions, and every exercise and test result, in a real database.

SQLAlchemy Core over five small tables, so the same code runs on the embedded SQLite default
and on any server database SQLAlchemy reaches (`postgresql+psycopg://user@host/course`).
A submission row keeps the whole `GradeReport` as its JSON (the one serialization path of
`grader.results`), and the `exercises` and `results` rows repeat what an instructor queries:
scores (from `grader.score`, never recomputed here), outcomes, reasons, messages and timings.
Every grading adds a submission; the newest one per student and assignment is flagged
`latest` (the assignment of course.toml graded, or "" for exercises chosen without one), so
the assignments of a course share one gradebook.

The gradebook is the source of truth for grades: `latest` gives, per student, the newest
result of each item (exercise or quiz) whatever run produced it (`grade-all -e conv`, then
`grade-all -e lenet`, an `import`), with the points an instructor gave the manual items
(`grader review`, the `manual_grades` table: every grading kept, the newest one counts).
Schema changes are additive: a gradebook from an older version gains the new table when opened.
"""

from __future__ import annotations

import dataclasses
import datetime
import json

import sqlalchemy as sa

from grader import score
from grader.classes.submissions import Student
from grader.results import ExerciseResult, GradeReport, TestResult, from_json, to_json

metadata = sa.MetaData()

students = sa.Table(
    "students",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("student_id", sa.String(255), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False, default=""),
    sa.Column("email", sa.String(255), nullable=False, default=""),
)

submissions = sa.Table(
    "submissions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("student", sa.ForeignKey("students.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("assignment", sa.String(64), nullable=False, default="", index=True),
    sa.Column("latest", sa.Boolean, nullable=False, default=True),
    sa.Column("status", sa.String(16), nullable=False),  # graded | broken
    sa.Column("origin", sa.String(32), nullable=False),  # grade-all | import
    sa.Column("source", sa.Text, nullable=False),  # the folder, zip or results.json
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),  # of the course's tests and settings
    sa.Column("graded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("duration", sa.Float, nullable=False),  # seconds, wall clock
    sa.Column("score", sa.Float),
    sa.Column("max_score", sa.Float),
    sa.Column("error", sa.Text),  # why a broken submission broke the grader
    sa.Column("report", sa.Text),  # GradeReport as JSON
)

exercises = sa.Table(
    "exercises",
    metadata,
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
    "results",
    metadata,
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

manual_grades = sa.Table(
    "manual_grades",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("student", sa.ForeignKey("students.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("exercise", sa.String(64), nullable=False),
    sa.Column("test_id", sa.Text, nullable=False),  # the manual test's pytest node id
    sa.Column("points", sa.Float, nullable=False),
    sa.Column("comment", sa.Text, nullable=False, default=""),
    sa.Column("grader", sa.String(255), nullable=False),  # who gave the points
    sa.Column("graded_at", sa.DateTime(timezone=True), nullable=False),
)


@dataclasses.dataclass(frozen=True)
class ManualGrade:
    """Points and a comment an instructor gave one student's manual item."""

    student: str  #: the student id
    exercise: str
    test_id: str
    points: float
    comment: str = ""
    grader: str = ""
    graded_at: datetime.datetime | None = None


@dataclasses.dataclass(frozen=True)
class Record:
    """One grading of one student's submission, as the gradebook stores it."""

    student: Student
    status: str  #: "graded", or "broken" when the grader could not grade it
    origin: str  #: "grade-all" or "import"
    source: str
    content_hash: str
    fingerprint: str
    duration: float
    report: GradeReport | None = None  #: None when broken
    error: str | None = None
    graded_at: datetime.datetime | None = None
    assignment: str = ""  #: the course.toml assignment graded; "" for none
    manual: tuple[ManualGrade, ...] = ()  #: the instructor's grades applied to the report (by `latest`)


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

    def seen(self, assignment: str = "", *, fingerprint: str | None = None) -> dict[str, Seen]:
        """Each student's latest submission for `assignment`, by student id.

        With `fingerprint`, each student's latest submission graded with that fingerprint (the
        same tests and the same items): `grade-all -e conv` after `grade-all -e lenet` still
        knows the conv it graded before.
        """
        query = (
            sa.select(
                students.c.student_id,
                submissions.c.content_hash,
                submissions.c.fingerprint,
                submissions.c.status,
                submissions.c.duration,
            )
            .join(submissions, submissions.c.student == students.c.id)
            .where(submissions.c.assignment == assignment)
            .order_by(submissions.c.id)
        )
        if fingerprint is None:
            query = query.where(submissions.c.latest)
        found: dict[str, Seen] = {}
        with self.engine.connect() as connection:
            for row in connection.execute(query):
                if fingerprint is None or row.fingerprint == fingerprint:
                    found[row.student_id] = Seen(row.content_hash, row.fingerprint, row.status, row.duration)
                elif row.student_id in found and (row.content_hash, row.status) != (
                    found[row.student_id].content_hash,
                    "graded",
                ):
                    # Graded since from other files, or broken since: its items' newest results are not
                    # those of these files any more, so they must be graded again.
                    del found[row.student_id]
        return found

    def record(self, record: Record) -> None:
        """Store a grading as the student's latest submission, in one transaction."""
        if record.report is not None:  # manual points come from manual_grades only, never from a report
            record = dataclasses.replace(record, report=_automatic(record.report))
        with self.engine.begin() as connection:
            student = self._student_key(connection, record.student)
            connection.execute(
                submissions.update()
                .values(latest=False)
                .where(submissions.c.student == student, submissions.c.assignment == record.assignment)
            )
            submission = connection.execute(submissions.insert().values(student=student, **_submission_row(record)))
            key = submission.inserted_primary_key[0]
            if record.report is not None:
                _insert_results(connection, key, record.report)

    def latest(self, assignment: str = "", *, merged: bool = True) -> list[Record]:
        """Every student's grades for `assignment`, by student id: what the CSV, pages and summary show.

        Each record is the student's latest submission, its report holding the newest result of
        every item any of the student's submissions graded, and the manual items graded by hand.
        A latest submission that broke the grader stays broken (report None), so it is seen.
        `merged=False` gives the latest submissions as stored.
        """
        query = (
            sa.select(students, submissions)
            .join(submissions, submissions.c.student == students.c.id)
            .where(submissions.c.assignment == assignment)
            .order_by(students.c.student_id, submissions.c.id.desc())
        )
        if not merged:
            query = query.where(submissions.c.latest)
        by_student: dict[str, list[sa.RowMapping]] = {}
        with self.engine.connect() as connection:
            for row in connection.execute(query).mappings():
                by_student.setdefault(row["student_id"], []).append(row)
            manual = self._manual(connection) if merged else {}
        return [
            _merged(rows, manual.get(student, {})) if merged else _record(rows[0])
            for student, rows in by_student.items()
        ]

    def grade_manually(self, grade: ManualGrade) -> ManualGrade:
        """Store an instructor's points for a manual item; the newest grading of an item counts."""
        grade = dataclasses.replace(grade, graded_at=grade.graded_at or datetime.datetime.now(datetime.timezone.utc))
        with self.engine.begin() as connection:
            student = self._student_key(connection, Student(grade.student))
            connection.execute(
                manual_grades.insert().values(
                    student=student,
                    exercise=grade.exercise,
                    test_id=grade.test_id,
                    points=grade.points,
                    comment=grade.comment,
                    grader=grade.grader,
                    graded_at=grade.graded_at,
                )
            )
        return grade

    def manual_grades(self, student_id: str | None = None, *, history: bool = False) -> list[ManualGrade]:
        """The newest grade of each manual item (every one, oldest first, with `history`), by student."""
        with self.engine.connect() as connection:
            rows = self._manual_rows(connection, student_id)
        if history:
            return rows
        newest = {(g.student, g.test_id): g for g in rows}
        return sorted(newest.values(), key=lambda g: (g.student, g.test_id))

    def _manual(self, connection: sa.Connection) -> dict[str, dict[str, ManualGrade]]:
        found: dict[str, dict[str, ManualGrade]] = {}
        for grade in self._manual_rows(connection, None):
            found.setdefault(grade.student, {})[grade.test_id] = grade  # oldest first: the newest wins
        return found

    @staticmethod
    def _manual_rows(connection: sa.Connection, student_id: str | None) -> list[ManualGrade]:
        query = (
            sa.select(students.c.student_id, manual_grades)
            .join(students, manual_grades.c.student == students.c.id)
            .order_by(manual_grades.c.id)
        )
        if student_id is not None:
            query = query.where(students.c.student_id == student_id)
        return [
            ManualGrade(
                row["student_id"],
                row["exercise"],
                row["test_id"],
                row["points"],
                row["comment"],
                row["grader"],
                _utc(row["graded_at"]),
            )
            for row in connection.execute(query).mappings()
        ]

    def history(self, student_id: str, assignment: str = "") -> list[Record]:
        """All of a student's submissions for `assignment`, oldest first."""
        query = (
            sa.select(students, submissions)
            .join(submissions, submissions.c.student == students.c.id)
            .where(students.c.student_id == student_id, submissions.c.assignment == assignment)
            .order_by(submissions.c.id)
        )
        with self.engine.connect() as connection:
            return [_record(row) for row in connection.execute(query).mappings()]

    @staticmethod
    def _student_key(connection: sa.Connection, student: Student) -> int:
        found = connection.execute(sa.select(students.c.id).where(students.c.student_id == student.id)).scalar()
        if found is None:
            inserted = connection.execute(
                students.insert().values(student_id=student.id, name=student.name, email=student.email)
            )
            return inserted.inserted_primary_key[0]
        if student.name or student.email:
            connection.execute(
                students.update().where(students.c.id == found).values(name=student.name, email=student.email)
            )
        return found


def _submission_row(record: Record) -> dict:
    report = record.report
    return {
        "assignment": record.assignment,
        "latest": True,
        "status": record.status,
        "origin": record.origin,
        "source": record.source,
        "content_hash": record.content_hash,
        "fingerprint": record.fingerprint,
        "graded_at": record.graded_at or datetime.datetime.now(datetime.timezone.utc),
        "duration": record.duration,
        "error": record.error,
        "score": score.total_score(report) if report else None,
        "max_score": score.total_max_score(report) if report else None,
        "report": json.dumps(to_json(report)) if report else None,
    }


def _insert_results(connection: sa.Connection, key: int, report: GradeReport) -> None:
    connection.execute(
        exercises.insert(),
        [
            {
                "submission": key,
                "exercise": e.id,
                "score": score.exercise_score(e),
                "max_score": score.exercise_max_score(e),
                "status": score.exercise_status(e),
                "problem": e.problem,
                "duration": e.duration,
            }
            for e in report.exercises
        ],
    )
    rows = [
        {
            "submission": key,
            "exercise": t.exercise,
            "test_id": t.test_id,
            "name": t.name,
            "kind": t.kind,
            "points": t.points,
            "score": score.test_score(t),
            "outcome": t.outcome,
            "reason": t.reason,
            "message": "\n".join(t.message),
            "hint": t.hint,
            "diagnosis": t.diagnosis,
            "duration": t.duration,
        }
        for e in report.exercises
        for t in e.tests
    ]
    if rows:
        connection.execute(results.insert(), rows)


def _utc(moment: datetime.datetime) -> datetime.datetime:
    """SQLite keeps no time zone; we always store UTC."""
    return moment.replace(tzinfo=datetime.timezone.utc) if moment.tzinfo is None else moment


def _merged(rows: list[sa.RowMapping], manual: dict[str, ManualGrade]) -> Record:
    """A student's submissions, newest first, as one record: the newest result of every item, manual grades applied."""
    newest = _record(rows[0])
    if newest.report is None:
        return newest
    exercises = list(newest.report.exercises)
    for row in rows[1:]:
        if row["status"] != "graded" or not row["report"]:
            continue
        have = {e.id for e in exercises}
        exercises += [e for e in _record(row).report.exercises if e.id not in have]
    report = dataclasses.replace(newest.report, exercises=tuple(exercises))
    report, applied = apply_manual(report, manual)
    return dataclasses.replace(newest, report=report, manual=applied)


def apply_manual(report: GradeReport, manual: dict[str, ManualGrade]) -> tuple[GradeReport, tuple[ManualGrade, ...]]:
    """The report with each manual item the instructor graded worth the points given, and the grades used.

    The item keeps its test id, name and points; its outcome is passed when given full marks,
    else failed, with the instructor's comment and name as its message.
    """
    applied: list[ManualGrade] = []

    def graded(test: TestResult) -> TestResult:
        grade = manual.get(test.test_id)
        if grade is None or test.reason != "manual":
            return test
        applied.append(grade)
        points = max(0.0, min(float(test.points), grade.points))
        by = f"graded by {grade.grader or 'the instructor'}" + (
            f" on {grade.graded_at:%Y-%m-%d}" if grade.graded_at else ""
        )
        return dataclasses.replace(
            test,
            outcome="passed" if points == test.points else "failed",
            awarded=points,
            message=(*grade.comment.splitlines(), by),
        )

    def exercise(result: ExerciseResult) -> ExerciseResult:
        return dataclasses.replace(result, tests=tuple(graded(t) for t in result.tests))

    changed = dataclasses.replace(report, exercises=tuple(exercise(e) for e in report.exercises))
    return (changed, tuple(applied)) if applied else (report, ())


def _automatic(report: GradeReport) -> GradeReport:
    """The report without instructor-given points: whatever ran the tests cannot award them."""
    if not any(t.awarded is not None for e in report.exercises for t in e.tests):
        return report
    return dataclasses.replace(
        report,
        exercises=tuple(
            dataclasses.replace(e, tests=tuple(dataclasses.replace(t, awarded=None) for t in e.tests))
            for e in report.exercises
        ),
    )


def _record(row: sa.RowMapping) -> Record:
    graded_at = _utc(row["graded_at"])
    return Record(
        student=Student(row["student_id"], row["name"], row["email"]),
        status=row["status"],
        origin=row["origin"],
        source=row["source"],
        content_hash=row["content_hash"],
        fingerprint=row["fingerprint"],
        duration=row["duration"],
        error=row["error"],
        graded_at=graded_at,
        assignment=row["assignment"],
        report=from_json(json.loads(row["report"])) if row["report"] else None,
    )
