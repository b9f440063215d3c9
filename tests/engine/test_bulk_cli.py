"""`grader grade-all`, `grader import`, `grader export` from the command line, the first on the real engine."""

from __future__ import annotations

import csv
import json
import time

import pytest
from class_corpus import make_exercise, make_report, mixed_class, quick_course
from support import ROOT
from typer.testing import CliRunner

from grader import score
from grader.classes.gradebook import Gradebook
from grader.cli.app import app
from grader.cli.common import ExitCode
from grader.reports import json_report

runner = CliRunner()
EXERCISE_LIMIT = 30.0  # generous for the correct and buggy ones on a loaded machine; the hang costs it all


def test_grade_all_grades_a_mixed_class_in_parallel_and_once(tmp_path):
    """A correct, a buggy, a hanging and a corrupt submission, graded on conv with the real engine."""
    course = quick_course(tmp_path / "course", test_timeout=10.0, exercise_timeout=EXERCISE_LIMIT)
    kinds = mixed_class(tmp_path / "class")
    (tmp_path / "class" / "eve.zip").write_bytes(b"this is no zip")
    command = [
        "grade-all",
        str(tmp_path / "class"),
        "-e",
        "conv",
        "-j",
        "2",
        "-o",
        str(tmp_path / "grades"),
        "--course",
        str(course.root),
    ]
    started = time.monotonic()
    first = runner.invoke(app, command)
    wall = time.monotonic() - started
    assert first.exit_code == ExitCode.OK, first.output
    assert "3 graded, 0 unchanged (skipped), 1 could not be graded" in first.output
    assert "eve: eve.zip is not a readable zip" in first.output

    with Gradebook(f"sqlite:///{tmp_path / 'grades' / 'gradebook.db'}") as gradebook:
        records = {r.student.id: r for r in gradebook.latest()}
    scores = {s: score.total_score(r.report) for s, r in records.items() if r.report}
    failed = {
        s: [(t.name, t.reason) for t in r.report.exercises[0].tests if not t.passed]
        for s, r in records.items()
        if r.report
    }
    assert scores["ada"] == 20, f"the correct submission lost points: {failed['ada']}"
    assert 0 < scores["ben"] < 20 and scores["dee"] == 0, (scores, failed)
    assert "time limit" in (records["dee"].report.exercises[0].problem or "")
    # The hanging submission cost its own time limit, and the others were graded meanwhile.
    assert records["dee"].duration < EXERCISE_LIMIT + 10
    durations = sum(records[s].duration for s in kinds)
    assert wall < 0.85 * durations + 5, (wall, {s: records[s].duration for s in kinds})

    again = runner.invoke(app, command)
    assert again.exit_code == ExitCode.OK, again.output
    assert "0 graded, 3 unchanged (skipped), 1 could not be graded" in again.output

    rows = {row["student"]: row for row in csv.DictReader((tmp_path / "grades" / "scores.csv").open())}
    assert (rows["ada"]["conv"], rows["dee"]["conv"], rows["eve"]["status"]) == ("20", "0", "broken")
    assert "time limit" in (tmp_path / "grades" / "students" / "dee.html").read_text()
    summary = (tmp_path / "grades" / "summary.html").read_text()
    assert "4 students, 3 graded, 1 could not be graded" in summary


def _results(tmp_path, student: str, passed: bool):
    conv = make_exercise(
        "conv", [("by hand", "public", 20, "passed" if passed else "failed", None if passed else "mismatch")]
    )
    path = tmp_path / "runs" / student / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json_report.render(make_report([conv])))
    return path


@pytest.mark.filterwarnings("ignore:Object of type <Submitted:sqlalchemy.exc.SAWarning")
def test_import_then_export_to_nbgrader(tmp_path):
    _results(tmp_path, "ada", True)
    _results(tmp_path, "ben", False)
    out = tmp_path / "grades"
    imported = runner.invoke(app, ["import", str(tmp_path / "runs"), "-o", str(out), "--course", str(ROOT)])
    assert imported.exit_code == ExitCode.OK, imported.output
    assert "ada: imported" in imported.output and "ben: imported" in imported.output
    assert json.loads((out / "students" / "ada.json").read_text())["score"] == 20
    pytest.importorskip("nbgrader.api", reason="nbgrader is optional: pip install nbgrader")
    nbgrader_url = f"sqlite:///{tmp_path / 'nbgrader.db'}"
    exported = runner.invoke(
        app,
        ["export", "-o", str(out), "--nbgrader", nbgrader_url, "--nbgrader-assignment", "cnn1", "--course", str(ROOT)],
    )
    assert exported.exit_code == ExitCode.OK, exported.output
    assert "nbgrader: 2 students' scores in" in exported.output


def test_a_server_gradebook_is_chosen_by_url_and_a_bad_one_is_a_usage_error(tmp_path):
    _results(tmp_path, "ada", True)
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    done = runner.invoke(
        app,
        ["import", str(tmp_path / "runs"), "-o", str(tmp_path / "g"), "--course", str(ROOT)],
        env={"GRADER_GRADEBOOK": url},
    )
    assert done.exit_code == ExitCode.OK and (tmp_path / "elsewhere.db").exists()
    assert not (tmp_path / "g" / "gradebook.db").exists()
    bad = runner.invoke(
        app,
        ["export", "-o", str(tmp_path / "g"), "--gradebook", "nosuchdb://user:secret@host/x", "--course", str(ROOT)],
    )
    assert bad.exit_code == ExitCode.USAGE and "cannot open the gradebook" in bad.output
    assert "secret" not in bad.output


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["-e", "nosuch"], "unknown exercise nosuch"),
        (["--assignment", "nosuch"], "unknown assignment nosuch"),
        ([], "no submissions in"),
    ],
)
def test_grade_all_refuses_bad_usage(tmp_path, arguments, message):
    (tmp_path / "class").mkdir()
    result = runner.invoke(
        app, ["grade-all", str(tmp_path / "class"), *arguments, "-o", str(tmp_path / "g"), "--course", str(ROOT)]
    )
    assert result.exit_code == ExitCode.USAGE and message in result.output


def test_grade_all_on_a_missing_folder_is_a_usage_error(tmp_path):
    result = runner.invoke(app, ["grade-all", str(tmp_path / "nope"), "--course", str(ROOT)])
    assert result.exit_code == ExitCode.USAGE and "is not a folder" in result.output


def test_an_assignment_chooses_the_exercises_itself(tmp_path, course):
    if not course.assignments:
        pytest.skip("the course has no assignment")
    (tmp_path / "class" / "ada").mkdir(parents=True)
    result = runner.invoke(
        app,
        [
            "grade-all",
            str(tmp_path / "class"),
            "--assignment",
            course.assignments[0].id,
            "-e",
            "conv",
            "-o",
            str(tmp_path / "g"),
            "--course",
            str(ROOT),
        ],
    )
    assert result.exit_code == ExitCode.USAGE and "leave out --exercise" in result.output
