"""Keys stay hidden: the student copy of a bank, its salted digests, sealed explanations, grading from it."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import ROOT

from grader import score
from grader.course.manifest import load_course
from grader.quiz import forms, keys
from grader.quiz.bank import BankError, Question, load_bank
from grader.quiz.grading import answer_key_values, grade_quiz
from grader.quiz.keys import DigestKey, ReferenceKey
from grader.quiz.oracle import Oracle
from grader.quiz.release import student_bank
from grader.quiz.variants import variant_for

COURSE = load_course(ROOT)
QUIZ1, QUIZ2 = COURSE.quizzes
STUDENTS = ["ada", "grace", "alan", "edsger"]


@pytest.fixture(scope="module")
def release(tmp_path_factory, student_banks):
    """A student's copy of the course: the student banks, the tutorial, no reference/."""
    root = tmp_path_factory.mktemp("release")
    (root / "quizzes").mkdir()
    for quiz in COURSE.quizzes:
        (root / quiz.bank).write_text(student_banks[quiz.id], encoding="utf-8")
    (root / "docs").mkdir()
    shutil.copy(COURSE.tutorial_path, root / "docs/course.md")
    return dataclasses.replace(COURSE, root=root)


def test_a_release_bank_holds_no_key_in_clear_text(release):
    for quiz in COURSE.quizzes:
        text = (release.root / quiz.bank).read_text()
        data = tomllib.loads(text)
        assert data["bank"]["release"] == "student"
        assert not re.search(r"^\s*(answer|compute)\s*=", text, re.MULTILINE)
        for question in data["question"]:
            assert not {"answer", "compute", "explanation"} & set(question), question["id"]
            assert ("check" in question) == (quiz.mode == "formative"), question["id"]
            assert ("hint" in question) == (quiz.mode == "formative"), f"{question['id']}: hints only in practice"
    # Explanations (which may state the key) are sealed in the formative copy, absent from the summative one.
    text = (release.root / QUIZ1.bank).read_text()
    assert "nothing is flipped" not in text and "GAP turns" not in text and "floor(({size}" not in text


def test_the_release_bank_loads_and_draws_the_same_variants(release):
    for quiz in COURSE.quizzes:
        course_bank, student_copy = load_bank(COURSE, quiz), load_bank(release, quiz)
        assert not student_copy.keyed and student_copy.points == course_bank.points
        for ours, theirs in zip(course_bank.questions, student_copy.questions):
            for student in STUDENTS:
                a, b = variant_for(quiz.id, ours, student), variant_for(quiz.id, theirs, student)
                assert (a.prompt(), a.choices, a.key) == (b.prompt(), b.choices, b.key)


def test_digests_agree_with_the_reference_on_right_and_wrong_answers(release):
    ours, theirs = ReferenceKey(Oracle(COURSE.reference_dir)), DigestKey(load_bank(release, QUIZ1))
    oracle = Oracle(COURSE.reference_dir)
    for course_question, release_question in zip(
        load_bank(COURSE, QUIZ1).questions, load_bank(release, QUIZ1).questions
    ):
        for student in STUDENTS:
            variant = variant_for("quiz1", course_question, student)
            release_variant = variant_for("quiz1", release_question, student)
            right = oracle.expected(variant)
            wrong = _wrong(course_question, right)
            verdict = theirs.judge(release_variant, right)
            assert verdict.right and ours.judge(variant, right).right, course_question.id
            assert verdict.explanation == variant.explanation(forms.show_plain(course_question, right))
            assert theirs.judge(release_variant, wrong) == keys.Verdict(False), course_question.id
            assert not ours.judge(variant, wrong).right


def _wrong(question: Question, right):
    if question.kind == "integer":
        return right + 1
    if question.kind == "float":
        return right + 2 * question.tolerance
    if question.kind == "shape":
        return right[:-1] + (right[-1] + 1,)
    if question.kind == "choice":
        return next(c for c in question.choices if c != right)
    if question.kind == "multi":
        return tuple(sorted(set(question.choices) - set(right)))
    return tuple(reversed(right))


def test_a_formative_release_grades_from_digests_and_a_summative_one_waits(release, tmp_path):
    submission = tmp_path / "s"
    submission.mkdir()
    right = {quiz.id: answer_key_values(COURSE, quiz, "ada") for quiz in COURSE.quizzes}
    right["quiz1"]["output_size"] += 1
    del right["quiz2"]["vgg_params"]
    lines = ['student = "ada"']
    for quiz_id, values in right.items():
        lines += [f"[{quiz_id}]"] + [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    (submission / "answers.toml").write_text("\n".join(lines) + "\n")

    formative = grade_quiz(release, QUIZ1, submission)
    assert score.exercise_score(formative) == formative.points - 2
    wrong = [t for t in formative.tests if not t.passed]
    assert [t.test_id for t in wrong] == ["quiz1::output_size"]
    assert wrong[0].message == (f"your answer: {right['quiz1']['output_size']}",), "no key to show in a release"

    summative = grade_quiz(release, QUIZ2, submission)
    outcomes = {t.test_id.split("::")[1]: t.outcome for t in summative.tests}
    assert outcomes.pop("vgg_params") == "failed", "an unanswered question is wrong whoever grades it"
    assert set(outcomes.values()) == {"pending"} and "graded by your instructor" in summative.problem
    assert score.exercise_max_score(summative) == 2 and score.pending_points(summative) == summative.points - 2


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(expected=st.floats(-1e4, 1e4), tolerance=st.sampled_from([0.001, 0.005, 0.01, 0.5]), offset=st.floats(-2.0, 2.0))
def test_a_float_passes_the_digest_check_only_within_its_tolerance(expected, tolerance, offset):
    question = Question(
        id="f", title="t", kind="float", section="s", points=1, prompt="p", hint="h", tolerance=tolerance
    )
    entry = keys.check_entry("salt", "f", "fixed", keys.key_text(question, expected), b"k" * 16)
    given_value = expected + offset * tolerance
    accepted = any(
        keys.open_entry(entry, "salt", "f", "fixed", text) == b"k" * 16
        for text in keys.candidate_texts(question, given_value)
    )
    if accepted:
        assert abs(given_value - expected) <= tolerance * (1 + 1e-9) + 1e-9
    if abs(offset) <= 0.75:
        assert accepted


def test_sealed_text_opens_only_with_its_key():
    sealed = keys.seal("floor((W - K) / S) + 1 = {answer}", b"k" * 16)
    assert keys.unseal(sealed, b"k" * 16) == "floor((W - K) / S) + 1 = {answer}"
    assert keys.unseal(sealed, b"j" * 16) != "floor((W - K) / S) + 1 = {answer}"
    assert keys.open_entry(keys.check_entry("s", "q", "v", "42", b"k" * 16), "s", "q", "v", "43") is None


def test_publishing_twice_gives_the_same_release():
    assert student_bank(COURSE, QUIZ2) == student_bank(COURSE, QUIZ2)


def test_a_formative_template_too_large_to_check_offline_is_refused(tmp_path):
    text = (ROOT / QUIZ1.bank).read_text().replace("size = [28, 32, 56, 64, 224]", "size = { min = 8, max = 512 }")
    (tmp_path / "quizzes").mkdir()
    (tmp_path / QUIZ1.bank).write_text(text)
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    course = dataclasses.replace(
        COURSE, root=tmp_path, info=COURSE.info.model_copy(update={"reference": str(ROOT / "reference")})
    )
    with pytest.raises(BankError, match="'output_size' has 18180 combinations"):
        student_bank(course, QUIZ1)
