"""Helpers for the engine's tests: grading a single source file (the corpus: corpus_variants.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from corpus_variants import variants

from grader.course.manifest import Course
from grader.engine.runner import grade_exercise, grade_exercises_of
from grader.results import ExerciseResult

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).parent / "corpus"


def corpus_text(variant_id: str) -> str:
    """The module a corpus variant stands for (`"conv/buggy_flipped_kernel"`): a whole file, or its patch applied."""
    exercise, _, name = variant_id.partition("/")
    found = [v for v in variants(exercise) if v.name == name]
    if not found:
        raise LookupError(f"no corpus variant {variant_id!r}")
    return found[0].text()


def grade_source(
    course: Course,
    exercise_id: str,
    source: Path | str,
    tmp_path: Path,
    *,
    extra: dict[str, Path | str] | None = None,
    public_only: bool = False,
) -> ExerciseResult:
    """Grade one exercise of a submission made of `source` (a file, or the module's text) and `extra` files."""
    exercise = course.exercise(exercise_id)
    submission = tmp_path / "submission"
    submission.mkdir(parents=True, exist_ok=True)
    target = submission / exercise.module
    if isinstance(source, Path):
        shutil.copy(source, target)
    else:
        target.write_text(source, encoding="utf-8")
    for name, other in (extra or {}).items():
        if isinstance(other, Path):
            shutil.copy(other, submission / name)
        else:
            (submission / name).write_text(other, encoding="utf-8")
    return grade_exercise(course, exercise, submission, public_only=public_only)


def validate_json(instance, schema: dict) -> None:
    """jsonschema's check, imported when a test needs it: its import builds an IRI grammar (seconds),
    which every collection of the tests would otherwise pay."""
    import jsonschema

    jsonschema.validate(instance, schema)


def grade_submissions(course: Course, exercise, submissions: list[Path], *, jobs: int) -> list[ExerciseResult]:
    """Grade one exercise of many submissions at once: one judge each, `jobs` at a time, in the warm engine."""
    return grade_exercises_of(course, exercise, submissions, jobs=jobs)
