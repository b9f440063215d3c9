"""Quizzes graded like exercises: answers files good and bad, the runner, the report, `grader grade`."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from support import ROOT
from typer.testing import CliRunner

from grader import score
from grader.cli.app import app
from grader.cli.common import ExitCode
from grader.course.manifest import load_course
from grader.engine.runner import GradeOptions, grade
from grader.quiz import forms
from grader.quiz.answers import read_answers, write_answers
from grader.quiz.bank import Question, load_bank
from grader.quiz.grading import answer_key_values, grade_quiz
from grader.quiz.variants import variant_for
from grader.reports import text_report

COURSE = load_course(ROOT)
QUIZ1, QUIZ2 = COURSE.quizzes
STUDENT = "ada"


@pytest.fixture(scope="module")
def right_answers() -> dict[str, dict]:
    """Every question's key for STUDENT, per quiz: computed when a test asks (it runs the reference's code)."""
    return {quiz.id: answer_key_values(COURSE, quiz, STUDENT) for quiz in COURSE.quizzes}


def _submit(folder: Path, answers: dict[str, dict], *, student: str | None = STUDENT) -> Path:
    """An answers file as a student might write it by hand: plain TOML."""
    lines = [f"student = {json.dumps(student)}"] if student else []
    for quiz_id, values in answers.items():
        lines.append(f"\n[{quiz_id}]")
        lines += [f"{key} = {_toml(value)}" for key, value in values.items()]
    folder.mkdir(exist_ok=True)
    (folder / "answers.toml").write_text("\n".join(lines) + "\n")
    return folder


def _toml(value) -> str:
    return json.dumps(value) if not isinstance(value, bool) else str(value).lower()


def _by_question(result) -> dict:
    return {t.test_id.split("::")[1]: t for t in result.tests}


def test_right_answers_score_full_marks(tmp_path, right_answers):
    submission = _submit(tmp_path / "s", right_answers)
    for quiz in COURSE.quizzes:
        result = grade_quiz(COURSE, quiz, submission)
        assert [(t.name, t.message) for t in result.tests if not t.passed] == []
        assert score.exercise_score(result) == result.points == load_bank(COURSE, quiz).points
        assert result.problem is None


def test_bad_input_is_charged_to_its_question_and_the_rest_is_graded(tmp_path, right_answers):
    values = dict(right_answers["quiz1"])
    output_size = values.pop("output_size")
    values["output_sise"] = output_size  # a misspelt id
    values["conv_params"] = [1, 2]  # a list for a whole number
    values["gap_shape"] = "(4, 64.5)"  # not a shape
    values["max_pool_keeps"] = "z"  # not a letter of the choices
    submission = _submit(tmp_path / "s", {"quiz1": values})
    text = (submission / "answers.toml").read_text()
    shape = right_answers["quiz1"]["conv_output_shape"]
    text = text.replace(
        f"conv_output_shape = {json.dumps(shape)}", "conv_output_shape = (" + ", ".join(map(str, shape)) + ")"
    )  # not TOML
    (submission / "answers.toml").write_text(text)

    result = grade_quiz(COURSE, QUIZ1, submission)
    tests = _by_question(result)
    failed = {name for name, t in tests.items() if not t.passed}
    assert failed == {"output_size", "conv_params", "gap_shape", "max_pool_keeps", "conv_output_shape"}
    assert "did you mean 'output_size'?" in tests["output_size"].message[-1]
    assert tests["conv_params"].message == (
        "your answer a list [1, 2]: expected a whole number, such as 42, not a list [1, 2]",
    )
    assert "a shape must be a tuple of ints" in tests["gap_shape"].message[0]
    assert "'z' is not one of the letters" in tests["max_pool_keeps"].message[0]
    assert re.match(
        r"line \d+ of answers.toml is not valid TOML: conv_output_shape = \(", tests["conv_output_shape"].message[0]
    )
    assert "is not valid TOML" in result.problem and "'output_sise' is not a question" in result.problem
    assert all(t.outcome == "failed" and len(t.message) <= 12 for name, t in tests.items() if name in failed)


def test_a_wrong_answer_says_what_was_expected_and_why(tmp_path, right_answers):
    values = dict(right_answers["quiz2"], alexnet_fc_params=37752833)
    result = grade_quiz(COURSE, QUIZ2, _submit(tmp_path / "s", {"quiz2": values}))
    test = _by_question(result)["alexnet_fc_params"]
    assert test.message[:2] == ("your answer: 37752833", "expected: 37752832")
    assert test.message[2].startswith("why: 9216 * 4096 + 4096 = 37752832")
    assert test.hint.endswith("(tutorial: AlexNet (2012))")
    assert test.kind == "hidden", "a summative quiz's results wait for the due date on Gradescope"
    assert score.exercise_score(result) == result.points - 1


def test_a_float_is_right_within_its_tolerance(tmp_path, right_answers):
    question = load_bank(COURSE, QUIZ2).question("practice_vgg_fc_share")
    key = right_answers["quiz2"]["practice_vgg_fc_share"]
    for given, right in [
        (key + 0.9 * question.tolerance, True),
        (round(key, 3), True),
        (key + 1.5 * question.tolerance, False),
    ]:
        result = grade_quiz(
            COURSE, QUIZ2, _submit(tmp_path / "s", {"quiz2": dict(right_answers["quiz2"], practice_vgg_fc_share=given)})
        )
        assert _by_question(result)["practice_vgg_fc_share"].passed is right, given


def test_typed_forms_are_accepted_as_a_student_writes_them(tmp_path, right_answers):
    values = dict(right_answers["quiz2"])
    shape = values["practice_output_shape"]
    order = values["architecture_order"]
    values.update(
        practice_output_shape=f"({shape[0]}, {shape[1]}, {shape[2]})",
        architecture_order=" ".join(order).upper(),
        alexnet_fc_params=f"{values['alexnet_fc_params']:,}",
        alexnet_innovations=", ".join(reversed(values["alexnet_innovations"])),
    )
    result = grade_quiz(COURSE, QUIZ2, _submit(tmp_path / "s", {"quiz2": values}))
    assert [t.name for t in result.tests if not t.passed] == []


def test_a_quiz_not_started_reads_like_an_untouched_stub(tmp_path, right_answers):
    (tmp_path / "s").mkdir()
    for submission in (tmp_path / "s", _submit(tmp_path / "t", {"quiz2": right_answers["quiz2"]})):
        result = grade_quiz(COURSE, QUIZ1, submission)
        assert score.exercise_score(result) == 0 and score.exercise_status(result) == "not implemented"
        assert {t.message for t in result.tests} == {("not answered yet: take the quiz with `grader quiz quiz1`",)}
        assert "not implemented yet (18 tests, 28 points)" in text_report.render(
            grade(COURSE, submission, GradeOptions(exercises=("quiz1",)))
        )


def test_an_unanswered_question_is_missing(tmp_path, right_answers):
    values = {k: v for k, v in right_answers["quiz1"].items() if k != "gap_shape"}
    result = grade_quiz(COURSE, QUIZ1, _submit(tmp_path / "s", {"quiz1": values}))
    assert [(t.reason, t.message) for t in result.tests if not t.passed] == [
        ("missing", ("no answer in the [quiz1] table of answers.toml",))
    ]


def test_without_a_student_id_only_the_questions_that_need_it_fail(tmp_path, right_answers):
    result = grade_quiz(COURSE, QUIZ2, _submit(tmp_path / "s", right_answers, student=None))
    tests = _by_question(result)
    assert tests["alexnet_fc_params"].passed  # the same for everyone
    assert not tests["vgg_params"].passed and "no `student` id" in tests["vgg_params"].message[0]


def test_another_students_answers_do_not_fit(tmp_path, right_answers):
    result = grade_quiz(COURSE, QUIZ1, _submit(tmp_path / "s", right_answers, student="grace"))
    assert 0 < score.exercise_score(result) < result.points


def test_a_broken_bank_is_the_graders_problem(tmp_path, right_answers):
    (tmp_path / "quizzes").mkdir()
    (tmp_path / "quizzes/basics.toml").write_text("[[question]]\nid = 'x'\n")
    course = COURSE.__class__(**{**COURSE.__dict__, "root": tmp_path})
    result = grade_quiz(course, QUIZ1, _submit(tmp_path / "s", right_answers))
    assert result.tests == () and "question bank is broken (tell your instructor)" in result.problem
    assert score.exercise_status(result) == "error"


def test_the_runner_grades_a_quiz_selected_by_id_with_the_exercises(tmp_path, right_answers):
    submission = _submit(tmp_path / "s", {"quiz1": dict(right_answers["quiz1"], output_size=-1)})
    report = grade(COURSE, submission, GradeOptions(exercises=("quiz1",)))
    assert [e.id for e in report.exercises] == ["quiz1"]
    rendered = text_report.render(report)
    assert re.search(r"quiz1 +Quiz 1: convolution, padding and pooling +26/28 +partial", rendered)
    assert "✗ Output size of a strided, padded convolution (wrong result, 0/2)" in rendered
    assert "your answer: -1" in rendered and "hint: floor((W - K + 2P) / S) + 1" in rendered


def test_grader_grade_quiz_prints_json_with_one_test_per_question(tmp_path, right_answers):
    submission = _submit(tmp_path / "s", right_answers)
    result = CliRunner().invoke(
        app, ["grade", "quiz1", "quiz2", "--course", str(ROOT), "--submission", str(submission), "--format", "json"]
    )
    assert result.exit_code == ExitCode.OK, result.output
    report = json.loads(result.output)
    assert report["score"] == report["max_score"] == 28 + 60
    assert [e["id"] for e in report["exercises"]] == ["quiz1", "quiz2"]
    tests = {t["name"]: t["visibility"] for t in report["tests"]}
    assert tests["quiz1: Output size of a strided, padded convolution"] == "visible"
    assert tests["quiz2: LeNet-5's parameter count"] == "after_due_date"


def test_the_answers_file_keeps_what_else_it_holds(tmp_path):
    path = tmp_path / "answers.toml"
    path.write_text('# my notes\nstudent = "ada"\n\n[quiz2]\nvgg_params = 5\n')
    bank = load_bank(COURSE, QUIZ1)
    variants = [variant_for("quiz1", q, "ada") for q in bank.questions]
    write_answers(path, "quiz1", "ada", variants, {"output_size": 7}, {"output_size": 2})
    text = path.read_text()
    assert text.startswith("# my notes\n") and "[quiz2]\nvgg_params = 5" in text
    assert "\n# 5. Output size of a strided, padded convolution (2 points; Output Size Formula)\n" in text
    assert "\n# conv_value =\n" in text, "an unanswered question is written as a comment"
    read = read_answers(path, "quiz1")
    assert (read.student, dict(read.values), dict(read.attempts)) == ("ada", {"output_size": 7}, {"output_size": 2})
    assert dict(read_answers(path, "quiz2").values) == {"vgg_params": 5}


@pytest.mark.parametrize(
    "text, note",
    [
        ("student = 3\n[quiz1]\noutput_size = 1\n", "`student` must be a non-empty string"),
        ('student = "ada"\nquiz1 = 4\n', "`quiz1` must be a table of answers"),
    ],
)
def test_a_file_of_the_wrong_shape_is_named_in_the_problem(tmp_path, text, note):
    (tmp_path / "answers.toml").write_text(text)
    result = grade_quiz(COURSE, QUIZ1, tmp_path)
    assert note in result.problem and score.exercise_score(result) == 0


def _question(kind: str, choices: int = 0) -> Question:
    return Question(
        id="q",
        title="t",
        kind=kind,
        section="s",
        points=1,
        prompt="p",
        hint="h",
        choices=tuple(f"choice {n}" for n in range(choices)),
        tolerance=0.1 if kind == "float" else None,
    )


@pytest.mark.parametrize(
    "kind, raw, parsed",
    [
        ("integer", "61,706", 61706),
        ("integer", " 42 ", 42),
        ("integer", 7.0, 7),
        ("integer", "-3", -3),
        ("float", "1.75", 1.75),
        ("float", 2, 2.0),
        ("float", "1e-3", 0.001),
        ("shape", "(64, 56, 56)", (64, 56, 56)),
        ("shape", "[4, 10]", (4, 10)),
        ("shape", "(10,)", (10,)),
        ("shape", "64x56x56", (64, 56, 56)),
        ("shape", [3, 224, 224], (3, 224, 224)),
        ("shape", "3 32 32", (3, 32, 32)),
    ],
)
def test_each_kind_reads_the_forms_a_student_writes(kind, raw, parsed):
    assert forms.parse(_question(kind), raw) == parsed


@pytest.mark.parametrize(
    "kind, choices, raw, message",
    [
        ("integer", 0, "1.5", "expected a whole number, such as 42, not 1.5"),
        ("integer", 0, True, "expected a whole number, such as 42, not true"),
        ("float", 0, "1,5", "write decimals with a dot: 1.5"),
        ("float", 0, "nan", "expected a number, such as 1.75"),
        ("shape", 0, "()", "a shape has at least one dimension"),
        ("shape", 0, "(3, -1)", "a shape has no negative dimension (-1)"),
        ("shape", 0, "(3,, 4)", "an empty place is not a whole number"),
        ("shape", 0, 64, "a shape must be a tuple of ints, such as (64, 56, 56), not 64"),
        ("choice", 4, "e", "answer with one letter, a to d: 'e' is not one of the letters"),
        ("choice", 4, "a, b", "answer with one letter, a to d"),
        ("multi", 4, "a, a", "each letter once (a given twice)"),
        ("multi", 4, "", "give every right letter, a to d"),
        ("order", 3, "c a", "(missing: b)"),
        ("order", 3, ["c", 1, "b"], "answer with the letters a to c"),
    ],
)
def test_each_kind_refuses_a_malformed_answer_saying_what_it_expects(kind, choices, raw, message):
    with pytest.raises(forms.FormError) as error:
        forms.parse(_question(kind, choices), raw)
    assert message in str(error.value)


def test_computing_the_keys_leaves_no_course_module_in_the_grading_process():
    """Quiz keys are computed in the engine's process, whose later forks (the judges of `--watch` and
    grade-all) import the course's modules afresh: a `scaling` left behind would answer a judge's
    `from scaling import ...` with whatever folder it came from."""
    course_modules = {exercise.module_name for exercise in COURSE.exercises}
    modules_before, path_before = course_modules & set(sys.modules), list(sys.path)  # other tests' own loads
    for quiz in COURSE.quizzes:
        answer_key_values(COURSE, quiz, "someone-new")  # a fresh oracle: the references loaded now
    assert course_modules & set(sys.modules) == modules_before
    assert sys.path == path_before
