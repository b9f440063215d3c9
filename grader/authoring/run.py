"""The course check's computing side: grade an exercise's reference, stub and mutants in one judge.

`compute` writes each submission to a folder (with the sibling modules it imports), runs
`grader.authoring.judge` on all of them (in a judge forked from the warm engine, `grader.engine.warm`),
restarts it on the rest when one outlasts the exercise's time limit, and turns what each mutant's
tests did into a verdict: killed by the first hidden test that failed on it (or by the time limit),
else survived. Its
results are what `grader.authoring.check` caches, so this module is part of the cache key.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from grader.authoring.mutation import Mutant
from grader.course.manifest import Course, ExerciseSpec
from grader.course.sources import imported_modules
from grader.engine.warm import ForkedJudge, fork_judge

Progress = Callable[[str, int, int], None]  #: (exercise id, submissions graded, submissions in all)


def compute(
    course: Course,
    exercise: ExerciseSpec,
    generated: list[Mutant],
    examples: int | None,
    progress: Progress | None = None,
) -> dict:
    """Grade the reference, the stub and every mutant; return the raw results (the cache entry)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"grader-check-{exercise.id}-") as scratch:
        runs = _prepare_runs(course, exercise, generated, Path(scratch))
        collected, results, problems, cpu = _supervise(course, exercise, runs, Path(scratch), examples, progress)
    mutant_results = {m.id: _mutant_verdict(results.get(m.id), collected) for m in generated}
    return {
        "seconds": round(time.monotonic() - started, 1),
        "cpu_seconds": cpu,
        "tests": collected,
        "problems": problems,
        "reference": results.get("reference", {}),
        "stub": results.get("stub", {}),
        "mutants": mutant_results,
    }


def _prepare_runs(course: Course, exercise: ExerciseSpec, generated: list[Mutant], scratch: Path) -> list[dict]:
    reference = course.reference_file(exercise)
    stub = course.exercises_dir / exercise.module
    sources = [
        ("reference", reference.read_text(encoding="utf-8") if reference.is_file() else None, False),
        ("stub", stub.read_text(encoding="utf-8") if stub.is_file() else None, False),
    ]
    sources += [(m.id, m.source, True) for m in generated]
    others = siblings(course, exercise)
    runs = []
    for number, (name, text, stop) in enumerate(sources):
        if text is None:
            continue
        folder = scratch / "submissions" / f"{number:04d}"
        folder.mkdir(parents=True)
        (folder / exercise.module).write_text(text, encoding="utf-8")
        for module, path in others.items():
            shutil.copyfile(path, folder / module)
        runs.append({"name": name, "folder": str(folder), "stop": stop})
    return runs


def _supervise(
    course: Course,
    exercise: ExerciseSpec,
    runs: list[dict],
    scratch: Path,
    examples: int | None,
    progress: Progress | None,
) -> tuple[list[dict], dict[str, dict], list[str], float]:
    """Run the judge until every submission is graded; one that outlasts the exercise's time limit is
    stopped (as `grader grade` would stop it) and the judge restarted on the rest."""
    collected: list[dict] = []
    results: dict[str, dict] = {}
    problems: list[str] = []
    cpu = 0.0
    for attempt in range(len(runs) + 1):
        pending = [run for run in runs if run["name"] not in results]
        if not pending:
            break
        outcome = _one_judge(
            course,
            exercise,
            pending,
            scratch / f"attempt-{attempt}",
            examples,
            lambda: progress and progress(exercise.id, len(results), len(runs)),
            results,
        )
        collected = outcome["collected"] or collected
        cpu += outcome["cpu"]
        if outcome["collect_errors"]:
            problems += [f"a suite does not load: {error}" for error in outcome["collect_errors"]]
            break
        if outcome["stopped"] is None:
            if any(run["name"] not in results for run in pending):
                problems.append(f"the judge failed: {outcome['stderr'] or 'no results'}")
            break
        results[outcome["stopped"]] = {"$stopped": outcome["why"]}
    if progress is not None:
        progress(exercise.id, len(runs), len(runs))
    return collected, results, problems, round(cpu, 1)


def _one_judge(
    course: Course,
    exercise: ExerciseSpec,
    runs: list[dict],
    folder: Path,
    examples: int | None,
    tick: Callable[[], None],
    results: dict[str, dict],
) -> dict:
    folder.mkdir()
    events = folder / "events.jsonl"
    request = folder / "request.json"
    request.write_text(
        json.dumps(
            {
                "course": str(course.root),
                "exercise": exercise.id,
                "runs": runs,
                "grading": course.grading.model_dump(),
                "events": str(events),
                "examples": examples,
            }
        )
    )
    with open(folder / "stderr.txt", "wb") as stderr:  # a file, not a pipe: a full pipe would block the judge
        process = fork_judge(lambda: _check_judge(request), stderr.fileno())
    reader = _EventReader(events)
    state = {"collected": [], "collect_errors": [], "stopped": None, "why": None, "stderr": "", "cpu": 0.0}
    current, since = None, time.monotonic()
    while True:
        exited = _reaped(process, state)
        for event in reader.new_events():
            if event["event"] == "collected":
                state["collected"] = event["tests"]
            elif event["event"] == "collect_error":
                state["collect_errors"].append(f"{event['suite']}: {event['message']}")
            elif event["event"] == "run_started":
                current, since = event["name"], time.monotonic()
            elif event["event"] == "run_finished":
                results[event["name"]] = event["results"]
                current = None
                tick()
        limit = course.grading.exercise_timeout
        if current is not None and not exited and time.monotonic() - since > limit:
            os.killpg(process.pid, signal.SIGKILL)
            while not _reaped(process, state):
                time.sleep(0.05)
            state.update(stopped=current, why=f"stopped at the exercise's time limit ({limit:.0f} s)")
            break
        if exited:
            if current is not None:
                state.update(stopped=current, why="the judge ended while grading it")
            break
        time.sleep(0.1)
    tail = (folder / "stderr.txt").read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
    state["stderr"] = " | ".join(tail)
    return state


def _check_judge(request: Path) -> int:
    """In the forked judge: `grader.authoring.judge`'s main, as a started interpreter would run it."""
    from grader.authoring import judge as check_judge
    from grader.engine.jail import make_undumpable

    make_undumpable()
    return check_judge.run_check_judge(json.loads(request.read_text(encoding="utf-8")))


def _reaped(process: ForkedJudge, state: dict) -> bool:
    """Whether the judge has ended; reaped with wait4, to add its CPU time (and its workers') to `state`."""
    if process.returncode is not None:
        return True
    pid, status, usage = os.wait4(process.pid, os.WNOHANG)
    if pid == 0:
        return False
    process.returncode = os.waitstatus_to_exitcode(status)
    state["cpu"] = usage.ru_utime + usage.ru_stime
    return True


class _EventReader:
    """The whole lines appended to a JSON-lines file since the last read."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0

    def new_events(self) -> list[dict]:
        if not self.path.exists():
            return []
        with open(self.path, "rb") as stream:
            stream.seek(self.offset)
            data = stream.read()
        whole = data[: data.rfind(b"\n") + 1]
        self.offset += len(whole)
        return [json.loads(line) for line in whole.decode("utf-8").splitlines() if line.strip()]


def _mutant_verdict(results: dict | None, collected: list[dict]) -> dict:
    """Killed by the first hidden test that failed on it, or by the time limit; else survived."""
    if not results:
        return {"status": "survived", "by": None, "public": False, "note": "not graded"}
    if "$stopped" in results:
        return {"status": "killed", "by": "time limit", "public": False}
    kinds = {t["test_id"]: t["kind"] for t in collected}
    broken = [
        f"{test}: {' '.join(r.get('message', [])[-1:])}" for test, r in results.items() if r["outcome"] == "error"
    ]
    failing = [test for test, r in results.items() if r["outcome"] == "failed"]
    hidden = [test for test in failing if kinds.get(test) == "hidden"]
    if hidden:
        return {"status": "killed", "by": hidden[0], "reason": results[hidden[0]]["reason"], "public": False}
    verdict = {"status": "survived", "by": None, "public": bool(failing)}
    return verdict | {"grader_error": broken[0]} if broken else verdict  # the grader failing kills nothing


def siblings(course: Course, exercise: ExerciseSpec) -> dict[str, Path]:
    """Reference modules of other exercises that the reference or the suites import (scaling for efficientnet)."""
    others = {e.module_name: e for e in course.exercises if e.id != exercise.id}
    found: dict[str, Path] = {}
    sources = [course.reference_file(exercise), *course.suite_paths(exercise, hidden=True)]
    while sources:
        path = sources.pop()
        if not path.is_file():
            continue
        for name in _imported_names(path.read_text(encoding="utf-8")):
            if name in others and others[name].module not in found:
                found[others[name].module] = course.reference_file(others[name])
                sources.append(course.reference_file(others[name]))
    return found


def _imported_names(source: str) -> set[str]:
    return {name.split(".")[0] for name in imported_modules(source)}
