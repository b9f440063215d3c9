"""`grader grade`, `grader render` and `grader stubs`: grading a submission, showing a saved report."""

from __future__ import annotations

import difflib
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer

from grader import score
from grader.cli.common import CourseOption, ExitCode, Format, console, errors, load
from grader.course.manifest import Course, CourseError
from grader.course.stubs import stale_stubs, write_stubs
from grader.engine import warm as engine
from grader.engine.runner import GradeOptions, runs_torch
from grader.publish.runtime import grade_release
from grader.reports import EXPORTERS, text_report
from grader.reports import classroom as classroom_report
from grader.reports.output_files import UnsafeOutput, course_protected, write_report


def grade_command(
    exercises: Annotated[Optional[list[str]], typer.Argument(help="Exercise ids; default: all.")] = None,
    submission: Annotated[
        Optional[Path], typer.Option(help="Folder of your modules; default: the course's exercises/.")
    ] = None,
    public_only: Annotated[bool, typer.Option("--public-only", help="Run only the public tests.")] = False,
    output_format: Annotated[Format, typer.Option("--format", help="Report format.")] = Format.text,
    output: Annotated[Optional[Path], typer.Option(help="Write the report here instead of the terminal.")] = None,
    fail_under: Annotated[Optional[float], typer.Option(help="Exit 1 when the score is below this percentage.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Exercises graded in parallel; 0: one per core.")] = 0,
    assignment: Annotated[
        Optional[str], typer.Option(help="Grade this assignment's items, with its late policy.")
    ] = None,
    submitted_at: Annotated[
        Optional[datetime],
        typer.Option(
            help="When the work was handed in (default: when this clone of a repository got its commit, else now).",
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"],
        ),
    ] = None,
    extension_days: Annotated[
        float,
        typer.Option(
            min=0, help="Days added to the assignment's due date for this student (the roster's extension_days)."
        ),
    ] = 0.0,
    watch: Annotated[
        bool, typer.Option("--watch", help="Stay running: grade an exercise again each time its file is saved.")
    ] = False,
    course_path: CourseOption = Path("course.toml"),
) -> None:
    """Grade a submission and print the score with feedback on every failing test."""
    course = load(course_path)
    if assignment is not None and assignment not in {a.id for a in course.assignments}:
        errors.print(f"unknown assignment {assignment}; known: {', '.join(a.id for a in course.assignments) or 'none'}")
        raise typer.Exit(ExitCode.USAGE)
    unknown = unknown_items(course, exercises or [])
    if unknown:
        errors.print(unknown)
        raise typer.Exit(ExitCode.USAGE)
    options = GradeOptions(
        exercises=tuple(exercises or ()),
        public_only=public_only,
        jobs=jobs,
        assignment=assignment,
        submitted_at=submitted_at,
        extension_days=extension_days,
    )
    if watch:
        from grader.engine.watch import watch as watch_submission

        watch_submission(
            course,
            submission or course.exercises_dir,
            options,
            _show_regraded,
            lambda text: console.print(text, style="dim", highlight=False),
        )
        return
    # warm, and its zygote forked, before any hidden suite is unsealed in this process
    engine.shared(models=runs_torch(course, options.exercises))
    try:  # in a release: the tamper check, public tests only, the score called provisional
        report = grade_release(course, submission or course.exercises_dir, options)
    except CourseError as error:
        errors.print(f"[red]broken release:[/red] {error}", highlight=False)
        raise typer.Exit(ExitCode.BROKEN_COURSE) from None
    _emit(report, output_format, output, course, submission or course.exercises_dir)
    if fail_under is not None and score.percentage(report) < fail_under:
        raise typer.Exit(ExitCode.BELOW_THRESHOLD)


def unknown_items(course: Course, names: list[str]) -> str | None:
    """What to tell a user who named an exercise or quiz the course does not have: the closest name
    ("did you mean conv?") and every known one, in the course's order, quizzes included."""
    known = [item.id for item in (*course.exercises, *course.quizzes)]
    unknown = [name for name in names if name not in known]
    if not unknown:
        return None
    guesses = [match for name in unknown for match in difflib.get_close_matches(name, known, n=1, cutoff=0.6)]
    guess = f"; did you mean {' or '.join(dict.fromkeys(guesses))}?" if guesses else ""
    return (
        f"unknown exercise {', '.join(unknown)}{guess}\n"
        f"known exercises and quizzes, in the course's order: {', '.join(known)}"
    )


def _show_regraded(report, heading: str) -> None:
    console.rule(heading, style="dim")
    console.print(text_report.build(report))


def _emit(report, output_format: Format, output: Optional[Path], course: Course, *keep: Path) -> None:
    """To a file in the format asked; to the terminal as rich text unless another format is asked.

    A file is written atomically, never through a link, never inside the course (nor `keep`).
    """
    if output is None and output_format == Format.text:
        console.print(text_report.build(report))
        return
    rendered = EXPORTERS[output_format.value](report)
    if output is None:
        typer.echo(rendered, nl=False)
        return
    try:
        write_report(output, rendered, protected=course_protected(course, *keep))
    except UnsafeOutput as error:
        errors.print(f"[red]not written:[/red] {error}", highlight=False)
        raise typer.Exit(ExitCode.USAGE) from None


def render_command(
    reports: Annotated[list[Path], typer.Argument(help="Reports saved by `grader grade --format json`.")],
    output_format: Annotated[Format, typer.Option("--format", help="Report format.")] = Format.text,
    output: Annotated[Optional[Path], typer.Option(help="Write the report here instead of the terminal.")] = None,
    for_students: Annotated[
        bool,
        typer.Option(
            "--for-students",
            help="Hidden tests' feedback only as course.toml's hidden_visibility allows (CI artifacts).",
        ),
    ] = False,
    course_path: CourseOption = Path("course.toml"),
) -> None:
    """Show saved reports in another format; several (one per exercise) become one report."""
    from grader.classes.imports import (  # SQLAlchemy: instructors only, never on `grade`'s path
        ResultsError,
        read_reports,
    )

    course = load(course_path)
    try:
        report = read_reports(course, reports)
    except ResultsError as error:
        errors.print(str(error), highlight=False, soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE) from None
    if for_students:
        report = classroom_report.without_hidden_feedback(report)
    _emit(report, output_format, output, course)


def stubs_command(
    check: Annotated[bool, typer.Option("--check", help="Only report stale stubs; exit 1 if any.")] = False,
    course_path: CourseOption = Path("course.toml"),
) -> None:
    """Generate exercises/ from reference/ (solution regions become NotImplementedError)."""
    course = load(course_path)
    try:
        changed = stale_stubs(course) if check else write_stubs(course)
    except CourseError as error:
        errors.print(f"[red]broken reference:[/red] {error}", highlight=False)
        raise typer.Exit(ExitCode.BROKEN_COURSE) from None
    for path in changed:
        console.print(f"{'stale' if check else 'wrote'} {path.relative_to(course.root)}")
    if check and changed:
        raise typer.Exit(ExitCode.BELOW_THRESHOLD)


def register(app: typer.Typer) -> None:
    app.command("grade")(grade_command)
    app.command("render")(render_command)
    app.command("stubs")(stubs_command)
