"""`grader import`: results.json files graded elsewhere (Gradescope, GitHub Actions) into the gradebook.

When each submission is graded where it was submitted (the course's Gradescope autograder,
or the GitHub Actions workflow of each student's repository), every run leaves a
`results.json`: what `grader grade --format json` writes. Importing rebuilds the
`GradeReport` from it (the course supplies titles, sections and points), so the gradebook,
the CSV and the feedback pages are the same whichever machine graded.

A plain Gradescope results.json from another autograder imports too: tests without our
`extra_data` are filed under the exercise named before the colon in their name.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from grader.classes.gradebook import Gradebook, Record
from grader.classes.submissions import Student, SubmissionError, discover
from grader.course.manifest import Course, ExerciseSpec
from grader.results import ExerciseResult, GradeReport, Lateness, TestResult

RESULTS_FILE = "results.json"


class ResultsError(Exception):
    """A results file that cannot be read as a grading report."""


#: What reading a results file that is not one raises (bad JSON, missing or mistyped keys).
MALFORMED = (ValueError, KeyError, TypeError, AttributeError)


@dataclasses.dataclass(frozen=True)
class Found:
    student: Student
    path: Path


@dataclasses.dataclass(frozen=True)
class Imported:
    found: Found
    status: str  #: "imported", "unchanged", or why the file was not imported
    assignment: str | None = None  #: the assignment it was filed under ("" for none); None if not imported


def find_results(paths: list[Path], *, student: str | None = None) -> list[Found]:
    """The results files under `paths`, each with its student.

    A file given by name belongs to `student`, else to its folder (`alice/results.json`) or
    its own name (`alice.json`). In a folder, each results.json belongs to the top folder it
    sits in, named as `grade-all` names submissions (Gradescope metadata, repository prefixes).
    """
    found = []
    for path in paths:
        if path.is_file():
            owner = student or (path.resolve().parent.name if path.name == RESULTS_FILE else path.stem)
            found.append(Found(Student(owner), path))
        elif path.is_dir():
            found += _in_folder(path)
        else:
            raise ResultsError(f"no such file or folder: {path}")
    return found


def _in_folder(folder: Path) -> list[Found]:
    try:
        owners = {s.source.name: s.student for s in discover(folder)}
    except SubmissionError as error:
        raise ResultsError(str(error)) from None
    found = []
    for file in sorted(folder.rglob(RESULTS_FILE)):
        parts = file.relative_to(folder).parts
        top = parts[0] if len(parts) > 1 else folder.resolve().name
        found.append(Found(owners.get(top) or Student(top), file))
    return found


def import_results(
    course: Course, found: list[Found], gradebook: Gradebook, *, origin: str = "import", force: bool = False
) -> list[Imported]:
    """Store each results file as its student's latest submission (of the assignment it graded, if any).

    Returns, for each file, whether it was imported, and under which assignment.
    """
    done, seen = [], {}
    for item in found:
        data = item.path.read_bytes()
        try:
            report = report_from_results(course, json.loads(data), source=str(item.path))
        except MALFORMED as error:
            done.append(Imported(item, f"not a results file: {type(error).__name__}: {error}"))
            continue
        assignment = report.lateness.assignment if report.lateness else ""
        content_hash = hashlib.sha256(data).hexdigest()
        known = seen.setdefault(assignment, gradebook.seen(assignment)).get(item.student.id)
        if not force and known is not None and known.content_hash == content_hash:
            done.append(Imported(item, "unchanged", assignment))
            continue
        gradebook.record(
            Record(
                student=item.student,
                status="graded",
                origin=origin,
                source=str(item.path),
                content_hash=content_hash,
                fingerprint=origin,
                duration=_duration(report),
                report=report,
                assignment=assignment,
            )
        )
        done.append(Imported(item, "imported", assignment))
    return done


def read_reports(course: Course, paths: list[Path]) -> GradeReport:
    """Saved reports as one: the release's workflow saves one per exercise, the gradebook wants one.

    Exercises keep the order the files are given in, each once (twice would count its points
    twice); the lateness is the first one set; release files changed are those any report names.
    """
    reports = []
    for path in paths:
        try:
            reports.append(report_from_results(course, json.loads(path.read_bytes()), source=str(path)))
        except OSError as error:
            raise ResultsError(f"{path}: {error.strerror}") from None
        except MALFORMED as error:
            raise ResultsError(f"{path} is not a results file: {type(error).__name__}: {error}") from None
    if not reports:
        raise ResultsError("no reports given")
    ids = [e.id for r in reports for e in r.exercises]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ResultsError(f"{', '.join(twice)} graded in more than one of the reports: give each exercise once")
    first = reports[0]
    return dataclasses.replace(
        first,
        submission=", ".join(r.submission for r in reports),
        exercises=tuple(e for r in reports for e in r.exercises),
        public_only=any(r.public_only for r in reports),
        notes=tuple(dict.fromkeys(n for r in reports for n in r.notes)),
        lateness=next((r.lateness for r in reports if r.lateness is not None), None),
        tampered=tuple(dict.fromkeys(t for r in reports for t in r.tampered)),
    )


def report_from_results(course: Course, data: dict, *, source: str) -> GradeReport:
    """Rebuild a `GradeReport` from a results.json (ours, or any Gradescope one)."""
    known = {e.id: e for e in course.exercises}
    # `grader grade --format json` puts our keys at the top; the Gradescope autograder moves them into extra_data.
    ours = {**(data.get("extra_data") or {}), **data}
    tests: dict[str, list[TestResult]] = {}
    for entry in ours.get("tests", []):
        test = _test(entry, known)
        tests.setdefault(test.exercise, []).append(test)
    for entry in ours.get("pending", []):
        test = _pending(entry)
        tests.setdefault(test.exercise, []).append(test)
    listed = {e["id"]: e for e in ours.get("exercises", [])}
    order = list(listed) + [i for i in tests if i not in listed]
    exercises = tuple(_exercise(i, listed.get(i, {}), tuple(tests.get(i, ())), known.get(i)) for i in order)
    return GradeReport(
        course=course.info.name,
        submission=source,
        exercises=exercises,
        public_only=bool(ours.get("public_only", False)),
        notes=tuple(ours.get("notes", ())),
        hidden_visibility=course.grading.hidden_visibility,
        lateness=_lateness(ours.get("assignment")),
        tampered=tuple(ours.get("tampered") or ()),
    )


def _lateness(assignment: dict | None) -> Lateness | None:
    """The JSON gives days late and the penalty; the penalty per day follows from the two."""
    if not assignment:
        return None
    days, penalty = int(assignment.get("days_late") or 0), float(assignment.get("penalty_percent") or 0)
    return Lateness(
        assignment=str(assignment["id"]),
        due=str(assignment["due"]),
        submitted_at=str(assignment["submitted_at"]),
        policy=str(assignment.get("late_policy", "none")),
        penalty_per_day=penalty / days if days else 0.0,
    )


def _test(entry: dict, known: dict[str, ExerciseSpec]) -> TestResult:
    extra = entry.get("extra_data") or {}
    name = str(entry["name"])
    exercise = extra.get("exercise") or _exercise_of(name, known)
    name = name.removeprefix(f"{exercise}: ")
    lines = str(entry.get("output") or "").splitlines()
    hint = lines.pop()[len("hint: ") :] if lines and lines[-1].startswith("hint: ") else None
    points = float(entry.get("max_score") or 0)
    passed = entry.get("status", "passed" if float(entry.get("score") or 0) >= points else "failed") == "passed"
    reason = extra.get("reason")
    return TestResult(
        exercise=exercise,
        test_id=str(extra.get("test_id") or name),
        name=name,
        kind=extra.get("kind") or ("public" if entry.get("visibility", "visible") == "visible" else "hidden"),
        points=points,
        outcome="passed" if passed else ("error" if reason == "grader" else "failed"),
        reason=None if passed else (reason or "mismatch"),
        message=tuple(lines),
        hint=hint,
        diagnosis=extra.get("diagnosis"),
        duration=float(extra.get("duration") or 0),
    )


def _exercise_of(name: str, known: dict[str, ExerciseSpec]) -> str:
    prefix = name.split(":", 1)[0].strip()
    return prefix if ":" in name and prefix in known else "autograder"


def _pending(entry: dict) -> TestResult:
    name = str(entry["name"])
    exercise = str(entry.get("exercise") or name.split(":", 1)[0])
    return TestResult(
        exercise=exercise,
        test_id=name,
        name=name.removeprefix(f"{exercise}: "),
        kind="public",
        points=float(entry.get("points") or 0),
        outcome="pending",
        reason="manual",
        message=tuple(str(entry.get("output") or "").splitlines()),
    )


def _exercise(
    exercise_id: str, listed: dict, tests: tuple[TestResult, ...], spec: ExerciseSpec | None
) -> ExerciseResult:
    points = spec.points if spec else float(listed.get("max_score") or sum(t.points for t in tests))
    return ExerciseResult(
        id=exercise_id,
        title=spec.title if spec else listed.get("title", exercise_id),
        section=spec.section if spec else "",
        points=points,
        tests=tests,
        hidden_points_not_run=float(listed.get("hidden_points_not_run") or 0),
        problem=listed.get("problem"),
        output=str(listed.get("output") or ""),
        duration=float(listed.get("duration") or 0),
    )


def _duration(report: GradeReport) -> float:
    return round(sum(e.duration for e in report.exercises), 3)
