"""`grader import`: results.json files graded on Gradescope or in CI become gradebook entries like any other."""

from __future__ import annotations

import dataclasses
import json

import pytest
from class_corpus import make_exercise, make_report

from grader import score
from grader.classes import imports as importing
from grader.classes.gradebook import Gradebook
from grader.classes.imports import Found, find_results, import_results, report_from_results
from grader.classes.submissions import Student
from grader.reports import json_report
from grader.results import Lateness


@pytest.fixture
def report():
    conv = make_exercise(
        "conv",
        [
            ("a 3x3 input by hand", "public", 2, "passed", None),
            ("stride 2 on a 5x5 input", "hidden", 3, "failed", "mismatch"),
            ("grader trouble", "hidden", 1, "error", "grader"),
            ("explain your padding", "public", 2, "pending", "manual"),
        ],
        problem="note: something the instructor should know",
        title="2D convolution, forward pass",
    )
    stub = make_exercise("shapes", [("conv output size", "public", 4, "failed", "not_implemented")])
    return make_report([conv, stub])


def _write(path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if isinstance(data, dict) else data)


def test_our_results_json_imports_back_to_the_same_scores_and_feedback(course, report):
    back = report_from_results(course, json.loads(json_report.render(report)), source="results.json")
    assert [e.id for e in back.exercises] == ["conv", "shapes"]
    for before, after in zip(report.exercises, back.exercises):
        assert (score.exercise_score(after), score.exercise_max_score(after), score.exercise_status(after)) == (
            score.exercise_score(before),
            score.exercise_max_score(before),
            score.exercise_status(before),
        )
        assert after.problem == before.problem and after.points == course.exercise(before.id).points
        graded = lambda t: (t.test_id, t.name, t.kind, t.points, t.outcome, t.reason, t.message, t.hint)  # noqa: E731
        assert [graded(t) for t in after.tests if t.outcome != "pending"] == [
            graded(t) for t in before.tests if t.outcome != "pending"
        ]
        pending = lambda t: (t.name, t.points, t.outcome, t.message)  # noqa: E731 - the JSON keeps no more of them
        assert [pending(t) for t in after.tests if t.outcome == "pending"] == [
            pending(t) for t in before.tests if t.outcome == "pending"
        ]
    assert back.exercises[0].title == course.exercise("conv").title


def test_the_gradescope_autograders_results_json_imports_the_same(course, report):
    """On Gradescope, our own keys travel in the top-level extra_data, beside Gradescope's."""
    tampered = dataclasses.replace(report, tampered=(".github/workflows/classroom.yml",))
    ours = json.loads(json_report.render(tampered))
    moved = {k: ours.pop(k) for k in ("max_score", "exercises", "pending", "notes", "tampered")}
    back = report_from_results(course, ours | {"extra_data": moved}, source="results.json")
    direct = report_from_results(course, json.loads(json_report.render(tampered)), source="results.json")
    assert back == direct and back.tampered == (".github/workflows/classroom.yml",)


def test_a_plain_gradescope_results_json_imports_too(course):
    data = {
        "score": 3,
        "tests": [
            {"name": "conv: by hand", "score": 2, "max_score": 2, "visibility": "visible"},
            {
                "name": "conv: stride",
                "score": 0,
                "max_score": 3,
                "status": "failed",
                "visibility": "after_due_date",
                "output": "expected 3x3\nhint: reread strides",
            },
            {"name": "style check", "score": 1, "max_score": 1},
        ],
    }
    back = report_from_results(course, data, source="r.json")
    conv, other = back.exercises
    assert (conv.id, other.id, [t.name for t in other.tests]) == ("conv", "autograder", ["style check"])
    assert [(t.name, t.kind, t.outcome) for t in conv.tests] == [
        ("by hand", "public", "passed"),
        ("stride", "hidden", "failed"),
    ]
    assert conv.tests[1].message == ("expected 3x3",) and conv.tests[1].hint == "reread strides"
    assert score.total_score(back) == 3


def test_results_files_are_found_with_their_students(tmp_path):
    _write(tmp_path / "runs" / "ada" / "results.json", {})
    _write(tmp_path / "runs" / "ben" / "artifact" / "results.json", {})
    _write(tmp_path / "single" / "cy.json", {})
    found = find_results([tmp_path / "runs", tmp_path / "single" / "cy.json"])
    assert [(f.student.id, f.path.relative_to(tmp_path).as_posix()) for f in found] == [
        ("ada", "runs/ada/results.json"),
        ("ben", "runs/ben/artifact/results.json"),
        ("cy", "single/cy.json"),
    ]
    [named] = find_results([tmp_path / "runs" / "ada" / "results.json"], student="ada.l")
    assert named.student.id == "ada.l"


def test_a_gradescope_export_names_the_submitters(tmp_path):
    export = tmp_path / "export"
    _write(export / "submission_7" / "results.json", {})
    _write(export / "submission_metadata.yml", "submission_7:\n  :submitters:\n  - :name: Ada L\n    :sid: '7007'\n")
    [found] = find_results([export])
    assert found.student == Student("7007", "Ada L", "")


def test_importing_stores_reports_and_skips_files_already_imported(tmp_path, course, report):
    path = tmp_path / "ada" / "results.json"
    _write(path, json_report.render(report))
    _write(tmp_path / "bad" / "results.json", "{ not json")
    with Gradebook(f"sqlite:///{tmp_path / 'gb.db'}") as gradebook:
        found = find_results([tmp_path])
        first = import_results(course, found, gradebook)
        assert [(i.found.student.id, i.status.split(":")[0], i.assignment) for i in first] == [
            ("ada", "imported", ""),
            ("bad", "not a results file", None),
        ]
        assert import_results(course, found, gradebook)[0].status == "unchanged"
        [stored] = gradebook.latest()
        assert (stored.origin, stored.student.id) == ("import", "ada")
        assert score.total_score(stored.report) == score.total_score(report)
        _write(path, json_report.render(make_report([make_exercise("conv", [("t", "public", 20, "passed", None)])])))
        assert import_results(course, [Found(Student("ada"), path)], gradebook)[0].status == "imported"
        assert [score.total_score(r.report) for r in gradebook.history("ada")] == [2, 20]


def test_a_missing_path_is_an_error(tmp_path):
    with pytest.raises(importing.ResultsError, match="no such file or folder"):
        find_results([tmp_path / "nowhere.json"])


def test_the_late_penalty_survives_the_round_trip(course, report):
    late = dataclasses.replace(
        report,
        lateness=Lateness(
            assignment="a1",
            due="2026-12-11T23:59:00+00:00",
            submitted_at="2026-12-14T08:00:00+00:00",
            policy="penalty",
            penalty_per_day=15,
        ),
    )
    back = report_from_results(course, json.loads(json_report.render(late)), source="results.json")
    assert back.lateness == late.lateness
    assert score.total_score(back) == score.total_score(late) and score.late_penalty_percent(back) == 45


def test_results_of_an_assignment_are_filed_under_it(tmp_path, course, report):
    late = dataclasses.replace(
        report,
        lateness=Lateness(
            assignment="a1",
            due="2026-12-11T23:59:00+00:00",
            submitted_at="2026-12-10T08:00:00+00:00",
            policy="penalty",
            penalty_per_day=10,
        ),
    )
    _write(tmp_path / "runs" / "ada" / "results.json", json_report.render(late))
    _write(tmp_path / "free" / "ada" / "results.json", json_report.render(report))
    with Gradebook(f"sqlite:///{tmp_path / 'gb.db'}") as gradebook:
        done = import_results(course, find_results([tmp_path / "runs", tmp_path / "free"]), gradebook)
        assert [(i.status, i.assignment) for i in done] == [("imported", "a1"), ("imported", "")]
        assert [r.assignment for r in gradebook.latest("a1")] == ["a1"]
        assert [r.report.lateness for r in gradebook.latest()] == [None]
