"""The judge: the process that runs one exercise's suites and decides every verdict.

The engine (`grader.engine`) forks a judge per exercise and calls `run_judge` in it; the
judge runs pytest on the exercise's suites with `GradingPlugin`, which starts the
student's sandboxed process, and sends results as JSON lines through `emit` (a pipe the
engine reads). The judge holds the hidden suites and the reference; the student's
process holds neither.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from grader.manifest import load_course
from grader.plugin import GradingPlugin, GradingSession

_INI = Path(__file__).with_name("judge.ini")


def run_judge(request: dict, emit: Callable[[dict], None], *, zygote=None) -> int:
    """Grade `request["submission"]` on `request["exercise"]`; every result goes through `emit`."""
    course = load_course(request["course"])
    if request.get("grading"):
        course = course.with_grading(**request["grading"])
    exercise = course.exercise(request["exercise"])
    session = GradingSession(course, exercise, Path(request["submission"]), emit,
                             public_only=request.get("public_only", False))
    if zygote is not None:
        session.zygote = zygote
    code = pytest.main(pytest_arguments(course, exercise, hidden=not session.public_only),
                       plugins=[GradingPlugin(session)])
    session.emit({"event": "finished", "exit_code": int(code)})
    return 0


def pytest_arguments(course, exercise, *, hidden: bool) -> list[str]:
    """pytest's command line for an exercise's suites: the course's settings never apply, a fixed seed."""
    suites = [str(p) for p in course.suite_paths(exercise, hidden=hidden) if p.exists()]
    return [
        *suites, "-c", str(_INI), "--rootdir", str(course.root), "-q", "-s",
        "-p", "no:cacheprovider", "-p", "no:randomly", "--import-mode=importlib",
        f"--hypothesis-seed={course.grading.hypothesis_seed}",
    ]
