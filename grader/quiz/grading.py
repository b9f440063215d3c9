"""A quiz graded like an exercise: one `TestResult` per question, in one `ExerciseResult`.

The answers file is data, never code, so grading runs in the grader's own
process. Whatever is wrong with the file is charged to the question it
concerns (a line that is not TOML, an answer of the wrong kind, no answer) and
the other questions are graded; ids in the file that are no question are named
in the exercise's `problem`, with the question they probably meant.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from grader.course.manifest import Course, QuizSpec
from grader.quiz import forms
from grader.quiz.answers import QuizAnswers, read_answers
from grader.quiz.bank import Bank, BankError, Question, load_bank
from grader.quiz.keys import AnswerKey, answer_key
from grader.quiz.oracle import Oracle
from grader.quiz.variants import NeedsStudent, variant_for
from grader.results import ExerciseResult, TestResult


def selected_quizzes(course: Course, ids: Iterable[str]) -> list[QuizSpec]:
    """The quizzes among `ids` (every quiz when `ids` is empty), in the order asked."""
    ids = list(ids)
    if not ids:
        return list(course.quizzes)
    by_id = {quiz.id: quiz for quiz in course.quizzes}
    return [by_id[i] for i in ids if i in by_id]


def grade_quiz(course: Course, quiz: QuizSpec, submission: Path) -> ExerciseResult:
    """The quiz's answers in `submission` graded: one test per question, worth the question's points."""
    started = time.monotonic()
    try:
        bank = load_bank(course, quiz)
    except BankError as error:
        return ExerciseResult(
            id=quiz.id,
            title=quiz.title,
            section="",
            points=0,
            tests=(),
            problem=f"the quiz's question bank is broken (tell your instructor): {error}",
        )
    answers = read_answers(Path(submission) / quiz.answers, quiz.id)
    key = answer_key(course, bank)
    strays = [k for k in list(answers.values) + list(answers.broken) if k not in {q.id for q in bank.questions}]
    if not answers.values and not answers.broken:  # not started: reported like an untouched stub
        tests = tuple(
            _Result(quiz, q).failed("not_implemented", f"not answered yet: take the quiz with `grader quiz {quiz.id}`")
            for q in bank.questions
        )
    else:
        tests = tuple(_grade_question(quiz, q, answers, key, strays) for q in bank.questions)
    notes = list(answers.notes) + [_stray_note(bank, answers, name) for name in strays]
    if any(t.outcome == "pending" for t in tests):
        notes.append("a summative quiz: your answers are graded by your instructor, with the course's key")
    sections = dict.fromkeys(q.section for q in bank.questions)
    return ExerciseResult(
        id=quiz.id,
        title=quiz.title,
        section="; ".join(sections),
        points=bank.points,
        tests=tests,
        problem="; ".join(notes) or None,
        duration=round(time.monotonic() - started, 3),
    )


def _grade_question(
    quiz: QuizSpec, question: Question, answers: QuizAnswers, key: AnswerKey, strays: list[str]
) -> TestResult:
    """One question's result; `strays` are the file's ids that are no question (a misspelt id may be this one)."""
    result = _Result(quiz, question)
    if question.id in answers.broken:
        return result.failed("mismatch", answers.broken[question.id])
    if question.id not in answers.values:
        return result.failed("missing", *_no_answer(quiz, question, answers, strays))
    raw = answers.values[question.id]
    try:
        variant = variant_for(quiz.id, question, answers.student)
    except NeedsStudent:
        return result.failed(
            "missing",
            f"{answers.path.name} has no `student` id, and this question's "
            "numbers depend on it: run `grader quiz` once to set it",
        )
    try:
        parsed = forms.parse(question, raw)
    except forms.FormError as error:
        return result.failed("mismatch", f"your answer {forms.show_raw(raw)}: {error}")
    try:
        verdict = key.judge(variant, forms.to_key(variant, parsed))
    except Exception as error:  # reference code failed on this variant: the grader's fault, not the student's
        return result.error(
            f"the grader could not compute this question's key ({type(error).__name__}: {error}); tell your instructor"
        )
    if verdict.right is None:
        return result.pending()
    if verdict.right:
        return result.passed()
    lines = [f"your answer: {forms.show(question, parsed)}"]
    if verdict.expected is not None:
        lines.append(f"expected: {verdict.expected}")
    if verdict.explanation:
        lines += [
            "why: " + line if i == 0 else "     " + line for i, line in enumerate(verdict.explanation.splitlines()[:6])
        ]
    return result.failed(
        "mismatch",
        *lines,
        hint=f"{question.hint} (tutorial: {question.section})"
        if question.hint
        else f"reread '{question.section}' in the course text",
    )


class _Result:
    """Builds the question's `TestResult` for each outcome."""

    def __init__(self, quiz: QuizSpec, question: Question):
        self.common = dict(
            exercise=quiz.id,
            test_id=f"{quiz.id}::{question.id}",
            name=question.title,
            kind="hidden" if quiz.mode == "summative" else "public",
            points=float(question.points),
        )

    def passed(self) -> TestResult:
        return TestResult(outcome="passed", **self.common)

    def failed(self, reason: str, *lines: str, hint: str | None = None) -> TestResult:
        return TestResult(outcome="failed", reason=reason, message=lines, hint=hint, **self.common)

    def error(self, line: str) -> TestResult:
        return TestResult(outcome="error", reason="grader", message=(line,), **self.common)

    def pending(self) -> TestResult:
        return TestResult(outcome="pending", reason="manual", **self.common)


def _no_answer(quiz: QuizSpec, question: Question, answers: QuizAnswers, strays: list[str]) -> list[str]:
    lines = [f"no answer in the [{quiz.id}] table of {answers.path.name}"]
    near = difflib.get_close_matches(question.id, strays, n=1)
    if near:
        lines.append(f"{answers.path.name} has an answer for {near[0]!r}: did you mean {question.id!r}?")
    return lines


def _stray_note(bank: Bank, answers: QuizAnswers, name: str) -> str:
    near = difflib.get_close_matches(name, [q.id for q in bank.questions], n=1)
    return f"{answers.path.name}: {name!r} is not a question of this quiz" + (
        f" (did you mean {near[0]!r}?)" if near else ""
    )


def answer_key_values(course: Course, quiz: QuizSpec, student: str) -> dict[str, Any]:
    """The right answers of `student`, as the answers file would hold them (instructors and tests)."""
    bank = load_bank(course, quiz)
    oracle = Oracle(course.reference_dir)
    values = {}
    for question in bank.questions:
        variant = variant_for(quiz.id, question, student)
        expected = oracle.expected(variant)
        if question.kind == "choice":
            expected = variant.letter(expected)
        elif question.kind in ("multi", "order"):
            expected = [variant.letter(text) for text in expected]
        values[question.id] = forms.stored(question, expected)
    return values
