"""The course's question banks, their validation, and every template over many students.

A broken bank is the course's defect: it must be refused when loaded, naming
the question and the key, never discovered by a student halfway through a quiz.
"""

from __future__ import annotations

import collections
import textwrap

import pytest
from support import ROOT

from grader.course.manifest import load_course
from grader.quiz import forms
from grader.quiz.bank import BankError, load_bank
from grader.quiz.oracle import Oracle
from grader.quiz.release import MAX_CHECKED_VARIANTS
from grader.quiz.variants import all_variants, depends_on_student, space_size, variant_for

COURSE = load_course(ROOT)
BANKS = {quiz.id: load_bank(COURSE, quiz) for quiz in COURSE.quizzes}
QUESTIONS = [(quiz.id, question) for quiz in COURSE.quizzes for question in BANKS[quiz.id].questions]
STUDENTS = [f"student{n:03d}" for n in range(40)] + ["ada", "a.turing@uni.example", "0"]

#: The tutorial's topics the issue names, by the section (tutorial line) that teaches them.
TOPICS = [
    "The Convolution Operation",
    "Output Size Formula",
    "Padding and Stride",
    "Pooling",
    "LeNet-5 (1998)",
    "AlexNet (2012)",
    "VGGNet (2014)",
    "Receptive Field of Stacked 3×3 Convolutions",
    "ResNet (2015)",
    "ResNet Skip Connection Gradient Flow",
    "EfficientNet (2019)",
    "Practice Exercises",
]


def test_the_course_has_at_least_thirty_questions_over_every_topic():
    counts = collections.Counter(question.section for _, question in QUESTIONS)
    assert len(QUESTIONS) >= 30
    assert [topic for topic in TOPICS if counts[topic] == 0] == []
    assert {question.kind for _, question in QUESTIONS} == {"integer", "float", "choice", "multi", "shape", "order"}


def test_every_question_is_worth_points_and_has_a_hint_and_an_explanation():
    for _, question in QUESTIONS:
        assert question.points > 0 and question.hint.strip() and question.explanation.strip(), question.id


def test_numbers_and_shapes_are_computed_never_typed_in():
    for _, question in QUESTIONS:
        if question.kind in ("integer", "float", "shape"):
            assert question.compute and question.answer is None, question.id


@pytest.mark.parametrize("quiz_id, question", QUESTIONS, ids=[f"{q}-{x.id}" for q, x in QUESTIONS])
def test_every_template_gives_a_valid_question_and_key_for_many_students(quiz_id, question):
    oracle = Oracle(COURSE.reference_dir)
    enumerable = space_size(question) <= MAX_CHECKED_VARIANTS
    keys = {v.key for v in all_variants(question)} if enumerable else None
    for student in STUDENTS:
        variant = variant_for(quiz_id, question, student)
        assert variant == variant_for(quiz_id, question, student), "the same student sees the same question"
        prompt = variant.prompt()
        assert prompt and "{" not in prompt.replace("{{", ""), prompt
        expected = oracle.expected(variant)  # the reference computes it, in the kind's form
        assert forms.normalize_expected(question, expected) == expected
        assert variant.explanation(forms.show_plain(question, expected))
        if keys is not None:
            assert variant.key in keys, "every drawn variant is one a release can check"


def _student_visible_text() -> str:
    """What a student reads: the stubs, the public suites and the course text."""
    paths = [
        *sorted((ROOT / "exercises").glob("*.py")),
        *sorted((ROOT / "tests" / "public").glob("*.py")),
        COURSE.tutorial_path,
    ]
    return "\n".join(path.read_text(encoding="utf-8") for path in paths)


@pytest.mark.parametrize(
    "quiz_id, question",
    [(q, question) for q, question in QUESTIONS if question.kind == "integer"],
    ids=lambda value: getattr(value, "id", value),
)
def test_no_answer_is_printed_in_a_file_the_student_reads(quiz_id, question):
    """A count the stubs state (LeNet's, AlexNet's, VGG-16's, MiniResNet's) must not be a quiz answer.

    Numbers from 10,000 up, with or without thousands separators: smaller ones recur by chance.
    """
    oracle, visible = Oracle(COURSE.reference_dir), _student_visible_text()
    variants = (
        list(all_variants(question))
        if space_size(question) <= MAX_CHECKED_VARIANTS
        else [variant_for(quiz_id, question, student) for student in STUDENTS]
    )
    answers = {int(oracle.expected(variant)) for variant in variants}
    printed = sorted(n for n in answers if abs(n) >= 10_000 and (f"{n:,}" in visible or str(n) in visible))
    assert printed == [], f"{question.id}: a student file states {printed}"


@pytest.mark.parametrize(
    "quiz_id, question",
    [
        (q, question)
        for q, question in QUESTIONS
        if question.kind in ("integer", "shape", "float") and 20 <= space_size(question) <= MAX_CHECKED_VARIANTS
    ],
    ids=lambda value: getattr(value, "id", value),
)
def test_no_single_answer_fits_most_variants(quiz_id, question):
    """A guess of the most common answer must not pass most variants (max_pool_value once gave 6 in 64 of 112)."""
    oracle = Oracle(COURSE.reference_dir)
    answers = collections.Counter(repr(oracle.expected(v)) for v in all_variants(question))
    value, count = answers.most_common(1)[0]
    assert count <= 0.3 * sum(answers.values()), f"{question.id}: {value} answers {count} variants"


def test_the_formative_quiz_can_be_checked_offline():
    for quiz in COURSE.quizzes:
        if quiz.mode == "formative":
            assert max(space_size(q) for q in BANKS[quiz.id].questions) <= MAX_CHECKED_VARIANTS


def test_students_get_different_numbers_and_choice_orders():
    for quiz_id, question in QUESTIONS:
        if depends_on_student(question) and (space_size(question) >= 6 or len(question.choices) >= 4):
            seen = {
                (variant_for(quiz_id, question, s).key, variant_for(quiz_id, question, s).choices) for s in STUDENTS
            }
            assert len(seen) > 1, question.id


def test_the_draw_is_pinned():
    """Changing how variants are drawn would change every student's questions mid-course."""
    variant = variant_for("quiz1", BANKS["quiz1"].question("output_size"), "ada")
    assert dict(variant.params) == {"size": 224, "k": 5, "s": 1, "p": 0}
    assert variant.key == "8a4b819db8688afc"


# -- validation of a broken bank ----------------------------------------------------------

GOOD = """
[[question]]
id = "size"
title = "Output size"
kind = "integer"
section = "Output Size Formula"
points = 1
prompt = "A {n}x{n} map through Conv2d(kernel_size=3): output size?"
hint = "floor((W - K + 2P) / S) + 1"
explanation = "{n} - 2 = {answer}"
params = { n = [8, 9] }
compute = "shapes.conv_output_size(n, 3)"
"""


def _course_with_bank(tmp_path, bank: str, *, quiz_id: str = "q"):
    (tmp_path / "bank.toml").write_text(textwrap.dedent(bank))
    (tmp_path / "course.toml").write_text(
        textwrap.dedent(f"""
        [course]
        name = "tiny"
        tutorial = "{ROOT}/docs/course.md"
        reference = "{ROOT}/reference"
        [[exercise]]
        id = "conv"
        title = "conv"
        module = "conv.py"
        points = 1
        section = "The Convolution Operation"
        public = ["{ROOT}/tests/public/test_conv.py"]
        [[quiz]]
        id = "{quiz_id}"
        title = "Q"
        bank = "bank.toml"
        """)
    )
    course = load_course(tmp_path)
    return course, course.quizzes[0]


def test_a_good_bank_loads(tmp_path):
    course, quiz = _course_with_bank(tmp_path, GOOD)
    assert [q.id for q in load_bank(course, quiz).questions] == ["size"]


@pytest.mark.parametrize(
    "change, message",
    [
        (('kind = "integer"', 'kind = "integer"\nanswer = "6"'), "compute"),
        (('compute = "shapes.conv_output_size(n, 3)"', 'answer = "6"'), "is computed by reference/ code"),
        (('section = "Output Size Formula"', 'section = "Output sizes"'), "is not a section of the course text"),
        (("{n}x{n} map", "{size}x{n} map"), "unknown placeholder {size}"),
        (("conv_output_size(n, 3)", "conv_output_sise(m, 3)"), "unknown name m"),
        (('conv_output_size(n, 3)"', 'conv_output_size(n, 3"'), "not a Python expression"),
        (('kind = "integer"', 'kind = "float"'), "needs a tolerance"),
        (("points = 1", "points = 0"), "greater than 0"),
        (("hint = ", "hitn = "), "unknown key"),
    ],
)
def test_a_broken_bank_is_refused_naming_the_question_and_the_key(tmp_path, change, message):
    course, quiz = _course_with_bank(tmp_path, GOOD.replace(*change))
    with pytest.raises(BankError) as error:
        load_bank(course, quiz)
    assert message in str(error.value) and "'size'" in str(error.value) and "bank.toml:" in str(error.value)


def test_choice_keys_must_be_choices(tmp_path):
    bank = (
        GOOD
        + """
[[question]]
id = "pick"
title = "Pick"
kind = "multi"
section = "Pooling"
points = 1
prompt = "Which?"
choices = ["max", "mean"]
answer = ["max", "median"]
hint = "h"
explanation = "e"
"""
    )
    course, quiz = _course_with_bank(tmp_path, bank)
    with pytest.raises(BankError, match=r"bank.toml:\d+: question 'pick': must be a list of different choices"):
        load_bank(course, quiz)


def test_duplicate_ids_and_reserved_quiz_ids_are_refused(tmp_path):
    course, quiz = _course_with_bank(tmp_path, GOOD + GOOD)
    with pytest.raises(BankError, match="duplicate id"):
        load_bank(course, quiz)
    course, quiz = _course_with_bank(tmp_path, GOOD, quiz_id="attempts")
    with pytest.raises(BankError, match="reserved"):
        load_bank(course, quiz)


def test_a_requirement_no_variant_meets_is_a_bank_error(tmp_path):
    course, quiz = _course_with_bank(tmp_path, GOOD + 'require = ["n > 100"]\n')
    question = load_bank(course, quiz).questions[0]
    with pytest.raises(BankError, match="no variant meets `require`"):
        variant_for("q", question, "ada")
