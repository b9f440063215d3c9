"""The course check's judge: one process runs an exercise's suites on many submissions.

`grader check` grades the reference, the stub and every mutant of an exercise.
Started once per submission, the ordinary judge would import pytest,
hypothesis and the suites tens of times; this judge collects the suites once
and then, for each submission (a folder, as `grader grade` would get it), runs
the collected tests with a fresh student process, through the same
`GradingPlugin` that grades students: same fixtures, limits and verdicts.

A mutant stops at its first failing test (it is killed: nothing more to learn),
hidden tests first, ordered so that those that killed most mutants so far come
first. Hypothesis does not shrink a failure here: shrinking only makes the
message shorter, never changes whether a test fails.

    python -m grader.authoring.judge REQUEST.json

REQUEST: {"course", "exercise", "grading", "events", "examples", "runs": [{"name", "folder", "stop"}]}.
Events, one JSON line each: `collected` (tests with kind, points, section),
`run_started`, `run_finished` (outcome and reason per test run), `finished`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
from _pytest.runner import runtestprotocol

from grader.course.manifest import load_course
from grader.engine.jail import make_undumpable
from grader.engine.judge import no_plugin_autoload, pytest_arguments
from grader.engine.plugin import GradingPlugin, GradingSession, display_name, jsonl_emitter, preload
from grader.engine.zygote import Zygote
from grader.results import from_json


class CheckPlugin(GradingPlugin):
    """`GradingPlugin`, run over a list of submissions instead of one."""

    def __init__(self, session: GradingSession, runs: list[dict], examples: int | None):
        self.events = session.emit
        session.emit = self._record
        super().__init__(session)
        self.runs = runs
        self.examples = examples
        self.results: dict[str, dict] = {}
        self.kills: dict[str, int] = {}

    def pytest_configure(self, config: pytest.Config) -> None:
        super().pytest_configure(config)
        from hypothesis import Phase, settings

        examples = self.examples or self.session.course.grading.hypothesis_examples
        settings.register_profile(
            "check",
            settings.get_profile("grading"),
            max_examples=examples,
            phases=(Phase.explicit, Phase.reuse, Phase.generate),
        )
        settings.load_profile("check")

    def pytest_collection_modifyitems(self, session, config, items) -> None:
        super().pytest_collection_modifyitems(session, config, items)
        self.events(
            {
                "event": "collected",
                "tests": [
                    {
                        "test_id": item.nodeid,
                        "name": display_name(item),
                        "kind": self._kind(item),
                        "points": self._points[item.nodeid],
                        "section": _marker_text(item, "section"),
                    }
                    for item in items
                ],
            }
        )

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        if session.testsfailed and not session.config.option.continue_on_collection_errors:
            return True  # a suite that does not load: the collected event already says so
        # One zygote forks every run's workers: a new interpreter, so nothing of this judge
        # (suites, reference) is in it.
        self.session.zygote = Zygote.start_fresh(preload(self.session.course, self.session.exercise))
        try:
            for run in self.runs:
                self._grade(session, run)
        finally:
            self.session.zygote.close()
        return True

    def _grade(self, session: pytest.Session, run: dict) -> None:
        self.events({"event": "run_started", "name": run["name"]})
        self.session.submission = Path(run["folder"])
        self.results = {}
        items = self._order(session.items) if run.get("stop") else list(session.items)
        started = time.monotonic()
        for index, item in enumerate(items):
            runtestprotocol(item, log=False, nextitem=items[index + 1] if index + 1 < len(items) else None)
            outcome = self.results.get(item.nodeid, {}).get("outcome")
            if run.get("stop") and outcome in ("failed", "error"):
                self.kills[item.nodeid] = self.kills.get(item.nodeid, 0) + 1
                break
        session._setupstate.teardown_exact(None)  # session fixtures too: the next run gets a new student
        if self.process is not None:
            self.process.kill()
        self.process = self.module = None
        self.events(
            {
                "event": "run_finished",
                "name": run["name"],
                "results": self.results,
                "seconds": round(time.monotonic() - started, 3),
            }
        )

    def _order(self, items: list[pytest.Item]) -> list[pytest.Item]:
        """Hidden tests first; those that killed most mutants first; then the public tests."""
        position = {item.nodeid: n for n, item in enumerate(items)}
        return sorted(
            items,
            key=lambda item: (self._kind(item) != "hidden", -self.kills.get(item.nodeid, 0), position[item.nodeid]),
        )

    def _diagnose(self, last_call):
        return None  # naming the misconception only words the message; it never changes a verdict

    def _record(self, event: dict) -> None:
        if event["event"] == "result":
            result = from_json(event["result"])
            self.results[result.test_id] = {
                "outcome": result.outcome,
                "reason": result.reason,
                "duration": result.duration,
                "message": list(result.message[:3]),
            }
        elif event["event"] in ("collect_error", "unconfined"):
            self.events(event)


def _marker_text(item: pytest.Item, name: str) -> str | None:
    marker = item.get_closest_marker(name)
    return str(marker.args[0]) if marker and marker.args else None


def run_check_judge(request: dict) -> int:
    course = load_course(request["course"]).with_grading(**request["grading"])
    exercise = course.exercise(request["exercise"])
    events = Path(request["events"])
    session = GradingSession(
        course, exercise, Path(request["runs"][0]["folder"]), jsonl_emitter(events), private_dirs=(events.parent,)
    )
    plugin = CheckPlugin(session, request["runs"], request.get("examples"))
    with no_plugin_autoload():  # the same pytest as a grading judge's
        code = pytest.main(pytest_arguments(course, exercise, hidden=True), plugins=[plugin])
    plugin.events({"event": "finished", "exit_code": int(code)})
    return 0


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as stream:
        request = json.load(stream)
    make_undumpable()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.exit(run_check_judge(request))


if __name__ == "__main__":
    main()
