"""Grading a submission: one judge per exercise, each under a hard time limit.

The runner never imports student code or suites. The warm engine (`grader.engine.warm`)
forks a judge for each exercise (`jobs` at a time) and kills a judge's whole process
group at the exercise's time limit; the runner assembles whatever results the judge
sent into a `GradeReport`. Tests a killed judge did not reach are reported as not run,
so the report is always complete.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

from grader.course.assignments import lateness_of
from grader.course.manifest import Course, ExerciseSpec
from grader.course.sources import imported_modules
from grader.engine import warm as engine_module
from grader.engine.warm import Engine, JudgeJob
from grader.quiz.grading import grade_quiz, selected_quizzes
from grader.results import ExerciseResult, GradeReport, TestResult, from_json


@dataclasses.dataclass(frozen=True)
class GradeOptions:
    exercises: tuple[str, ...] = ()  #: ids to grade; empty means all
    public_only: bool = False
    jobs: int = 0  #: parallel judges; 0 means the number of cores
    assignment: str | None = None  #: grade this assignment's items, with its late policy
    submitted_at: dt.datetime | None = None  #: when the submission came (default: see assignments)
    extension_days: float = 0.0  #: added to the assignment's due date for this student (the roster's)


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
    results = grade_exercises(course, selected, submission, public_only=options.public_only, jobs=jobs)
    results += [grade_quiz(course, quiz, Path(submission)) for quiz in quizzes]  # answers are data: no judge
    notes = _notes(course, selected, options)
    return GradeReport(
        course=course.info.name,
        submission=str(submission),
        exercises=tuple(results),
        public_only=options.public_only,
        notes=notes,
        hidden_visibility=course.grading.hidden_visibility,
        lateness=lateness,
    )


def grade_exercise(
    course: Course, exercise: ExerciseSpec, submission: Path, *, public_only: bool, engine: Engine | None = None
) -> ExerciseResult:
    """Grade one exercise in a judge forked by the (warm) engine."""
    return grade_exercises(course, [exercise], submission, public_only=public_only, jobs=1, engine=engine)[0]


def grade_exercises(
    course: Course,
    exercises: list[ExerciseSpec],
    submission: Path,
    *,
    public_only: bool,
    jobs: int,
    engine: Engine | None = None,
) -> list[ExerciseResult]:
    """Grade `exercises`, `jobs` judges at a time, each under the exercise's time limit."""
    return _grade_pairs(course, [(exercise, submission) for exercise in exercises], public_only, jobs, engine)


def grade_exercises_of(
    course: Course,
    exercise: ExerciseSpec,
    submissions: list[Path],
    *,
    jobs: int,
    public_only: bool = False,
    engine: Engine | None = None,
) -> list[ExerciseResult]:
    """Grade one exercise of several submissions, `jobs` judges at a time (the engine's tests: a corpus)."""
    return _grade_pairs(course, [(exercise, folder) for folder in submissions], public_only, jobs, engine)


def _grade_pairs(
    course: Course, pairs: list[tuple[ExerciseSpec, Path]], public_only: bool, jobs: int, engine: Engine | None
) -> list[ExerciseResult]:
    """Each (exercise, submission) graded in a judge of its own, `jobs` at a time, under the exercise's time limit."""
    work = [
        JudgeJob(_request(course, exercise, folder, public_only), course.grading.exercise_timeout, label=exercise.id)
        for exercise, folder in pairs
    ]
    outcomes = (engine or engine_module.shared()).run(work, parallel=jobs)
    return [
        _assemble(
            course,
            exercise,
            outcome.events,
            outcome.problem,
            public_only=public_only,
            duration=round(outcome.seconds, 3),
        )
        for (exercise, _), outcome in zip(pairs, outcomes)
    ]


def _request(course: Course, exercise: ExerciseSpec, submission: Path, public_only: bool) -> dict:
    return {
        "course": str(course.root),
        "exercise": exercise.id,
        "submission": str(Path(submission).resolve()),
        "public_only": public_only,
        "grading": course.grading.model_dump(),
    }


def _assemble(
    course: Course,
    exercise: ExerciseSpec,
    events: list[dict],
    problem: str | None,
    *,
    public_only: bool,
    duration: float,
) -> ExerciseResult:
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
    return ExerciseResult(
        id=exercise.id,
        title=exercise.title,
        section=exercise.section,
        points=exercise.points,
        tests=tests,
        hidden_points_not_run=hidden_not_run,
        problem=problem,
        output=output,
        duration=duration,
    )


def _not_run(exercise: ExerciseSpec, test: dict, problem: str | None) -> TestResult:
    return TestResult(
        exercise=exercise.id,
        test_id=test["test_id"],
        name=test["name"],
        kind=test["kind"],
        points=test["points"],
        outcome="failed",
        reason="not_run",
        message=(f"not run: {problem or 'the grader stopped before this test'}",),
    )


def runs_torch(course: Course, exercise_ids: tuple[str, ...] = ()) -> bool:
    """Whether grading these exercises (none named: all) may run torch: some exercise's stub imports it.

    Decides whether the engine rehearses torch's model paths (`grader.engine.warm.shared(models=...)`):
    worth it for a model exercise, a waste for the numpy ones. Read from the course's stubs, which are
    public (a student's own edits can at worst cost the rehearsal); a stub that is missing or does not
    parse counts as running torch.
    """
    ids = set(exercise_ids)
    for exercise in course.exercises:
        if ids and exercise.id not in ids:
            continue
        try:
            names = imported_modules(course.exercises_dir.joinpath(exercise.module).read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            return True
        if any(name.split(".")[0] == "torch" for name in names):
            return True
    return False


def _notes(course: Course, selected: list[ExerciseSpec], options: GradeOptions) -> tuple[str, ...]:
    if options.public_only:
        return ("public tests only: hidden tests also count towards your grade",)
    missing = [e.id for e in selected if e.hidden and not course.has_hidden_suites(e)]
    if missing:
        return (f"hidden suites not available here ({', '.join(missing)}): graded on the public tests only",)
    return ()
