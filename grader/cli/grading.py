"""`grader grading ...`: the steps of the grading repository's workflow, each testable on its own.

The workflow (grader/templates/grade-class.yml) and its scripts call these, so
what runs on GitHub is what the tests run locally: cut the roster into chunks,
list a chunk's students, choose a student's hand-in push, decide whether a
posted page may show hidden tests' details.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Optional

import typer

from grader.classes.exports import file_name
from grader.classes.roster import Roster, RosterError, load_roster
from grader.cli.common import CourseOption, ExitCode, errors, load
from grader.course.assignments import deadline_for, hand_in, pushes_from_api
from grader.publish import grading_repo

app = typer.Typer(
    help="The grading repository's workflow steps (see docs/publishing.md).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
RosterArgument = Annotated[
    Path, typer.Argument(help="The roster CSV (id, name, email, github, repository, extension_days).")
]


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="grading")


def _roster(path: Path) -> Roster:
    try:
        return load_roster(path)
    except RosterError as error:
        errors.print(str(error), highlight=False)
        raise typer.Exit(ExitCode.USAGE) from None


@app.command("chunks")
def chunks_command(
    roster: RosterArgument,
    chunk_size: Annotated[int, typer.Option(help="Students per job.")] = grading_repo.DEFAULT_CHUNK_SIZE,
) -> None:
    """Print the job matrix, {"chunk": [0, 1, ...]}, for the roster cut into chunks."""
    try:
        typer.echo(grading_repo.matrix_json(grading_repo.chunks(_roster(roster), chunk_size)))
    except grading_repo.GradingRepoError as error:
        errors.print(str(error), highlight=False)
        raise typer.Exit(ExitCode.USAGE) from None


@app.command("students")
def students_command(
    roster: RosterArgument,
    chunk: Annotated[Optional[int], typer.Option(help="The chunk's number; default: every student.")] = None,
    chunk_size: Annotated[int, typer.Option(help="Students per job.")] = grading_repo.DEFAULT_CHUNK_SIZE,
    pages: Annotated[Optional[Path], typer.Option(help="Print each student's feedback page in this folder.")] = None,
) -> None:
    """Print a chunk's students, one a line: id, repository (owner/name), then extension days or page (tabs)."""
    entries = list(_roster(roster)) if chunk is None else grading_repo.chunk(_roster(roster), chunk, chunk_size)
    try:
        for entry in entries:
            last = str(pages / f"{file_name(entry.id)}.md") if pages else f"{entry.extension_days:g}"
            typer.echo(f"{entry.id}\t{grading_repo.repository_of(entry)}\t{last}")
    except grading_repo.GradingRepoError as error:
        errors.print(str(error), highlight=False)
        raise typer.Exit(ExitCode.USAGE) from None


@app.command("hand-in")
def hand_in_command(
    activity: Annotated[Path, typer.Argument(help="What `gh api repos/OWNER/REPO/activity` (or /events) printed.")],
    branch: Annotated[str, typer.Option(help="The repository's default branch.")],
    assignment: Annotated[str, typer.Option(help="The assignment whose due date decides.")],
    extension_days: Annotated[float, typer.Option(min=0, help="The student's extension.")] = 0.0,
    course_path: CourseOption = Path("course.toml"),
) -> None:
    """Print the commit to grade and when it reached GitHub (tab-separated); HEAD and nothing without a push."""
    course = load(course_path)
    if assignment not in {a.id for a in course.assignments}:
        errors.print(f"unknown assignment {assignment}", highlight=False)
        raise typer.Exit(ExitCode.USAGE)
    deadline = deadline_for(course.assignment(assignment), extension_days)
    push = hand_in(pushes_from_api(activity.read_text("utf-8"), branch), deadline)
    found = (
        grading_repo.HandIn("HEAD", "")
        if push is None
        else grading_repo.HandIn(push.sha, push.at.astimezone(dt.timezone.utc).isoformat(timespec="seconds"))
    )
    typer.echo(found.line())


@app.command("hidden-details")
def hidden_details_command(
    assignment: Annotated[Optional[str], typer.Option(help="The assignment being posted.")] = None,
    course_path: CourseOption = Path("course.toml"),
) -> None:
    """Print `--show-hidden-details` when course.toml's hidden_visibility lets a posted page show them now."""
    course = load(course_path)
    if grading_repo.hidden_details_allowed(course, assignment, dt.datetime.now(dt.timezone.utc)):
        typer.echo("--show-hidden-details")
