"""Our corpus of student submissions grades as it should.

`corpus/<exercise>/buggy_*.py` are the mistakes students really make: each must
lose points, with short feedback that blames the submission, never the grader.
`corpus/<exercise>/correct_*.py` are right answers written differently: each
must score full marks. Sibling modules a variant needs (efficientnet imports
scaling) come from reference/.

A buggy variant whose docstring says `Misconception: <name>` must be diagnosed as
that entry of the exercise's catalogue; no variant may be diagnosed as anything else.

`corpus/<exercise>/two_*.py` make two catalogued mistakes at once (`Misconceptions: <a>, <b>`):
both must be named, each on the tests that show it and on no test of the other's function or
model, and the exercise's report must stay within `TWO_MISTAKES_LINES` lines.
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
from grader.reports import text_report
from support import CORPUS, ROOT, grade_submissions

#: The most lines an exercise's part of the text report may take (80 columns) for two mistakes.
TWO_MISTAKES_LINES = 30

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
    assert [t.diagnoses for t in result.tests if t.diagnoses] == []


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
    diagnosed = {name for t in failing for name in t.diagnoses}
    assert diagnosed <= {declared}, f"diagnosed as {diagnosed}, but the mistake is {declared or 'not catalogued'}"
    if declared:
        assert declared in diagnosed, f"{variant.name} is not diagnosed as {declared}"
        named = {f.lines for t in failing for f in t.findings}
        assert all(not first.endswith("...") and second.endswith(")") and "(tutorial: " in second
                   for first, second in named), f"a diagnosis cut short: {named}"


@pytest.mark.parametrize("variant", _variants("two_"))
def test_two_mistakes_are_each_named_on_their_own_tests_within_the_line_budget(course, corpus_results, variant):
    result = _grade(corpus_results, variant)
    failing = [t for t in result.tests if score.is_graded_here(t) and not t.passed]
    first, second = _declared_misconceptions(variant)
    named = {name: [t for t in failing if name in t.diagnoses] for name in (first, second)}
    assert named[first] and named[second], f"named: { {k: len(v) for k, v in named.items()} }"
    assert {name for t in failing for name in t.diagnoses} == {first, second}
    shown = {name: {t.test_id for t in tests} for name, tests in named.items()}
    assert shown[first] != shown[second], "each mistake is named on the tests that show it, not on all of them"
    lines = text_report.exercise_text(result, width=80).splitlines()[1:]
    assert len(lines) <= TWO_MISTAKES_LINES, "\n".join(lines)
    text = "\n".join(lines)
    for name in (first, second):
        opening = named[name][0].findings[[f.name for f in named[name][0].findings].index(name)].lines[0]
        assert text.count(opening[:40]) == 1, f"{name} is not named exactly once"


def _declared_misconceptions(variant) -> tuple[str, str]:
    match = re.search(r"^Misconceptions: (\w+), (\w+)$", variant.read_text(), re.M)
    assert match, f"{variant.name} has no 'Misconceptions: <a>, <b>' line"
    return match.group(1), match.group(2)


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
               if len(list((CORPUS / e.id).glob("buggy_*.py"))) < 5 or not list((CORPUS / e.id).glob("correct_*.py"))
               or not list((CORPUS / e.id).glob("two_*.py"))]
    assert missing == [], "each exercise needs five buggy, one correct and one two-mistake variant"


def test_every_two_mistake_variant_declares_two_catalogued_mistakes(course):
    for variant in sorted(CORPUS.glob("*/two_*.py")):
        exercise = course.exercise(variant.parent.name)
        names = {entry.name for entry in load_catalogue(course.root / exercise.misconceptions)}
        first, second = _declared_misconceptions(variant)
        assert first != second and {first, second} <= names, variant.name
