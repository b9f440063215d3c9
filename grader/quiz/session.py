"""`grader quiz`: a quiz in the terminal, one question at a time, saved after every answer.

Each answer is parsed as it is typed and asked again until it has the
question's form (a shape must be a tuple of whole numbers). A formative quiz
then says right or wrong, with the hint after a wrong answer and the
explanation after a right one, within the quiz's attempts; a summative quiz
only saves. Stopping (Enter on an empty line skips, `quit` or Ctrl-D stops)
loses nothing: running `grader quiz` again goes on with the questions left.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.prompt import Prompt
from rich.table import Table
from rich.text import Text

from grader.course.manifest import Course, QuizSpec
from grader.quiz import forms
from grader.quiz.answers import read_answers, write_answers
from grader.quiz.bank import Bank, load_bank
from grader.quiz.keys import AnswerKey, Verdict, answer_key
from grader.quiz.variants import LETTERS, Variant, variant_for
from grader.reports.text_report import Line, Wrapped, paragraphs

STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")


def question_lines(variant: Variant) -> list[Line]:
    """The question as the terminal shows it: its title, the prompt's paragraphs and the choices,
    each reflowed to the terminal's width (the answers file keeps its own 88-column comment)."""
    question = variant.question
    title = f"{question.title} ({question.points} point{'s' if question.points > 1 else ''}; {question.section})"
    lines = [Line(title, hang=0, style="bold")]
    lines += [Line(paragraph, hang=0) for paragraph in paragraphs(variant.prompt())]
    return lines + [Line(f"{LETTERS[i]}) {text}", indent=2, hang=3) for i, text in enumerate(variant.choices)]


class QuizUsageError(Exception):
    """The quiz cannot start as asked; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class SessionResult:
    answered: int
    total: int
    right: int | None  #: formative: questions answered right so far
    stopped: bool  #: the student stopped before the end


def pick_quiz(course: Course, quiz_id: str | None, submission: Path) -> QuizSpec:
    """The quiz named, or else the first one with questions still unanswered in `submission`."""
    known = ", ".join(q.id for q in course.quizzes) or "none"
    if quiz_id is not None:
        for quiz in course.quizzes:
            if quiz.id == quiz_id:
                return quiz
        raise QuizUsageError(f"no quiz {quiz_id!r} in this course (quizzes: {known})")
    for quiz in course.quizzes:
        answered = read_answers(Path(submission) / quiz.answers, quiz.id).values
        if any(question.id not in answered for question in load_bank(course, quiz).questions):
            return quiz
    raise QuizUsageError(f"every quiz is answered; `grader quiz ID --review` changes answers (quizzes: {known})")


def run_quiz(
    course: Course,
    quiz: QuizSpec,
    submission: Path,
    *,
    student: str | None = None,
    review: bool = False,
    console: Console | None = None,
) -> SessionResult:
    """Ask the questions of `quiz` that are still open and save each answer to the submission's answers file."""
    console = console or Console()
    bank = load_bank(course, quiz)
    path = Path(submission) / quiz.answers
    answers = read_answers(path, quiz.id)
    if not answers.valid_toml:
        raise QuizUsageError(
            f"{path} is not valid TOML ({answers.notes[0]}); fix it by hand first: `grader quiz` will not overwrite it"
        )
    student = _student(answers.student, student, console, path)
    key = answer_key(course, bank) if quiz.mode == "formative" else None
    session = _Session(quiz, bank, path, student, console, key, dict(answers.values), dict(answers.attempts))
    return session.run(review=review)


def _student(saved: str | None, given: str | None, console: Console, path: Path) -> str:
    if saved and given and saved != given:
        raise QuizUsageError(f"{path} belongs to student {saved!r}, not {given!r}: your numbers depend on the id")
    if saved or given:
        student = saved or given
        if not STUDENT_ID.fullmatch(student):
            raise QuizUsageError(f"{student!r} is not a student id: letters, digits and . _ @ + - only")
        return student
    console.print(Text("Your numbers are drawn from your student id, asked once and kept in the answers file."))
    while True:
        typed = _read(console, "student id (as your instructor gave it)")
        if typed is None:
            raise QuizUsageError("no student id given: the quiz needs one")
        if STUDENT_ID.fullmatch(typed.strip()):
            return typed.strip()
        console.print(Text("  letters, digits and . _ @ + - only, such as ada.lovelace", style="red"))


def _read(console: Console, label: str) -> str | None:
    try:
        return Prompt.ask(f"[bold cyan]{label}[/]", console=console, default="", show_default=False)
    except (EOFError, KeyboardInterrupt):
        console.print()
        return None


class _Session:
    def __init__(
        self,
        quiz: QuizSpec,
        bank: Bank,
        path: Path,
        student: str,
        console: Console,
        key: AnswerKey | None,
        values: dict[str, Any],
        attempts: dict[str, int],
    ):
        self.quiz, self.bank, self.path, self.student, self.console = quiz, bank, path, student, console
        self.key, self.values, self.attempts = key, values, attempts
        self.variants = [variant_for(quiz.id, q, student) for q in bank.questions]
        self.status = {v.question.id: self._judge_saved(v) for v in self.variants}

    def run(self, *, review: bool) -> SessionResult:
        self._save()
        self._welcome()
        stopped = False
        for number, variant in enumerate(self.variants, 1):
            if self._open(variant, review=review) and not self._ask(number, variant):
                stopped = True
                break
        return self._summary(stopped)

    # -- which questions, and what is known of them -----------------------------
    def _judge_saved(self, variant: Variant) -> str:
        """unanswered, saved (summative), right, wrong, or locked (no attempts left)."""
        question = variant.question
        if question.id not in self.values:
            return "unanswered"
        try:
            value = forms.parse(question, self.values[question.id])
        except forms.FormError:
            return "unanswered"
        if self.key is None:
            return "saved"
        verdict = self._judge(variant, value)
        if verdict.right is None:
            return "saved"
        if verdict.right:
            return "right"
        return "locked" if self._attempts_left(question.id) <= 0 else "wrong"

    def _judge(self, variant: Variant, value: Any) -> Verdict:
        try:
            return self.key.judge(variant, forms.to_key(variant, value))
        except Exception as error:  # the course's key failed (reference code): the answer is kept, unchecked
            self.console.print(
                Text(
                    f"  (this answer cannot be checked now: {type(error).__name__}: {error}; tell your instructor)",
                    style="magenta",
                )
            )
            return Verdict(None)

    def _open(self, variant: Variant, *, review: bool) -> bool:
        status = self.status[variant.question.id]
        return status in ("unanswered", "wrong") or (review and status == "saved")

    def _attempts_left(self, question_id: str) -> int:
        return self.quiz.attempts - self.attempts.get(question_id, 0)

    # -- asking -------------------------------------------------------------------
    def _ask(self, number: int, variant: Variant) -> bool:
        """Ask until the question is settled or skipped; False when the student stops."""
        self._show(number, variant)
        question = variant.question
        while True:
            typed = _read(self.console, "answer")
            if typed is None or typed.strip().lower() == "quit":
                return False
            if not typed.strip():
                self.console.print(Text("  skipped", style="dim"))
                return True
            try:
                value = forms.parse(question, typed)
            except forms.FormError as error:
                self.console.print(Text(f"  ✗ {error}", style="red"))
                continue
            self.values[question.id] = forms.stored(question, value)
            if self.key is None:
                self.status[question.id] = "saved"
                self._save()
                self.console.print(Text(f"  saved: {forms.show(question, value)}", style="green"))
                return True
            if self._check(variant, value):
                return True

    def _check(self, variant: Variant, value: Any) -> bool:
        """A formative check of `value`; True when the question is settled."""
        question = variant.question
        self.attempts[question.id] = self.attempts.get(question.id, 0) + 1
        verdict = self._judge(variant, value)
        left = self._attempts_left(question.id)
        self.status[question.id] = "right" if verdict.right else ("wrong" if left > 0 else "locked")
        self._save()
        if verdict.right is None:
            self.console.print(Text("  saved: this question is checked when your quiz is graded", style="green"))
            return True
        if verdict.right:
            self.console.print(Text("  ✓ right", style="bold green"))
            if verdict.explanation:
                self.console.print(
                    Panel(Text(verdict.explanation), title="why", title_align="left", border_style="green")
                )
            return True
        self.console.print(Text(f"  ✗ not right. hint: {question.hint}", style="red"))
        if left > 0:
            self.console.print(Text(f"  {left} {'try' if left == 1 else 'tries'} left", style="yellow"))
            return False
        self.console.print(
            Text("  no tries left: your last answer is kept; the explanation comes with your grade", style="yellow")
        )
        return True

    # -- showing ------------------------------------------------------------------
    def _show(self, number: int, variant: Variant) -> None:
        question, total = variant.question, len(self.variants)
        done = sum(status != "unanswered" for status in self.status.values())
        self.console.print()
        self.console.rule(Text(f"Question {number} of {total}", style="bold"), style="cyan")
        progress = Table.grid(padding=(0, 1))
        progress.add_row(ProgressBar(total=total, completed=done, width=30), Text(f"{done}/{total} answered"))
        self.console.print(progress)
        self.console.print(Wrapped(question_lines(variant)))
        self.console.print(Text(f"Answer with {forms.describe_form(question)}.", style="dim"))
        if question.id in self.values:
            try:
                shown = forms.show(question, forms.parse(question, self.values[question.id]))
            except forms.FormError:
                shown = forms.show_raw(self.values[question.id])
            self.console.print(Text(f"  saved so far: {shown} ({self.status[question.id]})", style="dim"))

    def _welcome(self) -> None:
        total, done = len(self.variants), sum(s != "unanswered" for s in self.status.values())
        mode = (
            f"formative: each answer is checked as you give it, {self.quiz.attempts} tries per question"
            if self.key is not None
            else "summative: answers are saved now and graded later"
        )
        body = Text(
            f"{total} questions, {self.bank.points} points. {mode}.\n"
            f"Student {self.student}; every answer is saved to {self.path} at once.\n"
            "Enter on an empty line skips a question; `quit` or Ctrl-D stops, and `grader quiz` "
            "goes on where you stopped."
        )
        if done:
            body.append(f"\nResuming: {done} of {total} already answered.", style="bold")
        self.console.print(Panel(body, title=f"{self.quiz.title} ({self.quiz.id})", title_align="left"))

    def _summary(self, stopped: bool) -> SessionResult:
        total = len(self.variants)
        answered = sum(status != "unanswered" for status in self.status.values())
        right = sum(status == "right" for status in self.status.values()) if self.key is not None else None
        self.console.print()
        self.console.rule(Text("stopped" if stopped else "end of the quiz", style="bold"), style="cyan")
        line = f"{answered} of {total} questions answered, saved in {self.path}."
        if right is not None:
            line += f" Right so far: {right} of {total}."
        self.console.print(Text(line))
        if stopped or answered < total:
            self.console.print(Text(f"Run `grader quiz {self.quiz.id}` again to go on where you left off."))
        self.console.print(Text(f"`grader grade {self.quiz.id}` grades it with your exercises.", style="dim"))
        return SessionResult(answered, total, right, stopped)

    def _save(self) -> None:
        write_answers(self.path, self.quiz.id, self.student, self.variants, self.values, self.attempts)
