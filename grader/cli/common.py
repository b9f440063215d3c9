"""What every command module shares: the consoles, exit codes, formats and the `--course` option.

Command modules import from here, never from `grader.cli.app` (which imports them): no cycle.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from grader.course.manifest import Course, CourseError, load_course

console = Console()
errors = Console(stderr=True, soft_wrap=True)  # messages name files and keys: never wrap them


class ExitCode(enum.IntEnum):
    OK = 0
    BELOW_THRESHOLD = 1
    USAGE = 2
    BROKEN_COURSE = 3


class Format(str, enum.Enum):
    text = "text"
    json = "json"
    junit = "junit"
    classroom = "classroom"


CourseOption = Annotated[Path, typer.Option("--course", help="course.toml, or the folder holding it.")]


def load(course_path: Path) -> Course:
    """The course, or exit 3 with the reason (a bad key is reported with its line)."""
    try:
        return load_course(course_path)
    except CourseError as error:
        errors.print(f"[red]broken course:[/red] {error}", highlight=False)
        raise typer.Exit(ExitCode.BROKEN_COURSE) from None
