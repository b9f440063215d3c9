"""The judge: one process per exercise that runs its suites and decides every verdict.

The runner starts `python -m grader.judge REQUEST.json`; the judge runs pytest
on the exercise's suites with `GradingPlugin`, which starts the student's
sandboxed process and writes results as JSON lines to the request's
`events` file. The judge holds the hidden suites and the reference; the
student's process holds neither.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from grader.manifest import load_course
from grader.jail import make_undumpable
from grader.plugin import GradingPlugin, GradingSession, jsonl_emitter

_INI = Path(__file__).with_name("judge.ini")


def run_judge(request: dict) -> int:
    course = load_course(request["course"])
    if request.get("grading"):
        course = course.with_grading(**request["grading"])
    exercise = course.exercise(request["exercise"])
    events = Path(request["events"])
    session = GradingSession(course, exercise, Path(request["submission"]), jsonl_emitter(events),
                             public_only=request.get("public_only", False), private_dirs=(events.parent,))
    suites = [str(p) for p in course.suite_paths(exercise, hidden=not session.public_only) if p.exists()]
    arguments = [
        *suites, "-c", str(_INI), "--rootdir", str(course.root), "-q", "-s",
        "-p", "no:cacheprovider", "-p", "no:randomly", "--import-mode=importlib",
        f"--hypothesis-seed={course.grading.hypothesis_seed}",
    ]
    code = pytest.main(arguments, plugins=[GradingPlugin(session)])
    session.emit({"event": "finished", "exit_code": int(code)})
    return 0


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as stream:
        request = json.load(stream)
    make_undumpable()     # unconfined student code runs as our user: keep it out of our memory and /proc entries
    # pytest's own chatter is not feedback: the events file carries the results.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.exit(run_judge(request))


if __name__ == "__main__":
    main()
