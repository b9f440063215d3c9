"""Grading a class: every submission of a folder, several at once, each one only once.

Each submission is graded by the engine exactly as `grader grade` grades it (`runner.grade`:
a judge process per exercise, the student's code in its own sandbox), with `jobs=1`: the
parallelism is over submissions, `jobs` of them at once, never pools inside pools. So a
submission that hangs holds one slot for its own time limit while the others go on.

A submission is skipped when the gradebook's latest grading of that student has the same
content hash and the same course fingerprint (course.toml, suites, reference, the exercises
asked for): neither the student's files nor the tests changed, so the grade cannot have.
A submission that breaks the grader itself is recorded as broken, with the reason, and the
run goes on; broken submissions are retried on every run.

A run may be narrowed to some students (`students`) or to those whose last grading failed
for a reason of the grader's or the machine's (`only_failed`: broken, a grader error, a time
limit or a crash): both grade the chosen submissions again even if unchanged, and, like every
grading, add to the history rather than replace it.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from grader import score
from grader.classes.gradebook import Gradebook, Record, Seen
from grader.classes.submissions import Submission, SubmissionError, handed_in, prepare
from grader.course.manifest import COURSE_FILE, Course
from grader.engine import warm as engine
from grader.engine.runner import GradeOptions, grade

Status = Literal["graded", "unchanged", "broken"]


@dataclasses.dataclass(frozen=True)
class BulkOptions:
    exercises: tuple[str, ...] = ()  #: ids to grade; empty means all
    public_only: bool = False
    jobs: int = 0  #: submissions graded at once; 0 means the number of cores
    force: bool = False  #: grade unchanged submissions again
    assignment: str | None = None  #: grade this assignment's items, with its late policy
    submitted_at: dt.datetime | None = None  #: hand-in time of submissions whose layout records none
    students: tuple[str, ...] = ()  #: grade only these students (again, even if unchanged); empty: all
    only_failed: bool = False  #: grade (again) only students whose last grading failed (`failed`)

    def grade_options(self, submission: Submission) -> GradeOptions:
        """The engine's options for one submission: one judge at a time, and its own hand-in time."""
        when = (handed_in(submission) or self.submitted_at) if self.assignment else None
        return GradeOptions(
            exercises=self.exercises,
            public_only=self.public_only,
            jobs=1,
            assignment=self.assignment,
            submitted_at=when,
        )


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What happened to one submission in this run."""

    submission: Submission
    status: Status
    duration: float  #: seconds spent on it in this run
    record: Record | None = None  #: what was stored; None when unchanged


Listener = Callable[[Outcome], None]


def grade_all(
    course: Course,
    found: list[Submission],
    gradebook: Gradebook,
    options: BulkOptions = BulkOptions(),
    *,
    listener: Listener | None = None,
) -> list[Outcome]:
    """Grade `found` into `gradebook`, `options.jobs` submissions at once; return what happened to each.

    Results are stored as each submission finishes, so an interrupted run keeps what it graded.
    """
    # the warm engine (its zygote, its judge server) before any submission is read and any thread starts
    engine.shared()
    fingerprint = course_fingerprint(course, options)
    found = selected(found, gradebook, options)
    if options.students or options.only_failed:
        options = dataclasses.replace(options, force=True)
    seen = gradebook.seen(options.assignment or "", fingerprint=fingerprint)
    jobs = options.jobs or os.cpu_count() or 1
    outcomes = []
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grade-all")
    try:
        futures: list[Future[Outcome]] = [
            pool.submit(grade_submission, course, s, options, fingerprint=fingerprint, seen=seen.get(s.student.id))
            for s in _longest_first(found, seen)
        ]
        for future in as_completed(futures):
            outcome = future.result()
            if outcome.record is not None:
                gradebook.record(outcome.record)
            outcomes.append(outcome)
            if listener is not None:
                listener(outcome)
    finally:
        # On Ctrl-C: drop what has not started; what runs ends within its own time limit.
        pool.shutdown(wait=True, cancel_futures=True)
    return sorted(outcomes, key=lambda o: (o.submission.student.id, str(o.submission.source)))


def selected(found: list[Submission], gradebook: Gradebook, options: BulkOptions) -> list[Submission]:
    """The submissions this run grades: those of `options.students`, and of them, with `only_failed`, the failed."""
    if options.students:
        wanted = set(options.students)
        found = [s for s in found if s.student.id in wanted]
    if options.only_failed:
        records = {r.student.id: r for r in gradebook.latest(options.assignment or "")}
        found = [s for s in found if s.student.id in records and failed(records[s.student.id], options.exercises)]
    return found


#: Why a test failed that says nothing about the student's work: the machine or the grader.
FAILED_REASONS = frozenset({"timeout", "crash", "grader"})


def failed(record: Record, exercises: tuple[str, ...] = ()) -> bool:
    """Whether grading this record went wrong (broken, grader error, time limit, crash) in `exercises` (or any)."""
    if record.report is None:
        return record.status == "broken"
    chosen = [e for e in record.report.exercises if not exercises or e.id in exercises]
    return any(
        score.exercise_status(e) == "error"
        or (e.problem and not e.problem.startswith("note:"))
        or any(t.reason in FAILED_REASONS for t in e.tests)
        for e in chosen
    )


def grade_submission(
    course: Course, submission: Submission, options: BulkOptions, *, fingerprint: str, seen: Seen | None = None
) -> Outcome:
    """Prepare, skip if unchanged, grade: never raises for anything the submission does."""
    started = time.monotonic()
    content_hash = ""

    def outcome(status: Status, **fields: object) -> Outcome:
        duration = round(time.monotonic() - started, 3)
        if status == "unchanged":
            return Outcome(submission, status, duration)
        record = Record(
            student=submission.student,
            status=status,
            origin="grade-all",
            source=str(submission.source),
            content_hash=content_hash,
            fingerprint=fingerprint,
            duration=duration,
            assignment=options.assignment or "",
            **fields,
        )
        return Outcome(submission, status, duration, record)

    with tempfile.TemporaryDirectory(prefix="grader-class-") as scratch:
        try:
            prepared = prepare(submission, Path(scratch), course)
            content_hash = prepared.content_hash
            if not options.force and _unchanged(seen, content_hash, fingerprint):
                return outcome("unchanged")
            report = grade(course, prepared.folder, options.grade_options(submission))
        except SubmissionError as error:
            return outcome("broken", error=str(error))
        except Exception as error:  # noqa: BLE001 - one submission that breaks the grader must not stop the class
            return outcome("broken", error=describe_crash(error))
    return outcome("graded", report=dataclasses.replace(report, submission=str(submission.source)))


def _unchanged(seen: Seen | None, content_hash: str, fingerprint: str) -> bool:
    """Graded before, from the same files, by the same tests."""
    return seen is not None and (seen.content_hash, seen.fingerprint, seen.status) == (
        content_hash,
        fingerprint,
        "graded",
    )


def describe_crash(error: BaseException) -> str:
    """The grader's own failure, for the instructor: the exception and where it was raised."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"the grader failed on this submission: {type(error).__name__}: {error}{where}"


def course_fingerprint(course: Course, options: BulkOptions) -> str:
    """sha256 of everything besides the submission that decides a grade."""
    digest = hashlib.sha256()
    files = {course.root / COURSE_FILE}
    for exercise in course.exercises:
        files.update(course.suite_paths(exercise, hidden=True))
        files.add(course.reference_file(exercise))
    files.update(course.root / quiz.bank for quiz in course.quizzes)
    for path in sorted(files):
        if path.is_file():
            digest.update(path.relative_to(course.root).as_posix().encode() + b"\0" + path.read_bytes())
    selection = {
        "exercises": sorted(options.exercises),
        "public_only": options.public_only,
        "assignment": options.assignment,
        "grading": course.grading.model_dump(),
        "submitted_at": options.submitted_at.isoformat() if options.submitted_at else None,
    }
    digest.update(json.dumps(selection, sort_keys=True).encode())
    return digest.hexdigest()


def _longest_first(found: list[Submission], seen: dict[str, Seen]) -> list[Submission]:
    """New submissions first, then by how long each took last time, longest first.

    Starting the slow ones early keeps a hanging submission from being the last one left.
    """

    def key(submission: Submission) -> tuple[bool, float]:
        known = seen.get(submission.student.id)
        return (known is not None, -(known.duration if known else 0.0))

    return sorted(found, key=key)


@contextlib.contextmanager
def progress_bar(total: int, console: Console) -> Iterator[Listener]:
    """A rich progress bar with counts and an ETA; yields the listener to pass to `grade_all`."""
    columns = (
        TextColumn("[bold]grading"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[tally]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    tally: collections.Counter[str] = collections.Counter()
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("grading", total=total, tally="")

        def advance(outcome: Outcome) -> None:
            tally[outcome.status] += 1
            progress.update(task, advance=1, tally=", ".join(f"{n} {s}" for s, n in sorted(tally.items())))

        yield advance
