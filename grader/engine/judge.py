"""The judge: the process that runs one exercise's suites and decides every verdict.

The engine (`grader.engine.warm`) forks a judge per exercise and calls `run_judge` in it; the
judge runs pytest on the exercise's suites with `GradingPlugin`, which starts the
student's sandboxed process, and sends results as JSON lines through `emit` (a pipe the
engine reads). The judge holds the hidden suites and the reference; the student's
process holds neither.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.course.manifest import load_course
from grader.engine.plugin import GradingPlugin, GradingSession
from grader.engine.zygote import Zygote

JUDGE_INI = Path(__file__).with_name("judge.ini")


def run_judge(request: dict, emit: Callable[[dict], None], *, zygote: Zygote | None = None) -> int:
    """Grade `request["submission"]` on `request["exercise"]`; every result goes through `emit`.

    `zygote` forks the student's processes (the engine's); None starts one for this judge.
    """
    course = load_course(request["course"])
    if request.get("grading"):
        course = course.with_grading(**request["grading"])
    exercise = course.exercise(request["exercise"])
    session = GradingSession(
        course,
        exercise,
        Path(request["submission"]),
        emit,
        public_only=request.get("public_only", False),
        zygote=zygote,
    )
    with no_plugin_autoload():
        code = pytest.main(
            pytest_arguments(course, exercise, hidden=not session.public_only), plugins=[GradingPlugin(session)]
        )
    session.emit({"event": "finished", "exit_code": int(code)})
    return 0


#: Plugins a judge runs with: hypothesis's only. Whatever else is installed (xdist, anyio, benchmark...)
#: plays no part in grading, and must not change it from one machine to the next.
PLUGINS = ("-p", "_hypothesis_pytestplugin")


def pytest_arguments(course, exercise, *, hidden: bool) -> list[str]:
    """pytest's command line for an exercise's suites: the course's settings never apply, a fixed seed.

    The caller's environment has PYTEST_DISABLE_PLUGIN_AUTOLOAD set (see `no_plugin_autoload`).
    """
    suites = [str(p) for p in course.suite_paths(exercise, hidden=hidden) if p.exists()]
    return [
        *suites,
        "-c",
        str(JUDGE_INI),
        "--rootdir",
        str(course.root),
        "-q",
        "-s",
        *PLUGINS,
        "-p",
        "no:cacheprovider",
        "--import-mode=importlib",
        f"--hypothesis-seed={course.grading.hypothesis_seed}",
    ]


@contextlib.contextmanager
def no_plugin_autoload():
    """pytest runs with the plugins named in PLUGINS, not every one installed."""
    before = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        if before is None:
            del os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = before
