"""grade_all: submissions in parallel, each graded once, a broken one recorded and passed over.

These tests replace the engine's `grade` with a stand-in that records its calls, so they run
in a second; tests/engine/test_bulk_cli.py grades a real mixed class with the real engine.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import threading
import time

import pytest
from class_corpus import REFERENCE_CONV, make_exercise, make_report, student

from grader.classes import bulk
from grader.classes.bulk import BulkOptions, grade_all
from grader.classes.gradebook import Gradebook
from grader.classes.submissions import discover
from grader.engine.runner import GradeOptions


class FakeEngine:
    """Stands in for `runner.grade`: notes each call, how many ran at once, and can be told to fail."""

    def __init__(self, *, seconds: float = 0.0, crash_for: str | None = None):
        self.seconds, self.crash_for = seconds, crash_for
        self.calls: list[tuple[str, GradeOptions]] = []
        self.running = self.most_at_once = 0
        self.lock = threading.Lock()

    def __call__(self, course, folder, options):
        text = (folder / "conv.py").read_text()
        with self.lock:
            self.calls.append((text, options))
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            time.sleep(self.seconds)
            if self.crash_for and self.crash_for in text:
                raise RuntimeError("the judge's events file vanished")
            passed = "# correct" in text
            return make_report(
                [
                    make_exercise(
                        "conv",
                        [("by hand", "public", 20, "passed" if passed else "failed", None if passed else "mismatch")],
                    )
                ]
            )
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture
def engine(monkeypatch):
    fake = FakeEngine()
    monkeypatch.setattr(bulk, "grade", fake)
    return fake


@pytest.fixture
def gradebook(tmp_path):
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as book:
        yield book


def _class(folder, count: int) -> None:
    for i in range(count):
        student(folder, f"s{i:02d}", f"# correct\n# student {i}\n" if i % 2 == 0 else f"# buggy\n# student {i}\n")


def _statuses(outcomes) -> dict[str, str]:
    return {o.submission.student.id: o.status for o in outcomes}


@pytest.mark.parametrize("jobs", [1, 3])
def test_jobs_submissions_are_graded_at_once_each_with_one_judge_at_a_time(tmp_path, course, gradebook, engine, jobs):
    engine.seconds = 0.3
    _class(tmp_path / "class", 6)
    outcomes = grade_all(course, discover(tmp_path / "class"), gradebook, BulkOptions(exercises=("conv",), jobs=jobs))
    assert set(_statuses(outcomes).values()) == {"graded"} and len(outcomes) == 6
    assert engine.most_at_once == jobs
    assert {options for _, options in engine.calls} == {GradeOptions(exercises=("conv",), jobs=1)}
    assert {r.student.id: r.report.exercises[0].tests[0].outcome for r in gradebook.latest()}["s00"] == "passed"


def test_a_rerun_skips_what_did_not_change_and_grades_what_did(tmp_path, course, gradebook, engine):
    _class(tmp_path / "class", 4)
    found = discover(tmp_path / "class")
    grade_all(course, found, gradebook, BulkOptions(jobs=2))
    assert len(engine.calls) == 4
    again = grade_all(course, found, gradebook, BulkOptions(jobs=2))
    assert set(_statuses(again).values()) == {"unchanged"} and len(engine.calls) == 4
    (tmp_path / "class" / "s01" / "conv.py").write_text("# correct\n# fixed it\n")
    changed = grade_all(course, found, gradebook, BulkOptions(jobs=2))
    assert _statuses(changed) == {"s00": "unchanged", "s01": "graded", "s02": "unchanged", "s03": "unchanged"}
    assert engine.calls[-1][0] == "# correct\n# fixed it\n"
    assert [r.content_hash != "" for r in gradebook.history("s01")] == [True, True]


def test_force_grades_everything_again(tmp_path, course, gradebook, engine):
    _class(tmp_path / "class", 3)
    found = discover(tmp_path / "class")
    grade_all(course, found, gradebook, BulkOptions(jobs=2))
    forced = grade_all(course, found, gradebook, BulkOptions(jobs=2, force=True))
    assert set(_statuses(forced).values()) == {"graded"} and len(engine.calls) == 6
    assert len(gradebook.history("s00")) == 2


def test_new_tests_or_other_exercises_mean_grading_again(tmp_path, course, gradebook, engine):
    _class(tmp_path / "class", 2)
    found = discover(tmp_path / "class")
    grade_all(course, found, gradebook, BulkOptions(exercises=("conv",)))
    assert set(_statuses(grade_all(course, found, gradebook, BulkOptions())).values()) == {"graded"}
    stricter = course.with_grading(hypothesis_examples=course.grading.hypothesis_examples + 1)
    assert set(_statuses(grade_all(stricter, found, gradebook, BulkOptions())).values()) == {"graded"}
    assert set(_statuses(grade_all(stricter, found, gradebook, BulkOptions())).values()) == {"unchanged"}


def test_a_submission_that_breaks_the_grader_is_recorded_and_the_run_goes_on(tmp_path, course, gradebook, engine):
    engine.crash_for = "student 1\n"
    _class(tmp_path / "class", 4)
    (tmp_path / "class" / "zed.zip").write_bytes(b"not a zip at all")
    found = discover(tmp_path / "class")
    outcomes = grade_all(course, found, gradebook, BulkOptions(jobs=2))
    assert _statuses(outcomes) == {"s00": "graded", "s01": "broken", "s02": "graded", "s03": "graded", "zed": "broken"}
    stored = {r.student.id: r for r in gradebook.latest()}
    assert stored["s01"].status == "broken" and stored["s01"].report is None
    assert stored["s01"].error.startswith(
        "the grader failed on this submission: RuntimeError: the judge's events file vanished (at test_bulk.py:"
    )
    assert stored["zed"].error == "zed.zip is not a readable zip: File is not a zip file"
    engine.crash_for = None  # the grader is fixed: broken submissions are tried again, the others are not
    retried = grade_all(course, found, gradebook, BulkOptions(jobs=2))
    assert _statuses(retried) == {
        "s00": "unchanged",
        "s01": "graded",
        "s02": "unchanged",
        "s03": "unchanged",
        "zed": "broken",
    }


def test_each_finished_submission_is_reported_to_the_listener_as_it_finishes(tmp_path, course, gradebook, engine):
    _class(tmp_path / "class", 3)
    heard = []
    grade_all(course, discover(tmp_path / "class"), gradebook, BulkOptions(jobs=2), listener=heard.append)
    assert sorted(o.submission.student.id for o in heard) == ["s00", "s01", "s02"]
    assert all(o.record is not None and o.duration >= 0 for o in heard)


def test_the_slowest_submissions_of_the_last_run_start_first(tmp_path, course, gradebook, engine):
    _class(tmp_path / "class", 3)
    found = discover(tmp_path / "class")
    grade_all(course, found, gradebook, BulkOptions(jobs=1))
    seen = gradebook.seen() | {"s01": bulk.Seen("x", "y", "graded", 99.0)}
    del seen["s02"]  # a new student: not graded before, so started before anyone else
    assert [s.student.id for s in bulk._longest_first(found, seen)] == ["s02", "s01", "s00"]


def test_the_report_names_the_original_submission_not_the_scratch_copy(tmp_path, course, gradebook, engine):
    _class(tmp_path / "class", 1)
    grade_all(course, discover(tmp_path / "class"), gradebook, BulkOptions())
    [record] = gradebook.latest()
    assert record.report.submission == str(tmp_path / "class" / "s00") == record.source


def test_student_code_cannot_change_the_instructors_copy(tmp_path, course, gradebook, monkeypatch):
    def vandal(course, folder, options):
        (folder / "conv.py").write_text("# overwritten while grading\n")
        (folder / "__pycache__").mkdir()
        return make_report([make_exercise("conv", [("t", "public", 1, "passed", None)])])

    monkeypatch.setattr(bulk, "grade", vandal)
    home = student(tmp_path / "class", "ada", REFERENCE_CONV)
    grade_all(course, discover(tmp_path / "class"), gradebook, BulkOptions())
    assert (home / "conv.py").read_text() == REFERENCE_CONV.read_text() and not (home / "__pycache__").exists()


def test_an_assignment_is_graded_with_each_submissions_own_hand_in_time(tmp_path, course, gradebook, engine):
    assignment = course.assignments[0].id if course.assignments else pytest.skip("the course has no assignment")
    export = tmp_path / "export"
    student(export, "submission_1", "# correct\n")
    student(export, "submission_2", "# correct\n# late\n")
    (export / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters:\n  - :name: Ada\n  :created_at: 2026-11-20 10:00:00.000000 -08:00\n"
        "submission_2:\n  :submitters:\n  - :name: Ben\n"
    )
    repo = student(tmp_path / "repos", "cy", "# correct\n")
    committed = "2026-12-12T09:30:00+00:00"
    git = ["git", "-C", str(repo), "-c", "user.name=cy", "-c", "user.email=cy@uni.edu"]
    subprocess.run(git[:3] + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(
        git + ["commit", "-q", "-m", "done"],
        check=True,
        env=os.environ | {"GIT_COMMITTER_DATE": committed, "GIT_AUTHOR_DATE": committed},
    )
    collected = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
    found = discover(export) + discover(tmp_path / "repos")
    grade_all(course, found, gradebook, BulkOptions(assignment=assignment, submitted_at=collected))
    times = sorted(options.submitted_at.isoformat() for _, options in engine.calls)
    assert times == ["2026-11-20T10:00:00-08:00", "2026-12-01T00:00:00+00:00", "2026-12-12T09:30:00+00:00"]
    assert {options.assignment for _, options in engine.calls} == {assignment}
