"""Grading inside a release: the tamper check, and the sealed bundle opened only with its key.

`grader grade` wraps its grading in `release_grading`. In an instructor's
course (no `.grader/manifest.json`) it changes nothing. In a release it
compares the protected files with the manifest, and:

- without `GRADER_BUNDLE_KEY`, grades the public suites only and says so;
- with it, decrypts the bundle into a private temporary course (the pristine
  course.toml, public and hidden suites, references, quiz keys), grades the
  student's modules against that, and checks the release against the
  checksums sealed in the bundle, which a student cannot forge. A key that
  does not open the bundle, or a missing bundle, is an error, never a silent
  fall back to the public tests.

Student code never sees the key: the sandbox gives it an environment of a
few fixed variables (grader/sandbox.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator, Mapping

from grader.manifest import Course, load_course
from grader.publish import bundle, tamper
from grader.results import GradeReport
from grader.runner import GradeOptions, grade

@dataclasses.dataclass(frozen=True)
class ReleaseGrading:
    course: Course                       #: the course to grade with (the sealed one when the bundle is open)
    options: GradeOptions
    notes: tuple[str, ...] = ()
    changes: tuple[tamper.Change, ...] = ()

    def finish(self, report: GradeReport) -> GradeReport:
        """The report with the tamper check's findings and the bundle's status added."""
        tamper_notes = tuple(f"tamper check: {c.describe()}" for c in self.changes)
        return dataclasses.replace(report, notes=report.notes + self.notes + tamper_notes,
                                   tampered=tuple(c.path for c in self.changes))


@contextlib.contextmanager
def release_grading(course: Course, options: GradeOptions, *,
                    environ: Mapping[str, str] = os.environ) -> Iterator[ReleaseGrading]:
    recorded = tamper.read_manifest(course.root)
    if recorded is None:
        yield ReleaseGrading(course, options)
        return
    key = environ.get(bundle.KEY_ENV, "").strip()
    sealed = (course.root / bundle.BUNDLE_PATH).is_file() or bundle.BUNDLE_PATH in recorded["files"]
    if not key or not sealed:
        yield _unsealed(course, options, recorded, sealed=sealed)
        return
    with tempfile.TemporaryDirectory(prefix="grader-sealed-") as folder:
        bundle.open_into(course.root / bundle.BUNDLE_PATH, key, Path(folder))
        trusted = json.loads((Path(folder) / bundle.SEALED_MANIFEST).read_text("utf-8"))
        changes = tamper.compare(course.root, trusted, skip=frozenset({bundle.BUNDLE_PATH}))
        note = f"hidden tests: run from the sealed {bundle.BUNDLE_PATH}"
        yield ReleaseGrading(load_course(folder), options, (note,), tuple(changes))


def _unsealed(course: Course, options: GradeOptions, recorded: dict, *, sealed: bool) -> ReleaseGrading:
    changes = tuple(tamper.compare(course.root, recorded))
    if not sealed:
        return ReleaseGrading(course, options, changes=changes)
    note = (f"the hidden tests are sealed in {bundle.BUNDLE_PATH}: they run where {bundle.KEY_ENV} "
            "holds the key (the course's CI, Gradescope); here only the public tests ran")
    return ReleaseGrading(course, dataclasses.replace(options, public_only=True), (note,), changes)


def grade_release(course: Course, submission: Path, options: GradeOptions) -> GradeReport:
    """`runner.grade`, with the release's tamper check and sealed bundle (a plain course is graded as is).

    Raises `bundle.BundleError` (a `CourseError`) when the key is set but cannot open the bundle.
    """
    with release_grading(course, options) as graded:
        return graded.finish(grade(graded.course, submission, graded.options))
