"""`grader publish` and `grader classroom-summary`, registered in grader/cli.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from grader.cli import CourseOption, ExitCode, _load, console, errors
from grader.manifest import CourseError
from grader.publish.classroom import summary
from grader.publish.release import Published, PublishError, PublishOptions, publish
from grader.publish.tamper import MANIFEST_PATH


def register(app: typer.Typer) -> None:
    app.command("publish")(publish_command)
    app.command("classroom-summary")(classroom_summary_command)


def publish_command(
    out: Annotated[Path, typer.Argument(help="The release folder to write (new, or emptied with --force).")],
    exercises: Annotated[Optional[list[str]], typer.Option(
        "--exercises", help="Exercise and quiz ids to release (repeat, or comma-separated); default: all.")] = None,
    gradescope: Annotated[bool, typer.Option("--gradescope", help="Also write the Gradescope autograder zip.")] = False,
    nbgrader: Annotated[bool, typer.Option("--nbgrader", help="Also write nbgrader source notebooks.")] = False,
    instructor: Annotated[Optional[Path], typer.Option(
        help="Where the key, the zip and the notebooks go; default: OUT-instructor beside OUT.")] = None,
    check: Annotated[bool, typer.Option(help="Refuse unless reference/ scores full marks on every suite.")] = True,
    force: Annotated[bool, typer.Option("--force", help="Replace what a non-empty OUT holds (keeps .git).")] = False,
    assignment: Annotated[Optional[str], typer.Option(help="Release this assignment's exercises and quizzes.")] = None,
    course_path: CourseOption = Path("course.toml"),
) -> None:
    """Write the student release: stubs, public suites, engine, workflow, README, sealed hidden tests."""
    course = _load(course_path)
    ids = tuple(i.strip() for item in exercises or () for i in item.split(",") if i.strip())
    if assignment is not None:
        if assignment not in {a.id for a in course.assignments}:
            errors.print(f"unknown assignment {assignment}; known: {', '.join(a.id for a in course.assignments) or 'none'}")
            raise typer.Exit(ExitCode.USAGE)
        ids += course.assignment(assignment).items
    options = PublishOptions(exercises=ids, check=check, force=force, gradescope=gradescope, nbgrader=nbgrader,
                             instructor=instructor)
    try:
        published = publish(course, out, options)
    except (PublishError, CourseError, FileNotFoundError) as error:
        errors.print(f"[red]not published:[/red] {error}", highlight=False)
        raise typer.Exit(ExitCode.BROKEN_COURSE) from None
    _describe(published)


def classroom_summary_command(
    results: Annotated[Path, typer.Argument(help="The folder of runner results (`--format classroom` files).")],
) -> None:
    """Print a Markdown table of classroom runner results, for a CI job summary."""
    typer.echo(summary(results), nl=False)


def _describe(published: Published) -> None:
    console.print(f"released {', '.join(published.released)} to {published.release} "
                  f"({len(published.files)} files; checksums in {MANIFEST_PATH})", highlight=False)
    if published.key_file is None:
        console.print("hidden tests sealed with the key in GRADER_BUNDLE_KEY", highlight=False)
    else:
        state = "new key" if published.key_created else "the saved key"
        console.print(f"hidden tests sealed with {state}: {published.key_file} (save its content as the CI secret "
                      "GRADER_BUNDLE_KEY; never put it in the release)", highlight=False)
    extras = (("Gradescope autograder", published.gradescope_zip), ("nbgrader course", published.nbgrader_dir))
    for label, path in extras:
        if path is not None:
            console.print(f"{label}: {path}", highlight=False)
