"""`grader publish`, `grader classroom-summary` and `grader grading ...`, and the grading repository's steps."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from grader.classes.imports import ResultsError, read_reports
from grader.cli.common import CourseOption, ExitCode, console, errors, load
from grader.course.manifest import CourseError
from grader.publish.classroom import summary
from grader.publish.grading_repo import GradingRepoError
from grader.publish.release import Published, PublishError, PublishOptions, publish
from grader.publish.tamper import MANIFEST_PATH


def register(app: typer.Typer) -> None:
    app.command("publish")(publish_command)
    app.command("classroom-summary")(classroom_summary_command)
    from grader.cli.grading import register as grading  # the grading repository's workflow steps

    grading(app)


def publish_command(
    out: Annotated[Path, typer.Argument(help="The release folder to write (new, or emptied with --force).")],
    exercises: Annotated[
        Optional[list[str]],
        typer.Option(
            "--exercises", help="Exercise and quiz ids to release (repeat, or comma-separated); default: all."
        ),
    ] = None,
    gradescope: Annotated[bool, typer.Option("--gradescope", help="Also write the Gradescope autograder zip.")] = False,
    grading_repo: Annotated[
        Optional[Path],
        typer.Option(
            "--grading-repo", help="Also write the instructor's grading repository (hidden tests, roster, workflow)."
        ),
    ] = None,
    nbgrader: Annotated[bool, typer.Option("--nbgrader", help="Also write nbgrader source notebooks.")] = False,
    instructor: Annotated[
        Optional[Path],
        typer.Option(help="Where the key, the zip and the notebooks go; default: OUT-instructor beside OUT."),
    ] = None,
    check: Annotated[bool, typer.Option(help="Refuse unless reference/ scores full marks on every suite.")] = True,
    force: Annotated[bool, typer.Option("--force", help="Replace what a non-empty OUT holds (keeps .git).")] = False,
    assignment: Annotated[Optional[str], typer.Option(help="Release this assignment's exercises and quizzes.")] = None,
    course_path: CourseOption = Path("course.toml"),
) -> None:
    """Write the student release (stubs, public suites, engine, a formative workflow), and the instructor's graders."""
    course = load(course_path)
    ids = tuple(i.strip() for item in exercises or () for i in item.split(",") if i.strip())
    if assignment is not None:
        if assignment not in {a.id for a in course.assignments}:
            errors.print(
                f"unknown assignment {assignment}; known: {', '.join(a.id for a in course.assignments) or 'none'}"
            )
            raise typer.Exit(ExitCode.USAGE)
        ids += course.assignment(assignment).items
    options = PublishOptions(
        exercises=ids,
        check=check,
        force=force,
        gradescope=gradescope,
        nbgrader=nbgrader,
        instructor=instructor,
        grading_repo=grading_repo,
    )
    try:
        published = publish(course, out, options)
    except (PublishError, GradingRepoError, CourseError, FileNotFoundError) as error:
        errors.print(f"[red]not published:[/red] {error}", highlight=False)
        raise typer.Exit(ExitCode.BROKEN_COURSE) from None
    _describe(published)


def classroom_summary_command(
    report: Annotated[Path, typer.Argument(help="The report `grader grade --format json` saved.")],
    course_path: CourseOption = Path("course.toml"),
) -> None:
    """Print a Markdown table of a saved report, for a CI job summary (a missing report says grading did not run)."""
    course = load(course_path)
    try:
        typer.echo(summary(read_reports(course, [report]) if report.is_file() else None), nl=False)
    except ResultsError as error:
        errors.print(str(error), highlight=False)
        raise typer.Exit(ExitCode.USAGE) from None


def _describe(published: Published) -> None:
    console.print(
        f"released {', '.join(published.released)} to {published.release} "
        f"({len(published.files)} files; checksums in {MANIFEST_PATH}); it holds no hidden test, "
        "no solution and no key: its workflow's score is provisional",
        highlight=False,
    )
    extras = (
        ("Gradescope autograder", published.gradescope_zip),
        ("nbgrader course", published.nbgrader_dir),
        ("grading repository (keep it private)", published.grading_repo),
    )
    for label, path in extras:
        if path is not None:
            console.print(f"{label}: {path}", highlight=False)
