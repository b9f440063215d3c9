"""GitHub Actions autograding in the classroom style: the release's workflow, and its job summary.

One grading step per exercise grades it once, saves the whole report
(`--format json`), renders the runner JSON from it (`grader render --format
classroom`, `grader.reports.classroom`) and sets the step's `result` output to
its base64; the reporter step reads each as `<STEP_ID>_RESULTS`. The job
summary is rendered from the same runner files, so the run's page and the
reporter always agree. Last, the saved reports are merged into the artifact
`grader import` reads, with hidden feedback as hidden_visibility allows.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from pathlib import Path

from grader.manifest import Course
from grader.publish.files import engine_pyproject, template

WORKFLOW_PATH = ".github/workflows/classroom.yml"
RESULTS_DIR = ".grader-results"
REPORTS_DIR = "reports"       #: under RESULTS_DIR: each exercise's whole report, merged for `grader import`
GRADEBOOK_RESULTS = "gradebook/results.json"   #: under RESULTS_DIR: the artifact `grader import` reads
INSTALL_MINUTES = 20          #: generous: setting up Python and the CPU build of torch takes 2-5 minutes

_STEP = """
      - name: {name}
        id: {id}
        env:
          GRADER_BUNDLE_KEY: ${{{{ secrets.GRADER_BUNDLE_KEY }}}}
        run: |
          python -m grader grade {id} --format json --output {results}/{reports}/{id}.json
          python -m grader render {results}/{reports}/{id}.json --format classroom --output {results}/{id}.json
          echo "result=$(base64 -w 0 {results}/{id}.json)" >> "$GITHUB_OUTPUT"
"""


def workflow(course: Course) -> str:
    """The workflow file of a release: one grading step per exercise and per quiz."""
    graded = [(e.id, e.title) for e in course.exercises] + [(q.id, q.title) for q in course.quizzes]
    steps = "".join(_STEP.format(name=json.dumps(f"{i}: {title}"), id=i, results=RESULTS_DIR, reports=REPORTS_DIR)
                    for i, title in graded)
    reporter_env = "\n".join(f'          {runner_variable(i)}: "${{{{ steps.{i}.outputs.result }}}}"'
                             for i, _ in graded)
    minutes = INSTALL_MINUTES + math.ceil(len(course.exercises) * course.grading.exercise_timeout / 60)
    return template("classroom.yml", course=course.info.name, timeout=str(minutes), torch=torch_requirement(),
                    results=RESULTS_DIR, reports=f"{RESULTS_DIR}/{REPORTS_DIR}",
                    gradebook_results=f"{RESULTS_DIR}/{GRADEBOOK_RESULTS}", steps=steps, reporter_env=reporter_env,
                    runners=",".join(i for i, _ in graded))


def runner_variable(step_id: str) -> str:
    """The variable the reporter reads a runner's result from (its `${runner.trim().toUpperCase()}_RESULTS`)."""
    return f"{step_id.strip().upper()}_RESULTS"


def torch_requirement() -> str:
    """The engine's own torch requirement, so CI installs what the release was tested with."""
    dependencies = tomllib.loads(engine_pyproject().read_text("utf-8"))["project"]["dependencies"]
    return next((d for d in dependencies if re.match(r"torch\b", d)), "torch")


def summary(folder: Path) -> str:
    """A Markdown table of the runner results saved in `folder` (one `<exercise>.json` each)."""
    runners = {path.stem: json.loads(path.read_text("utf-8")) for path in sorted(folder.glob("*.json"))}
    if not runners:
        return "## Autograding\n\nNo results: the grading steps did not run (see the failed step above).\n"
    lines = ["## Autograding", "", "| exercise | points | status |", "| --- | ---: | --- |"]
    total = most = 0.0
    for name, result in runners.items():
        points = sum(t.get("score", 0) for t in result["tests"])
        total, most = total + points, most + result.get("max_score", 0)
        lines.append(f"| {name} | {points:g} / {result.get('max_score', 0):g} | {result['status']} |")
    lines.append(f"| **total** | **{total:g} / {most:g}** | |")
    notes = sorted({line for result in runners.values() for line in (result.get("message") or "").splitlines()})
    lines += ([""] + [f"> {note}" for note in notes]) if notes else []
    failing = [(name, t) for name, result in runners.items() for t in result["tests"] if t["status"] != "pass"]
    if failing:
        lines += ["", "<details><summary>Failing tests</summary>", ""]
        lines += [f"- **{t['name']}** ({t['status']}): {_first_line(t.get('message'))}" for _, t in failing]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def _first_line(message: str | None) -> str:
    line = (message or "").strip().splitlines()[:1]
    return line[0].replace("|", "\\|") if line else ""
