"""The `grader` command, driven as a user would (typer's CliRunner, and once as a real process)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from support import ROOT
from typer.testing import CliRunner

from grader.cli.app import app
from grader.cli.common import ExitCode
from grader.course.manifest import load_course

runner = CliRunner()


def _grade(*args: str):
    return runner.invoke(app, ["grade", "conv", "--course", str(ROOT), *args])


def test_json_report_is_gradescope_results_with_exercises(tmp_path):
    output = tmp_path / "results.json"
    result = _grade("--submission", str(ROOT / "reference"), "--format", "json", "--output", str(output))
    assert result.exit_code == ExitCode.OK, result.output
    report = json.loads(output.read_text())
    assert report["score"] == report["max_score"] == 20
    assert {"name", "score", "max_score", "status", "visibility", "output"} <= set(report["tests"][0])
    assert {t["visibility"] for t in report["tests"]} == {"visible", "after_due_date"}
    assert report["exercises"] == [
        {**report["exercises"][0], "id": "conv", "score": 20, "max_score": 20, "status": "passed"}
    ]


def test_fresh_stubs_show_not_implemented_and_exit_zero():
    result = _grade()
    assert result.exit_code == ExitCode.OK
    assert "not implemented yet" in result.output and "0/20" in result.output


def test_fail_under_exits_one_below_the_threshold():
    assert _grade("--fail-under", "50").exit_code == ExitCode.BELOW_THRESHOLD


def test_public_only_says_hidden_tests_exist(tmp_path):
    result = _grade("--public-only", "--submission", str(ROOT / "reference"))
    assert result.exit_code == ExitCode.OK
    assert "8/8" in result.output
    assert "hidden tests worth 12 more points were not run" in result.output
    assert "public tests only" in result.output


def test_unknown_exercise_is_a_usage_error_that_suggests_the_closest_name_and_lists_all_in_order():
    result = runner.invoke(app, ["grade", "convv", "--course", str(ROOT)])
    assert result.exit_code == ExitCode.USAGE and "unknown exercise convv; did you mean conv?" in result.output
    course = load_course(ROOT)
    listed = result.output.split("in the course's order: ")[1].split()
    assert [name.rstrip(",") for name in listed] == [e.id for e in (*course.exercises, *course.quizzes)]
    assert "did you mean" not in runner.invoke(app, ["grade", "xyzzy", "--course", str(ROOT)]).output


def test_grader_finds_course_toml_in_a_folder_above_as_git_finds_dot_git(monkeypatch):
    """Run from exercises/: the course is the nearest course.toml above, and so is the submission."""
    monkeypatch.chdir(ROOT / "exercises")
    result = runner.invoke(app, ["grade", "conv"])
    assert result.exit_code == ExitCode.OK, result.output
    assert "not implemented yet" in result.output


def test_broken_course_exits_three_and_names_the_key(tmp_path):
    (tmp_path / "course.toml").write_text('[course]\nname = "x"\ntutorial = "t.txt"\nnmae = 3\n')
    result = runner.invoke(app, ["grade", "--course", str(tmp_path)])
    assert result.exit_code == ExitCode.BROKEN_COURSE
    assert "course.nmae" in result.output and "course.toml:4" in result.output


def test_stubs_check_reports_a_stale_stub(tmp_path):
    for name in ("course.toml", "docs", "reference", "exercises", "tests"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, tmp_path / name)
    assert runner.invoke(app, ["stubs", "--check", "--course", str(tmp_path)]).exit_code == ExitCode.OK
    (tmp_path / "exercises/conv.py").write_text("# edited by hand\n")
    result = runner.invoke(app, ["stubs", "--check", "--course", str(tmp_path)])
    assert result.exit_code == 1 and "stale exercises/conv.py" in result.output
    assert runner.invoke(app, ["stubs", "--course", str(tmp_path)]).exit_code == ExitCode.OK
    assert (tmp_path / "exercises/conv.py").read_text() == (ROOT / "exercises/conv.py").read_text()


def test_python_dash_m_grader_runs_the_same_command():
    completed = subprocess.run(
        [sys.executable, "-m", "grader", "grade", "conv", "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["score"] == 0
