"""`grader check` and `grader new exercise`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from grader.cli.common import CourseOption, ExitCode, console, errors, load


def register(app: typer.Typer) -> None:
    app.command("check")(check_command)
    new = typer.Typer(help="Start a new part of the course from templates.", no_args_is_help=True)
    new.command("exercise")(new_exercise_command)
    app.add_typer(new, name="new")


def check_command(
    exercises: Annotated[list[str] | None, typer.Argument(help="Exercise ids; default: all.")] = None,
    min_mutation_score: Annotated[
        float,
        typer.Option(help="Fail when the hidden suite kills fewer than this percentage of non-equivalent mutants."),
    ] = 90.0,
    mutation: Annotated[bool, typer.Option(help="Measure the mutation score (the slow part).")] = True,
    survivors: Annotated[bool, typer.Option(help="List every surviving mutant as a diff.")] = True,
    fresh: Annotated[bool, typer.Option("--fresh", help="Recompute everything, ignoring the cache.")] = False,
    examples: Annotated[
        int | None,
        typer.Option(min=1, help="Hypothesis examples per property test in this check; default: course.toml's."),
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Exercises checked at once; 0: one per core.")] = 0,
    cache: Annotated[
        Path | None, typer.Option(help="The results cache; default: tests/hidden/mutation-cache.json.")
    ] = None,
    equivalents: Annotated[
        Path | None,
        typer.Option(help="Equivalent mutants, with reasons; default: tests/hidden/equivalent_mutants.toml."),
    ] = None,
    course_path: CourseOption = Path("course.toml"),
) -> None:
    """Check the course: suites pass the reference and fail the stub, points add up, and mutants are killed."""
    from grader.authoring.check import CheckOptions, check_course
    from grader.authoring.report import details, table

    course = load(course_path)
    unknown = [e for e in exercises or [] if e not in {x.id for x in course.exercises}]
    if unknown:
        errors.print(f"unknown exercise {', '.join(unknown)}; known: {', '.join(e.id for e in course.exercises)}")
        raise typer.Exit(ExitCode.USAGE)
    options = CheckOptions(
        exercises=tuple(exercises or ()),
        mutation=mutation,
        min_mutation_score=min_mutation_score,
        jobs=jobs,
        fresh=fresh,
        examples=examples,
        cache=cache,
        equivalents=equivalents,
    )
    with _progress_bar(errors) as progress:
        report = check_course(course, options, progress)
    console.print(table(report), width=None if console.is_terminal else max(console.width, 100))  # CI logs: whole
    console.print(details(report, survivors=survivors), highlight=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(ExitCode.BELOW_THRESHOLD)


def new_exercise_command(
    name: Annotated[str, typer.Argument(help="The exercise's id and module name: lower case, digits, underscores.")],
    section: Annotated[str, typer.Option(help="The tutorial section it follows: a whole line of the tutorial.")],
    title: Annotated[str | None, typer.Option(help="What students see; default: from the name.")] = None,
    points: Annotated[int, typer.Option(min=3, help="The exercise's points, shared by its tests.")] = 10,
    course_path: CourseOption = Path("course.toml"),
) -> None:
    """Scaffold an exercise: reference, stub, public and hidden suites, misconception catalogue, course.toml table."""
    from grader.authoring.scaffold import ScaffoldError, new_exercise

    course = load(course_path)
    try:
        written = new_exercise(course, name, section=section, title=title, points=points)
    except ScaffoldError as error:
        errors.print(f"[red]not created:[/red] {error}", highlight=False)
        raise typer.Exit(ExitCode.USAGE) from None
    for path in written:
        console.print(f"wrote {path}", highlight=False)


class _progress_bar:
    """A bar per exercise on stderr while the check runs (nothing when stderr is not a terminal)."""

    def __init__(self, console):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bars = Progress(
            TextColumn("{task.description:<14}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.tasks: dict[str, int] = {}

    def __enter__(self):
        self.bars.start()
        return self.update

    def __exit__(self, *exc_info) -> None:
        self.bars.stop()

    def update(self, exercise: str, done: int, total: int) -> None:
        if exercise not in self.tasks:
            self.tasks[exercise] = self.bars.add_task(exercise, total=total)
        self.bars.update(self.tasks[exercise], completed=done, total=total)
