"""Helpers for the class-grading tests: a class of student folders, a course with short time limits."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from support import CORPUS, ROOT

from grader.course.manifest import Course, load_course
from grader.results import ExerciseResult, GradeReport, TestResult

REFERENCE_CONV = ROOT / "reference/conv.py"
#: Both functions loop forever, so every test runs into its own time limit and, three tests in,
#: the exercise runs into its limit. (A loop at module level would instead fail every test at once,
#: on the first import.) It sleeps rather than spins, so the tests beside it on CI's two cores keep
#: their speed; the engine stops either kind at the same time limit.
HANG = """

import time


def zero_pad(x, padding):
    while True:
        time.sleep(0.05)


def conv2d_forward(x, weight, bias=None, stride=1, padding=0):
    while True:
        time.sleep(0.05)
"""


def student(folder: Path, name: str, source: Path | str, *, module: str = "conv.py") -> Path:
    """A student's folder holding one module, copied from a file or written from text."""
    home = folder / name
    home.mkdir(parents=True, exist_ok=True)
    if isinstance(source, Path):
        shutil.copy(source, home / module)
    else:
        (home / module).write_text(source, encoding="utf-8")
    return home


def mixed_class(folder: Path) -> dict[str, str]:
    """A correct, a buggy and a hanging submission of conv; returns student -> kind."""
    student(folder, "ada", REFERENCE_CONV)
    student(folder, "ben", CORPUS / "conv/buggy_no_refusals.py")
    student(folder, "dee", REFERENCE_CONV.read_text(encoding="utf-8") + HANG)
    return {"ada": "correct", "ben": "buggy", "dee": "hanging"}


def quick_course(folder: Path, *, test_timeout: float, exercise_timeout: float) -> Course:
    """A copy of the course whose course.toml has shorter time limits (for `--course` on the command line).

    Copies what course.toml names (tutorial, reference/, exercises/, the suites' folders, quiz
    banks), so it keeps working as exercises and quizzes are added.
    """
    course = load_course(ROOT)
    folders = {course.reference_dir, course.exercises_dir}
    for exercise in course.exercises:
        folders.update(path.parent for path in course.suite_paths(exercise, hidden=True))
    for path in sorted(folders - {ROOT}):
        shutil.copytree(
            path, folder / path.relative_to(ROOT), dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
        )
    for path in [course.tutorial_path, *(ROOT / quiz.bank for quiz in course.quizzes)]:
        (folder / path.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, folder / path.relative_to(ROOT))
    text = (ROOT / "course.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^test_timeout\s*=.*$", f"test_timeout = {test_timeout}", text, count=1)
    text = re.sub(r"(?m)^exercise_timeout\s*=.*$", f"exercise_timeout = {exercise_timeout}", text, count=1)
    (folder / "course.toml").write_text(text, encoding="utf-8")
    quick = load_course(folder)
    assert (quick.grading.test_timeout, quick.grading.exercise_timeout) == (test_timeout, exercise_timeout)
    return quick


def make_report(exercise_results: list[ExerciseResult], *, course: str = "CNN Deep Dive", submission: str = "x"):
    return GradeReport(course=course, submission=submission, exercises=tuple(exercise_results))


def make_exercise(
    exercise_id: str,
    tests: list[tuple],
    *,
    points: float | None = None,
    problem: str | None = None,
    title: str = "",
    section: str = "The Convolution Operation",
) -> ExerciseResult:
    """An exercise result from (name, kind, points, outcome, reason) tuples; failures get a message and a hint."""
    results = tuple(
        TestResult(
            exercise=exercise_id,
            test_id=f"tests/{kind}/test_{exercise_id}.py::{name.replace(' ', '_')}",
            name=name,
            kind=kind,
            points=test_points,
            outcome=outcome,
            reason=reason,
            message=() if outcome == "passed" else (f"call: {name}()", "expected: 1", "got:      2"),
            hint=None if outcome == "passed" else f"hint for {name}",
            duration=0.01,
        )
        for name, kind, test_points, outcome, reason in tests
    )
    return ExerciseResult(
        id=exercise_id,
        title=title or exercise_id.title(),
        section=section,
        points=points if points is not None else sum(t.points for t in results),
        tests=results,
        problem=problem,
        duration=0.5,
    )
