"""The student release's GitHub Actions workflow (formative, provisional), and its job summary.

One grading step grades every exercise and formative quiz once with the public
suites (`grader grade --public-only ID ... --format json`), and saves the report;
the runner JSON GitHub Classroom's autograding reporter reads is rendered from
it (`grader render --format classroom`, `grader.reports.classroom`) as one
runner, `grader`, and so is the job summary: the run's page and the reporter
always agree. The workflow holds no secret: there is nothing in the release a
secret would open. Summative quizzes are left out: their answers are graded by
the instructor.
"""

from __future__ import annotations

import math
import re
import tomllib

from grader import score
from grader.course.manifest import Course
from grader.publish.files import engine_pyproject, template
from grader.results import GradeReport

WORKFLOW_PATH = ".github/workflows/classroom.yml"
RESULTS_DIR = ".grader-results"
REPORT = "report.json"  #: under RESULTS_DIR: the whole report the runner result and summary come from
RUNNER = "grader"  #: the one runner the reporter reads, from `GRADER_RESULTS`
INSTALL_MINUTES = 20  #: generous: setting up Python and the CPU build of torch takes 2-5 minutes


def graded_ids(course: Course) -> list[str]:
    """What the release's workflow grades: every exercise, and the formative quizzes."""
    return [e.id for e in course.exercises] + [q.id for q in course.quizzes if q.mode == "formative"]


def workflow(course: Course) -> str:
    """The workflow file of a release."""
    minutes = INSTALL_MINUTES + math.ceil(len(course.exercises) * course.grading.exercise_timeout / 60)
    return template(
        "classroom.yml",
        course=course.info.name,
        timeout=str(minutes),
        torch=torch_requirement(),
        ids=" ".join(graded_ids(course)),
        results=RESULTS_DIR,
        report=f"{RESULTS_DIR}/{REPORT}",
        runner=RUNNER,
        runner_variable=runner_variable(RUNNER),
    )


def runner_variable(step_id: str) -> str:
    """The variable the reporter reads a runner's result from (its `${runner.trim().toUpperCase()}_RESULTS`)."""
    return f"{step_id.strip().upper()}_RESULTS"


def torch_requirement() -> str:
    """The engine's own torch requirement, so CI installs what the release was tested with."""
    dependencies = tomllib.loads(engine_pyproject().read_text("utf-8"))["project"]["dependencies"]
    return next((d for d in dependencies if re.match(r"torch\b", d)), "torch")


def summary(report: GradeReport | None) -> str:
    """A Markdown table of a saved report, for the job summary (None: grading did not run)."""
    if report is None:
        return "## Autograding\n\nNo results: the grading step did not run (see the failed step above).\n"
    lines = [
        "## Autograding (provisional)",
        "",
        "| exercise | points | hidden tests not run | status |",
        "| --- | ---: | ---: | --- |",
    ]
    for exercise in report.exercises:
        lines.append(
            f"| {exercise.id} | {score.exercise_score(exercise):g} / {score.exercise_max_score(exercise):g} "
            f"| {exercise.hidden_points_not_run:g} | {score.exercise_status(exercise)} |"
        )
    lines.append(f"| **total** | **{score.total_score(report):g} / {score.total_max_score(report):g}** | | |")
    lines += [""] + [f"> {note}" for note in report.notes]
    failing = [t for e in report.exercises for t in e.tests if score.is_graded_here(t) and not t.passed]
    if failing:
        lines += ["", "<details><summary>Failing tests</summary>", ""]
        lines += [f"- **{t.exercise}: {t.name}**: {_first_line(t.message)}" for t in failing]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def _first_line(message: tuple[str, ...]) -> str:
    return message[0].strip().replace("|", "\\|") if message else ""
