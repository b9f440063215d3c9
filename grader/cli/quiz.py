"""`grader quiz`: a quiz in the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from grader.cli.common import CourseOption, ExitCode, console, errors, load
from grader.quiz.bank import BankError
from grader.quiz.session import QuizUsageError, pick_quiz, run_quiz


def register(app: typer.Typer) -> None:
    app.command("quiz")(quiz_command)


def quiz_command(
    quiz_id: Annotated[str | None, typer.Argument(help="The quiz's id; default: the first one not finished.")] = None,
    student: Annotated[str | None, typer.Option(help="Your student id; asked once when not given.")] = None,
    submission: Annotated[
        Path | None,
        typer.Option(help="Folder of your work, where the answers file is kept; default: the course's exercises/."),
    ] = None,
    review: Annotated[
        bool, typer.Option("--review", help="Ask answered questions again, to change an answer.")
    ] = False,
    course_path: CourseOption = Path("course.toml"),
) -> None:
    """Take a quiz in the terminal: answers are checked for form as you type and saved after each question."""

    course = load(course_path)
    submission = submission or course.exercises_dir
    try:
        quiz = pick_quiz(course, quiz_id, submission)
        run_quiz(course, quiz, submission, student=student, review=review, console=console)
    except QuizUsageError as error:
        errors.print(str(error), highlight=False, markup=False)
        raise typer.Exit(ExitCode.USAGE) from None
    except BankError as error:
        errors.print(f"broken quiz bank: {error}", highlight=False, markup=False)
        raise typer.Exit(ExitCode.BROKEN_COURSE) from None
