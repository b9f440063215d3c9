"""The judge's side of the probes: asking one, and reading what comes back.

`grader/probes/` runs beside student code (in the jailed process, or on the reference
in the judge); the modules here run only in the judge. They may import the probes (to
run them on the reference); the probes never import them.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable


def ask_probe(student: Any, name: str, description: str, *args: Any) -> Any:
    """Run the probe `name` (`family.function`) on the student's proxy; the feedback's "call:" reads `description`."""
    try:
        return student.probe(name, *args)
    finally:
        if student.last_call is not None:
            student.last_call = dataclasses.replace(
                student.last_call, function=description.partition("(")[0], description=description
            )


def asker(family: str) -> Callable[..., Any]:
    """`ask(student, name, description, *args)` for the probes of one family (`asker("design")`)."""

    def ask(student: Any, name: str, description: str, *args: Any) -> Any:
        return ask_probe(student, f"{family}.{name}", description, *args)

    ask.__doc__ = f'Run the probe `{family}.<name>`; the feedback\'s "call:" line then reads `description`.'
    return ask
