"""The `grader` command: one typer app composed of this package's command modules.

Each command module registers its commands with `register(app)` and imports only
`grader.cli.common`, so any of them imports on its own and none imports this module.
The student's `grader grade` builds an app of the grading commands alone: the other
groups' imports (matplotlib, SQLAlchemy, cryptography...) would cost every grading run seconds.
"""

from __future__ import annotations

import importlib
import sys

import typer

#: The command modules of grader/cli/, in the order `grader --help` lists their commands.
COMMAND_GROUPS = ("grade", "classes", "publish", "quiz", "authoring", "experiment")
STUDENT_GROUPS = ("grade",)


def build_app(groups: tuple[str, ...] = COMMAND_GROUPS) -> typer.Typer:
    """A `grader` app holding the commands of `groups` (module names under grader/cli/)."""
    app = typer.Typer(
        help="Grade CNN Deep Dive exercises.",
        no_args_is_help=True,
        pretty_exceptions_show_locals=False,
        add_completion=False,
    )
    for group in groups:
        importlib.import_module(f"grader.cli.{group}").register(app)
    return app


def __getattr__(name: str) -> typer.Typer:
    """`grader.cli.app.app`, every command (tests drive it with typer's CliRunner), built when first asked for."""
    if name != "app":
        raise AttributeError(name)
    app = globals()["app"] = build_app()
    return app


def main() -> None:
    student = sys.argv[1:2] == ["grade"]
    build_app(STUDENT_GROUPS if student else COMMAND_GROUPS)()
