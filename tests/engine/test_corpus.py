"""Our corpus of student submissions grades as it should.

`corpus/<exercise>/buggy_*.py` are the mistakes students really make: each must
lose points, with short feedback that blames the submission, never the grader.
`corpus/<exercise>/correct_*.py` are right answers written differently: each
must score full marks. Sibling modules a variant needs (efficientnet imports
scaling) come from reference/.

A buggy variant whose docstring says `Misconception: <name>` must be diagnosed as
that entry of the exercise's catalogue; no variant may be diagnosed as anything else.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from grader import score
from grader.diagnosis import load_catalogue
from grader.feedback import MAX_LINES
from support import CORPUS, ROOT, grade_submissions

VARIANTS = sorted(CORPUS.glob("*/*.py"))


def _variants(prefix: str) -> list:
    """The variants named `prefix*`, grouped by exercise (`--dist loadgroup`: one xdist worker grades an exercise)."""
    return [pytest.param(v, id=f"{v.parent.name}/{v.stem}", marks=pytest.mark.xdist_group(v.parent.name))
            for v in VARIANTS if v.name.startswith(prefix)]


@pytest.fixture(scope="session")
def corpus_results(course, tmp_path_factory):
    """Each exercise's whole corpus, graded at once by the warm engine (judges forked in parallel) the
    first time a test asks for one of its variants: `results(path)` is that variant's result."""
    graded: dict[Path, object] = {}

    def results(path: Path):
        if path not in graded:
            variants = [v for v in VARIANTS if v.parent == path.parent]
            folders = [_submission(course, v, tmp_path_factory.mktemp(f"{v.parent.name}-{v.stem}")) for v in variants]
            exercise = course.exercise(path.parent.name)
            outcomes = grade_submissions(course, exercise, folders, jobs=os.cpu_count() or 1)
            graded.update(zip(variants, outcomes))
        return graded[path]

    return results


def _submission(course, path: Path, folder: Path) -> Path:
    """A submission of the variant, with the reference's other modules beside it (efficientnet imports scaling)."""
    exercise_id = path.parent.name
    for other in course.exercises:
        if other.id != exercise_id and course.reference_file(other).is_file():
            shutil.copy(course.reference_file(other), folder / other.module)
    shutil.copy(path, folder / course.exercise(exercise_id).module)
    return folder


def _grade(corpus_results, path):
    return corpus_results(path)


@pytest.mark.parametrize("variant", _variants("correct_"))
def test_correct_alternatives_score_full_marks(course, corpus_results, variant):
    result = _grade(corpus_results, variant)
    assert [(t.name, t.message) for t in result.tests if score.is_graded_here(t) and not t.passed] == []
    assert score.exercise_score(result) + score.pending_points(result) == course.exercise(variant.parent.name).points
    assert [t.diagnosis for t in result.tests if t.diagnosis] == []


@pytest.mark.parametrize("variant", _variants("buggy_"))
def test_each_known_bug_loses_points_with_short_feedback(corpus_results, variant):
    result = _grade(corpus_results, variant)
    failing = [t for t in result.tests if score.is_graded_here(t) and not t.passed]
    assert failing, f"{variant.name} scored full marks"
    for test in failing:
        assert test.outcome == "failed", test.message  # the submission's fault, not the grader's
        assert len(test.message) + 1 <= MAX_LINES
        text = "\n".join(test.message)
        assert "Traceback" not in text and "grader/" not in text and "site-packages" not in text
    declared = _declared_misconception(variant)
    diagnosed = {t.diagnosis for t in failing if t.diagnosis}
    assert diagnosed <= {declared}, f"diagnosed as {diagnosed}, but the mistake is {declared or 'not catalogued'}"
    if declared:
        assert declared in diagnosed, f"{variant.name} is not diagnosed as {declared}"
        named = {t.message[:2] for t in failing if t.diagnosis}
        assert all(not first.endswith("...") and second.endswith(")") and "(tutorial: " in second
                   for first, second in named), f"a diagnosis cut short: {named}"


def _declared_misconception(variant) -> str | None:
    match = re.search(r"^Misconception: (\w+)$", variant.read_text(), re.M)
    return match.group(1) if match else None


def test_every_catalogue_entry_is_exhibited_by_a_corpus_variant(course):
    for exercise in course.exercises:
        if not exercise.misconceptions:
            continue
        names = [entry.name for entry in load_catalogue(course.root / exercise.misconceptions)]
        declared = {_declared_misconception(v) for v in (CORPUS / exercise.id).glob("buggy_*.py")}
        assert len(names) == len(set(names)), f"duplicate names in the {exercise.id} catalogue"
        assert set(names) <= declared, f"{exercise.id}: no corpus variant shows {set(names) - declared}"


def test_every_exercise_has_a_corpus(course):
    missing = [e.id for e in course.exercises
               if len(list((CORPUS / e.id).glob("buggy_*.py"))) < 5 or not list((CORPUS / e.id).glob("correct_*.py"))]
    assert missing == [], "each exercise needs at least five buggy and one correct variant"
