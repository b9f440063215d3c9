"""Grading a submission: one judge process per exercise, each under a hard time limit.

The runner never imports student code or suites. It starts `grader.judge`
for each exercise (in parallel, `jobs` at a time), kills a judge's whole
process group at the exercise's time limit, and assembles whatever results
the judge wrote into a `GradeReport`. Tests a killed judge did not reach are
reported as not run, so the report is always complete.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from grader.assignments import lateness_of
from grader.manifest import Course, ExerciseSpec
from grader.quiz.grading import grade_quiz, selected_quizzes
from grader.results import ExerciseResult, GradeReport, TestResult, from_json


@dataclasses.dataclass(frozen=True)
class GradeOptions:
    exercises: tuple[str, ...] = ()      #: ids to grade; empty means all
    public_only: bool = False
    jobs: int = 0                        #: parallel judges; 0 means the number of cores
    assignment: str | None = None        #: grade this assignment's items, with its late policy
    submitted_at: dt.datetime | None = None   #: when the submission came (default: see assignments)
    extension_days: float = 0.0          #: added to the assignment's due date for this student (the roster's)


def grade(course: Course, submission: Path, options: GradeOptions = GradeOptions()) -> GradeReport:
    """Grade `submission` (a folder of student modules) on every selected exercise and quiz."""
    lateness = None
    if options.assignment:
        assignment = course.assignment(options.assignment)
        options = dataclasses.replace(options, exercises=assignment.items)
        lateness = lateness_of(assignment, Path(submission), options.submitted_at, options.extension_days)
    quizzes = selected_quizzes(course, options.exercises)
    exercise_ids = [i for i in options.exercises if i not in {q.id for q in quizzes}]
    selected = [course.exercise(i) for i in exercise_ids] if options.exercises else list(course.exercises)
    jobs = options.jobs or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(selected)))) as pool:
        results = list(pool.map(lambda e: grade_exercise(course, e, submission, public_only=options.public_only),
                                selected))
    results += [grade_quiz(course, quiz, Path(submission)) for quiz in quizzes]   # answers are data: no judge
    notes = _notes(course, selected, options)
    return GradeReport(course=course.info.name, submission=str(submission), exercises=tuple(results),
                       public_only=options.public_only, notes=notes,
                       hidden_visibility=course.grading.hidden_visibility, lateness=lateness)


def grade_exercise(course: Course, exercise: ExerciseSpec, submission: Path, *, public_only: bool) -> ExerciseResult:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"grader-{exercise.id}-") as scratch:
        events_path = Path(scratch) / "events.jsonl"
        request_path = Path(scratch) / "request.json"
        request_path.write_text(json.dumps({
            "course": str(course.root), "exercise": exercise.id, "submission": str(Path(submission).resolve()),
            "events": str(events_path), "public_only": public_only,
            "grading": course.grading.model_dump(),
        }))
        problem = _run_judge(request_path, course.grading.exercise_timeout)
        events = _read_events(events_path)
    return _assemble(course, exercise, events, problem, public_only=public_only,
                     duration=round(time.monotonic() - started, 3))


#: Judges run one per core already; library threads on top would only fight over the cores.
_ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def _run_judge(request_path: Path, time_limit: float) -> str | None:
    """Run the judge; return what went wrong at the exercise level, if anything."""
    process = subprocess.Popen(
        [sys.executable, "-m", "grader.judge", str(request_path)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True, env=os.environ | _ONE_THREAD | {"PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"},
    )
    try:
        _, stderr = process.communicate(timeout=time_limit)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return f"grading stopped at the exercise's time limit ({time_limit:.0f} s)"
    if process.returncode != 0:
        tail = stderr.decode("utf-8", errors="replace").strip().splitlines()[-5:]
        return "the grader failed: " + (" | ".join(tail) or f"exit code {process.returncode}")
    return None


def _read_events(path: Path) -> list[dict]:
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            break  # the judge was killed mid-line: keep what is whole
    return events


def _assemble(course: Course, exercise: ExerciseSpec, events: list[dict], problem: str | None, *,
              public_only: bool, duration: float) -> ExerciseResult:
    collected = next((e["tests"] for e in events if e["event"] == "collected"), [])
    finished = {r.test_id: r for r in (from_json(e["result"]) for e in events if e["event"] == "result")}
    output = next((e["text"] for e in events if e["event"] == "output"), "")
    broken = [f"{e['suite']}: {e['message']}" for e in events if e["event"] == "collect_error"]
    unconfined = next((e["why"] for e in events if e["event"] == "unconfined"), None)
    if unconfined and problem is None:
        problem = f"note: student code ran without the jail on this machine ({unconfined})"
    if broken:
        problem = "the grader could not load its tests (tell your instructor): " + "; ".join(broken)
        collected = []
    if not collected and problem is None:
        problem = "the grader collected no tests for this exercise"
    tests = tuple(finished.get(t["test_id"]) or _not_run(exercise, t, problem) for t in collected)
    run_points = sum(t.points for t in tests)
    hidden_not_run = max(exercise.points - run_points, 0) if public_only and tests else 0
    return ExerciseResult(id=exercise.id, title=exercise.title, section=exercise.section, points=exercise.points,
                          tests=tests, hidden_points_not_run=hidden_not_run, problem=problem, output=output,
                          duration=duration)


def _not_run(exercise: ExerciseSpec, test: dict, problem: str | None) -> TestResult:
    return TestResult(exercise=exercise.id, test_id=test["test_id"], name=test["name"], kind=test["kind"],
                      points=test["points"], outcome="failed", reason="not_run",
                      message=(f"not run: {problem or 'the grader stopped before this test'}",))


def _notes(course: Course, selected: list[ExerciseSpec], options: GradeOptions) -> tuple[str, ...]:
    if options.public_only:
        return ("public tests only: hidden tests also count towards your grade",)
    missing = [e.id for e in selected if e.hidden and not course.has_hidden_suites(e)]
    if missing:
        return (f"hidden suites not available here ({', '.join(missing)}): graded on the public tests only",)
    return ()
