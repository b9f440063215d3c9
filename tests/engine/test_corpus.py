"""Our corpus of student submissions grades as it should.

A variant is a whole file `corpus/<exercise>/<name>.py` or a patch of the exercise's base, listed
in `corpus/<exercise>/variants.toml` (corpus_variants.py); its name says what it must do.
`buggy_*` are the mistakes students really make: each must
lose points, with short feedback that blames the submission, never the grader.
`correct_*` are right answers written differently, and `base*` the right answers the patches
change: each must score full marks. A patch that no longer applies to its base fails its
variant's tests. Sibling modules a variant needs (efficientnet imports
scaling) come from reference/.

A buggy variant whose docstring says `Misconception: <name>` must be diagnosed as
that entry of the exercise's catalogue; no variant may be diagnosed as anything else.

`two_*` make two catalogued mistakes at once (`Misconceptions: <a>, <b>`):
both must be named, each on the tests that show it and on no test of the other's function or
model, and the exercise's report must stay within `TWO_MISTAKES_LINES` lines.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from corpus_variants import Change, PatchError, Variant, apply_changes, variants
from support import grade_submissions

from grader import score
from grader.diagnosis import load_catalogue
from grader.feedback import MAX_LINES
from grader.reports import text_report

#: The most lines an exercise's part of the text report may take (80 columns) for two mistakes.
TWO_MISTAKES_LINES = 30

VARIANTS = variants()


def _variants(*prefixes: str) -> list:
    """The variants named `prefix*`, grouped by exercise (`--dist loadgroup`: one xdist worker grades an exercise)."""
    return [
        pytest.param(v, id=v.id, marks=pytest.mark.xdist_group(v.exercise))
        for v in VARIANTS
        if v.name.startswith(prefixes)
    ]


@pytest.fixture(scope="session")
def corpus_results(course, tmp_path_factory):
    """Each exercise's whole corpus, graded at once by the warm engine (judges forked in parallel) the
    first time a test asks for one of its variants: `results(variant)` is that variant's result (a patch
    that no longer applies raises its PatchError there, failing that variant's tests and no other's)."""
    graded: dict[str, object] = {}

    def results(variant: Variant):
        if variant.id not in graded:
            texts = {}
            for other in (v for v in VARIANTS if v.exercise == variant.exercise):
                try:
                    texts[other.id] = other.text()
                except PatchError as error:
                    graded[other.id] = error
            folders = [
                _submission(course, variant.exercise, text, tmp_path_factory.mktemp(name.replace("/", "-")))
                for name, text in texts.items()
            ]
            exercise = course.exercise(variant.exercise)
            graded.update(zip(texts, grade_submissions(course, exercise, folders, jobs=os.cpu_count() or 1)))
        if isinstance(graded[variant.id], PatchError):
            raise graded[variant.id]
        return graded[variant.id]

    return results


def _submission(course, exercise_id: str, text: str, folder: Path) -> Path:
    """A submission of the variant, with the reference's other modules beside it (efficientnet imports scaling)."""
    for other in course.exercises:
        if other.id != exercise_id and course.reference_file(other).is_file():
            shutil.copy(course.reference_file(other), folder / other.module)
    (folder / course.exercise(exercise_id).module).write_text(text, encoding="utf-8")
    return folder


def _grade(corpus_results, variant):
    return corpus_results(variant)


@pytest.mark.parametrize("variant", _variants("correct_", "base"))
def test_correct_alternatives_score_full_marks(course, corpus_results, variant):
    """The bases the patches change are right answers too: a patch's mistake is its own, not its base's."""
    result = _grade(corpus_results, variant)
    assert [(t.name, t.message) for t in result.tests if score.is_graded_here(t) and not t.passed] == []
    assert score.exercise_score(result) + score.pending_points(result) == course.exercise(variant.exercise).points
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
        assert all(
            not first.endswith("...") and second.endswith(")") and "(tutorial: " in second for first, second in named
        ), f"a diagnosis cut short: {named}"


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
    match = re.search(r"^Misconceptions: (\w+), (\w+)$", variant.text(), re.M)
    assert match, f"{variant.name} has no 'Misconceptions: <a>, <b>' line"
    return match.group(1), match.group(2)


def _declared_misconception(variant) -> str | None:
    match = re.search(r"^Misconception: (\w+)$", variant.text(), re.M)
    return match.group(1) if match else None


def test_every_catalogue_entry_is_exhibited_by_a_corpus_variant(course):
    for exercise in course.exercises:
        if not exercise.misconceptions:
            continue
        names = [entry.name for entry in load_catalogue(course.root / exercise.misconceptions)]
        declared = {_declared_misconception(v) for v in variants(exercise.id) if v.name.startswith("buggy_")}
        assert len(names) == len(set(names)), f"duplicate names in the {exercise.id} catalogue"
        assert set(names) <= declared, f"{exercise.id}: no corpus variant shows {set(names) - declared}"


def test_every_exercise_has_a_corpus(course):
    missing = [
        e.id
        for e in course.exercises
        if _count(e.id, "buggy_") < 5 or not _count(e.id, "correct_") or not _count(e.id, "two_")
    ]
    assert missing == [], "each exercise needs five buggy, one correct and one two-mistake variant"


def _count(exercise_id: str, prefix: str) -> int:
    return sum(v.name.startswith(prefix) for v in variants(exercise_id))


def test_every_two_mistake_variant_declares_two_catalogued_mistakes(course):
    for variant in (v for v in VARIANTS if v.name.startswith("two_")):
        exercise = course.exercise(variant.exercise)
        names = {entry.name for entry in load_catalogue(course.root / exercise.misconceptions)}
        first, second = _declared_misconceptions(variant)
        assert first != second and {first, second} <= names, variant.name


def test_every_patch_applies_to_its_base_and_changes_it():
    """A base edited under a patch fails here at once (the grading tests would say it only under `-m slow`)."""
    failures = []
    for variant in (v for v in VARIANTS if v.file is None):
        try:
            variant.text()
        except PatchError as error:
            failures.append(str(error))
            continue
        if not variant.changes or any(c.old == c.new for c in variant.changes):
            failures.append(f"{variant.id}: a patch changes each of its lines, or it is its base")
    assert failures == []


def test_variant_names_are_unique_and_each_patch_is_named_for_a_test():
    """A patch named for no test above (`bugy_...`) would be graded by none; nor may it shadow a whole file."""
    names = [v.id for v in VARIANTS]
    assert len(names) == len(set(names)), "a variants.toml entry has the name of a file beside it"
    assert [v.id for v in VARIANTS if v.file is None and not v.name.startswith(("buggy_", "correct_", "two_"))] == []


@pytest.mark.parametrize(
    "old, says", [("    return y\n", "is not in"), ("    y = x\n", "stands 2 times in"), ("eturn x\n", "is not in")]
)
def test_a_change_whose_old_lines_are_not_once_at_a_line_start_does_not_apply(old, says):
    """A patch applies only where it was written: not where its text is gone, twice, or the tail of a line."""
    base = '"""CORRECT: base."""\n\ndef f(x):\n    y = x\n    y = x\n    return x\n'
    variant = Variant("conv", "buggy_example", summary="BUG: example.", changes=(Change(old, "    pass\n"),))
    with pytest.raises(PatchError, match=f"buggy_example: change 1 no longer applies: its old text {says} the base"):
        apply_changes(base, variant.changes, variant.id)
