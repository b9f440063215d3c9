"""From a failed test's exception to the few lines a student reads.

Each kind of failure has its own wording; none shows a frame of the grader,
pytest or hypothesis. Student exceptions show the student's own frames only,
as the worker reported them.
"""

from __future__ import annotations

import dataclasses

from grader.checks import ForInstructor, Mismatch
from grader.engine.sandbox import StudentCrashed, StudentTimeout
from grader.engine.student import Call, ForbiddenUsed, ImportFailed, MissingFunction, NotImplementedYet, StudentRaised
from grader.results import Outcome, Reason

#: A failing test's message is cut to this many lines (hint included).
MAX_LINES = 15


@dataclasses.dataclass(frozen=True)
class Feedback:
    outcome: Outcome
    reason: Reason
    lines: tuple[str, ...]
    hint_wanted: bool = True  #: whether the test's hint helps here (not for a stub or an import error)


def explain(error: BaseException, call: Call | None, *, forbidden_help: str = "") -> Feedback:
    """Describe why a test failed, given what it raised and the last call it made."""
    if isinstance(error, BaseExceptionGroup) and error.exceptions:
        return explain(error.exceptions[0], call, forbidden_help=forbidden_help)
    if _while_handling_a_student_failure(error):
        # A suite's `finally:` that tripped over what the failure left (no call made: last_call is
        # None): the student's failure is the news, never "the grader itself failed".
        return explain(error.__context__, call, forbidden_help=forbidden_help)
    called = [f"call: {call.description}"] if call is not None else []
    if isinstance(error, ForInstructor):
        return Feedback("pending", "manual", cut_lines(list(error.lines)), hint_wanted=False)
    if isinstance(error, Mismatch):
        return Feedback("failed", "mismatch", cut_lines(called + error.lines()))
    if isinstance(error, NotImplementedYet):
        name = call.function if call else "this function"
        return Feedback("failed", "not_implemented", (f"{name}: not implemented yet",), hint_wanted=False)
    if isinstance(error, StudentRaised):
        return Feedback("failed", "exception", cut_lines(called + _raised_lines(error)))
    if isinstance(error, StudentTimeout):
        return Feedback(
            "failed",
            "timeout",
            cut_lines(
                called
                + [f"no answer within the test's time limit ({error.seconds:.0f} s): an endless loop, or far too slow"]
            ),
        )
    if isinstance(error, StudentCrashed):
        return Feedback("failed", "crash", cut_lines(called + [f"the process running your code {error.how}"]))
    if isinstance(error, ImportFailed):
        return Feedback("failed", "import", cut_lines(str(error).splitlines()), hint_wanted=False)
    if isinstance(error, ForbiddenUsed):
        names = ", ".join(error.names)
        return Feedback(
            "failed",
            "forbidden",
            cut_lines(
                called
                + [
                    f"your code called {names}, which this exercise asks you to write yourself"
                    + (f" ({forbidden_help})" if forbidden_help else "")
                ]
            ),
            hint_wanted=False,
        )
    if isinstance(error, MissingFunction):
        return Feedback(
            "failed", "missing", (f"your module has no function or class named {error.name!r}",), hint_wanted=False
        )
    if isinstance(error, AssertionError):
        return Feedback("failed", "mismatch", cut_lines(called + (str(error) or "assertion failed").splitlines()))
    return Feedback(
        "error",
        "grader",
        cut_lines(
            called + [f"the grader itself failed on this test ({type(error).__name__}: {error}); tell your instructor"]
        ),
    )


def marker_hint_fits(on: str | tuple[str, ...] | list[str] | None, error: BaseException) -> bool:
    """Whether a test's hint marker fits this failure: a hint written for one kind of failure
    (`@pytest.mark.hint("allocate the output with the input's dtype", on="dtype")`) is shown only on
    a `Mismatch` of that kind, never on wrong values; a hint without `on` fits any failure."""
    if on is None:
        return True
    kinds = (on,) if isinstance(on, str) else tuple(on)
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return isinstance(error, Mismatch) and error.kind in kinds


_STUDENT_FAILURES = (
    ImportFailed,
    NotImplementedYet,
    StudentRaised,
    StudentTimeout,
    StudentCrashed,
    ForbiddenUsed,
    MissingFunction,
)


def _while_handling_a_student_failure(error: BaseException) -> bool:
    return not isinstance(error, (*_STUDENT_FAILURES, AssertionError, ForInstructor)) and isinstance(
        error.__context__, _STUDENT_FAILURES
    )


def _raised_lines(error: StudentRaised) -> list[str]:
    lines = [f"raised {error.type_name}: {error.text}".rstrip(": ")]
    if error.type_name == "TypeError" and not error.frames:
        # Raised before any line of the student's ran: the arguments did not bind.
        lines.append("the call does not fit your function's parameters: keep the signature the exercise gives")
    for frame in error.frames[-3:]:
        lines.append(f"  {frame['file']}, line {frame['line']}, in {frame['function']}")
        if frame.get("code"):
            lines.append(f"    {frame['code']}")
    return lines


def cut_lines(lines: list[str]) -> tuple[str, ...]:
    """Lines within the budget: long lines shortened, the tail summarised."""
    lines = [line if len(line) <= 200 else line[:197] + "..." for line in lines]
    if len(lines) > MAX_LINES - 1:
        lines = lines[: MAX_LINES - 2] + [f"... ({len(lines) - MAX_LINES + 2} more lines)"]
    return tuple(lines)
