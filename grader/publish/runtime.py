"""Grading inside a student release: the tamper check, and the word that the score is provisional.

`grader grade` wraps its grading in `release_grading`. In an instructor's
course (no `.grader/manifest.json`) it changes nothing. In a release it
compares the protected files with the manifest and reports each change, and
says the score is provisional: a release holds no hidden suite and no key, so
it grades the public tests (and the formative quizzes) only. The official grade
is computed where the student has no hand: the instructor's grading repository
(grader/publish/grading_repo.py), Gradescope, or `grader grade-all`.

The tamper check is a courtesy to the student ("you changed a test"), never a
defence: code the student controls cannot check itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Iterator

from grader.course.manifest import Course
from grader.engine.runner import GradeOptions, grade
from grader.publish import tamper
from grader.results import GradeReport

PROVISIONAL = (
    "provisional score: this release runs the public tests only; your grade is computed by your "
    "instructor with the hidden tests, from what you handed in"
)


@dataclasses.dataclass(frozen=True)
class ReleaseGrading:
    course: Course
    options: GradeOptions
    notes: tuple[str, ...] = ()
    changes: tuple[tamper.Change, ...] = ()

    def finish(self, report: GradeReport) -> GradeReport:
        """The report with the tamper check's findings and the provisional note added."""
        tamper_notes = tuple(f"tamper check: {c.describe()}" for c in self.changes)
        return dataclasses.replace(
            report, notes=report.notes + self.notes + tamper_notes, tampered=tuple(c.path for c in self.changes)
        )


@contextlib.contextmanager
def release_grading(course: Course, options: GradeOptions) -> Iterator[ReleaseGrading]:
    recorded = tamper.read_manifest(course.root)
    if recorded is None:
        yield ReleaseGrading(course, options)
        return
    changes = tuple(tamper.compare(course.root, recorded))
    yield ReleaseGrading(course, dataclasses.replace(options, public_only=True), (PROVISIONAL,), changes)


def grade_release(course: Course, submission: Path, options: GradeOptions) -> GradeReport:
    """`runner.grade`, with the release's tamper check and provisional note (a plain course is graded as is)."""
    with release_grading(course, options) as graded:
        return graded.finish(grade(graded.course, submission, graded.options))
