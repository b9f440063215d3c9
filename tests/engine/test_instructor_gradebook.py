"""The instructor's gradebook over a term: runs that merge, manual points, a roster, Canvas, targeted regrades.

The engine's `grade` is replaced by a stand-in (as in test_bulk.py), so these run in seconds;
the manual item is design's real DESIGN_NOTES test, whose text `grader review` reads from the
submission in full.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import pytest
from class_corpus import make_exercise, make_report, student
from support import ROOT
from typer.testing import CliRunner

from grader.classes import bulk, exports
from grader.classes.bulk import BulkOptions, grade_all
from grader.classes.gradebook import Gradebook, ManualGrade
from grader.classes.submissions import discover
from grader.cli.app import app
from grader.cli.common import ExitCode
from grader.results import Lateness

NOTES_ID = "tests/public/test_design.py::test_design_notes_justify_the_choices"
NOTES = "I use a 3x3 stem at stride 2.\n\nThen global average pooling, so the classifier stays small."


class Engine:
    """Grades whatever exercises it is asked for: conv and lenet pass or fail by a marker in the file,
    design has 20 rubric points and the 5-point DESIGN_NOTES item left to the instructor."""

    def __init__(self):
        self.calls: list[str] = []
        self.timeout_for: set[str] = set()

    def __call__(self, course, folder, options):
        who, kind = (folder / "who.txt").read_text().split()
        self.calls.append(who)
        passed = kind == "correct"
        exercises = []
        for exercise in options.exercises or ("conv", "lenet", "design"):
            if exercise == "design":
                exercises.append(
                    make_exercise(
                        "design",
                        [
                            ("rubric", "public", 20, "passed", None),
                            ("DESIGN_NOTES justifies each design choice", "public", 5, "pending", "manual"),
                        ],
                    )
                )
                exercises[-1] = _with_test_id(exercises[-1], "DESIGN_NOTES justifies each design choice", NOTES_ID)
            else:
                timed_out = who in self.timeout_for
                outcome = "passed" if passed and not timed_out else "failed"
                reason = None if outcome == "passed" else ("timeout" if timed_out else "mismatch")
                exercises.append(make_exercise(exercise, [("by hand", "public", 15, outcome, reason)]))
        return make_report(exercises)


def _with_test_id(exercise, name, test_id):
    tests = tuple(dataclasses.replace(t, test_id=test_id) if t.name == name else t for t in exercise.tests)
    return dataclasses.replace(exercise, tests=tests)


@pytest.fixture
def engine(monkeypatch):
    fake = Engine()
    monkeypatch.setattr(bulk, "grade", fake)
    return fake


@pytest.fixture
def gradebook(tmp_path):
    (tmp_path / "grades").mkdir()
    with Gradebook(f"sqlite:///{tmp_path / 'grades' / 'gradebook.db'}") as book:
        yield book


def _class(folder, names: dict[str, str]):
    """A folder per student with who.txt (name and 'correct' or 'buggy') and a design.py with DESIGN_NOTES."""
    for name, kind in names.items():
        home = student(folder, name, f"{name} {kind}\n", module="who.txt")
        (home / "design.py").write_text(f'"""{name}\'s design."""\n\nDESIGN_NOTES = """{NOTES}"""\n')
    (folder.parent / "grades").mkdir(exist_ok=True)
    return discover(folder)


def _scores(record) -> dict[str, float]:
    from grader import score

    return {e.id: score.exercise_score(e) for e in record.report.exercises}


# -- runs merge in the gradebook ----------------------------------------------------------------------------


def test_separate_runs_of_different_exercises_merge_into_one_row(tmp_path, course, gradebook, engine):
    found = _class(tmp_path / "class", {"ada": "correct"})
    grade_all(course, found, gradebook, BulkOptions(exercises=("conv",)))
    grade_all(course, found, gradebook, BulkOptions(exercises=("lenet",)))
    [record] = gradebook.latest()
    assert _scores(record) == {"lenet": 15, "conv": 15}
    rows = list(csv.DictReader(io.StringIO(exports.scores_csv(course, [record]))))
    assert (rows[0]["conv"], rows[0]["lenet"], rows[0]["total"]) == ("15", "15", "30")
    assert len(gradebook.history("ada")) == 2, "both runs stay in the history"


def test_the_newest_result_of_an_item_wins_and_an_unchanged_item_is_not_graded_again(
    tmp_path, course, gradebook, engine
):
    found = _class(tmp_path / "class", {"ada": "buggy"})
    grade_all(course, found, gradebook, BulkOptions(exercises=("conv",)))
    grade_all(course, found, gradebook, BulkOptions(exercises=("lenet",)))
    again = grade_all(course, found, gradebook, BulkOptions(exercises=("conv",)))
    assert [o.status for o in again] == ["unchanged"], "conv of these files is still the newest conv result"
    (tmp_path / "class" / "ada" / "who.txt").write_text("ada correct\n")
    grade_all(course, found, gradebook, BulkOptions(exercises=("conv",)))
    assert _scores(gradebook.latest()[0]) == {"conv": 15, "lenet": 0}


def test_a_latest_submission_that_broke_stays_visible(tmp_path, course, gradebook, engine):
    found = _class(tmp_path / "class", {"ada": "correct"})
    grade_all(course, found, gradebook, BulkOptions(exercises=("conv",)))
    (tmp_path / "class" / "ada" / "who.txt").unlink()  # the stand-in engine now fails on it
    grade_all(course, found, gradebook, BulkOptions(exercises=("lenet",)))
    [record] = gradebook.latest()
    assert record.status == "broken" and record.report is None


# -- targeted regrades -------------------------------------------------------------------------------------


def test_student_regrades_only_the_students_named_even_if_unchanged(tmp_path, course, gradebook, engine):
    found = _class(tmp_path / "class", {"ada": "correct", "ben": "buggy", "cy": "correct"})
    grade_all(course, found, gradebook, BulkOptions(exercises=("conv",)))
    outcomes = grade_all(course, found, gradebook, BulkOptions(exercises=("conv",), students=("ben",)))
    assert [(o.submission.student.id, o.status) for o in outcomes] == [("ben", "graded")]
    assert len(gradebook.history("ben")) == 2 and len(gradebook.history("ada")) == 1


def test_only_failed_regrades_time_outs_and_broken_submissions_and_keeps_the_history(
    tmp_path, course, gradebook, engine
):
    found = _class(tmp_path / "class", {"ada": "correct", "ben": "buggy", "cy": "correct", "dee": "correct"})
    engine.timeout_for = {"cy"}
    (tmp_path / "class" / "dee" / "who.txt").unlink()  # breaks the grader
    grade_all(course, found, gradebook, BulkOptions(exercises=("conv",)))
    engine.timeout_for = set()
    (tmp_path / "class" / "dee" / "who.txt").write_text("dee correct\n")
    engine.calls.clear()
    outcomes = grade_all(course, found, gradebook, BulkOptions(exercises=("conv",), only_failed=True))
    assert sorted(o.submission.student.id for o in outcomes) == ["cy", "dee"], "ben's wrong answer is not a failure"
    assert sorted(engine.calls) == ["cy", "dee"]
    assert [r.status for r in gradebook.history("cy")] == ["graded", "graded"]
    assert {r.student.id: _scores(r)["conv"] for r in gradebook.latest()} == {"ada": 15, "ben": 0, "cy": 15, "dee": 15}


def test_the_command_refuses_a_student_with_no_submission(tmp_path, engine):
    _class(tmp_path / "class", {"ada": "correct"})
    result = CliRunner().invoke(
        app,
        [
            "grade-all",
            str(tmp_path / "class"),
            "-e",
            "conv",
            "--student",
            "zed",
            "-o",
            str(tmp_path / "grades"),
            "--course",
            str(ROOT / "course.toml"),
        ],
    )
    assert result.exit_code == ExitCode.USAGE
    assert "no submission of zed" in result.output


# -- manual points -----------------------------------------------------------------------------------------


def test_manual_points_count_keep_who_and_when_and_survive_a_regrade(tmp_path, course, gradebook, engine):
    found = _class(tmp_path / "class", {"ada": "correct"})
    grade_all(course, found, gradebook, BulkOptions(exercises=("design",)))
    assert _scores(gradebook.latest()[0]) == {"design": 20}, "pending: neither given nor withheld"
    gradebook.grade_manually(ManualGrade("ada", "design", NOTES_ID, 2, "Say why stride 2.", grader="prof"))
    gradebook.grade_manually(ManualGrade("ada", "design", NOTES_ID, 4, "Clear reasons.", grader="ta"))
    grade_all(course, found, gradebook, BulkOptions(exercises=("design",), force=True))
    [record] = gradebook.latest()
    assert _scores(record) == {"design": 24}
    notes = next(t for t in record.report.exercises[0].tests if t.test_id == NOTES_ID)
    assert (notes.awarded, notes.outcome, notes.message[0]) == (4, "failed", "Clear reasons.")
    assert notes.message[-1].startswith("graded by ta on ")
    assert [(g.points, g.grader) for g in gradebook.manual_grades("ada", history=True)] == [(2, "prof"), (4, "ta")]
    assert record.manual[0].graded_at is not None


def test_review_shows_the_design_notes_in_full_and_records_points_from_the_command_line(tmp_path, course, engine):
    found = _class(tmp_path / "class", {"ada": "correct", "ben": "correct"})
    with Gradebook(f"sqlite:///{tmp_path / 'grades' / 'gradebook.db'}") as book:
        grade_all(course, found, book, BulkOptions(exercises=("design",)))
    common = ["-o", str(tmp_path / "grades"), "--course", str(ROOT / "course.toml")]
    listed = CliRunner().invoke(app, ["review", "design", "--list", *common])
    assert listed.exit_code == 0, listed.output
    assert NOTES.split("\n\n")[1] in listed.output and listed.output.count("DESIGN_NOTES:") == 2

    given = CliRunner().invoke(
        app,
        [
            "review",
            "design",
            "--student",
            "ada",
            "--item",
            "design_notes",
            "--points",
            "3",
            "--comment",
            "Justify the stem.",
            "--grader",
            "prof",
            *common,
        ],
    )
    assert given.exit_code == 0, given.output
    rows = {r["student"]: r for r in csv.DictReader((tmp_path / "grades" / "scores.csv").open())}
    assert (rows["ada"]["design"], rows["ben"]["design"]) == ("23", "20")
    page = (tmp_path / "grades" / "students" / "ada.html").read_text()
    assert "Justify the stem." in page and "3 / 5" in page and "graded by prof" in page
    data = json.loads((tmp_path / "grades" / "students" / "ada.json").read_text())
    assert data["manual"][0]["points"] == 3 and data["manual"][0]["grader"] == "prof"

    too_many = CliRunner().invoke(
        app, ["review", "design", "--student", "ada", "--item", "design_notes", "--points", "6", *common]
    )
    assert too_many.exit_code == ExitCode.USAGE and "between 0 and 5" in too_many.output


def test_review_asks_for_points_and_a_comment(tmp_path, course, engine):
    found = _class(tmp_path / "class", {"ada": "correct"})
    with Gradebook(f"sqlite:///{tmp_path / 'grades' / 'gradebook.db'}") as book:
        grade_all(course, found, book, BulkOptions(exercises=("design",)))
    result = CliRunner().invoke(
        app,
        ["review", "design", "--grader", "ta", "-o", str(tmp_path / "grades"), "--course", str(ROOT / "course.toml")],
        input="5\nExcellent.\n",
    )
    assert result.exit_code == 0, result.output
    with Gradebook(f"sqlite:///{tmp_path / 'grades' / 'gradebook.db'}") as book:
        [grade] = book.manual_grades("ada")
    assert (grade.points, grade.comment, grade.grader) == (5, "Excellent.", "ta")


@pytest.mark.filterwarnings("ignore:Object of type <Submitted:sqlalchemy.exc.SAWarning")
def test_nbgrader_flags_exercises_whose_manual_items_are_not_graded_yet(tmp_path, course, gradebook, engine):
    api = pytest.importorskip("nbgrader.api", reason="nbgrader is optional: pip install nbgrader")
    from grader.classes import nbgrader as nbgrader_export

    found = _class(tmp_path / "class", {"ada": "correct", "ben": "correct"})
    grade_all(course, found, gradebook, BulkOptions(exercises=("design", "conv")))
    gradebook.grade_manually(ManualGrade("ben", "design", NOTES_ID, 5, "", grader="prof"))
    url = f"sqlite:///{tmp_path / 'nbgrader.db'}"
    nbgrader_export.write_scores(course, gradebook.latest(), url, assignment="ps1")
    with api.Gradebook(url) as nb:
        assert nb.find_grade("design", "design", "ps1", "ada").needs_manual_grade
        assert not nb.find_grade("design", "design", "ps1", "ben").needs_manual_grade
        assert nb.find_grade("design", "design", "ps1", "ben").score == 25
        assert not nb.find_grade("conv", "conv", "ps1", "ada").needs_manual_grade


# -- the roster and Canvas ---------------------------------------------------------------------------------

ROSTER = (
    "id,name,email,github,repository,extension_days\n"
    "s001,Ada Lovelace,ada@uni.edu,ada-l,,\n"
    "s002,Ben Ng,ben@uni.edu,,ben-folder,\n"
    "s003,Cy Young,cy@uni.edu,cyoung,,\n"
)


def test_the_roster_names_students_reports_strangers_and_lists_who_handed_in_nothing(tmp_path, engine):
    _class(tmp_path / "class", {"cnn-ada-l": "correct", "ben-folder": "buggy", "zed": "correct"})
    (tmp_path / "roster.csv").write_text(ROSTER)
    result = CliRunner().invoke(
        app,
        [
            "grade-all",
            str(tmp_path / "class"),
            "-e",
            "conv",
            "--roster",
            str(tmp_path / "roster.csv"),
            "-o",
            str(tmp_path / "grades"),
            "--course",
            str(ROOT / "course.toml"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "1 submission matches no roster entry" in result.output and "zed (zed)" in result.output
    rows = {r["student"]: r for r in csv.DictReader((tmp_path / "grades" / "scores.csv").open())}
    assert sorted(rows) == ["s001", "s002", "s003", "zed"]
    assert (rows["s001"]["name"], rows["s001"]["email"], rows["s001"]["conv"]) == ("Ada Lovelace", "ada@uni.edu", "15")
    assert (rows["s003"]["status"], rows["s003"]["conv"], rows["s003"]["total"]) == ("missing", "", "")
    assert "no submission" in (tmp_path / "grades" / "summary.md").read_text()


def test_the_canvas_csv_has_canvas_headers_points_possible_and_late_penalties(course):
    from grader.classes.gradebook import Record
    from grader.classes.submissions import Student

    a1 = course.assignments[0]
    lateness = Lateness(a1.id, "2026-12-11T23:59:00+00:00", "2026-12-13T10:00:00+00:00", "penalty", 10)
    report = make_report([make_exercise("conv", [("by hand", "public", 20, "passed", None)])])
    late = Record(
        student=Student("s001", "Ada King Lovelace"),
        status="graded",
        origin="grade-all",
        source="x",
        content_hash="h",
        fingerprint="f",
        duration=1,
        report=dataclasses.replace(report, lateness=lateness),
    )
    missing = Record(
        student=Student("s002", "Ben Ng"),
        status="missing",
        origin="roster",
        source="",
        content_hash="",
        fingerprint="",
        duration=0,
    )
    rows = list(csv.reader(io.StringIO(exports.canvas_csv(course, [late, missing], assignment=a1.id))))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", a1.title]
    from grader.quiz.bank import load_bank

    possible = sum(e.points for e in course.exercises if e.id in a1.items)
    possible += sum(load_bank(course, q).points for q in course.quizzes if q.id in a1.items)
    assert rows[1] == ["Points Possible", "", "", "", "", f"{possible:g}"]
    assert rows[2] == ["Lovelace, Ada King", "", "s001", "", "", "16"], "2 days late at 10% a day: 20 -> 16"
    assert rows[3] == ["Ng, Ben", "", "s002", "", "", ""]
    named = exports.canvas_csv(course, [late], assignment=a1.id, column="A1 (123456)")
    assert named.splitlines()[0].endswith(",A1 (123456)")


def test_two_submissions_of_one_roster_student_are_refused(tmp_path, engine):
    _class(tmp_path / "class", {"ada-l": "correct", "cnn-hw1-ada-l": "buggy"})
    (tmp_path / "roster.csv").write_text(ROSTER)
    result = CliRunner().invoke(
        app,
        [
            "grade-all",
            str(tmp_path / "class"),
            "-e",
            "conv",
            "--roster",
            str(tmp_path / "roster.csv"),
            "-o",
            str(tmp_path / "grades"),
            "--course",
            str(ROOT / "course.toml"),
        ],
    )
    assert result.exit_code == ExitCode.USAGE
    assert "s001: ada-l, cnn-hw1-ada-l" in result.output and engine.calls == []


def test_a_gradebook_from_before_manual_grades_gains_the_table_when_opened(tmp_path):
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'old.db'}"
    with Gradebook(url) as book, book.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE manual_grades"))  # as a gradebook of the previous version
    with Gradebook(url) as book:
        book.grade_manually(ManualGrade("ada", "design", NOTES_ID, 5, "", grader="prof"))
        assert [g.points for g in book.manual_grades("ada")] == [5]


def test_files_put_back_after_another_run_graded_others_are_graded_again(tmp_path, course, gradebook, engine):
    """conv of files A, then lenet of files B, then conv of A again: the newest conv must be of A, so it is graded."""
    found = _class(tmp_path / "class", {"ada": "correct"})
    grade_all(course, found, gradebook, BulkOptions(exercises=("conv",)))
    (tmp_path / "class" / "ada" / "who.txt").write_text("ada buggy\n")
    grade_all(course, found, gradebook, BulkOptions(exercises=("lenet",)))
    (tmp_path / "class" / "ada" / "who.txt").write_text("ada correct\n")
    again = grade_all(course, found, gradebook, BulkOptions(exercises=("conv",)))
    assert [o.status for o in again] == ["graded"]


def test_a_roster_extension_moves_the_students_due_date_in_the_exports(tmp_path, course):
    from grader.classes.gradebook import Record
    from grader.classes.roster import load_roster
    from grader.classes.submissions import Student

    a1 = course.assignments[0]
    lateness = Lateness(a1.id, "2026-12-11T23:59:00+00:00", "2026-12-13T10:00:00+00:00", "penalty", 10)
    report = dataclasses.replace(
        make_report([make_exercise("conv", [("by hand", "public", 20, "passed", None)])]), lateness=lateness
    )
    records = [
        Record(
            student=Student(i),
            status="graded",
            origin="grade-all",
            source="x",
            content_hash="h",
            fingerprint="f",
            duration=1,
            report=report,
        )
        for i in ("s001", "s002")
    ]
    (tmp_path / "roster.csv").write_text("id,name,extension_days\ns001,Ada,2\ns002,Ben,1\n")
    rows = list(
        csv.reader(
            io.StringIO(
                exports.canvas_csv(
                    course, exports.with_roster(records, load_roster(tmp_path / "roster.csv")), assignment=a1.id
                )
            )
        )
    )
    assert [row[5] for row in rows[2:]] == ["20", "18"], "2 days' extension: on time; 1 day: 1 day late"


def test_imported_results_merge_with_grade_all_under_roster_ids_and_export_to_a_named_canvas_column(tmp_path, engine):
    """conv graded here, lenet imported from a CI run of the same student's repository: one row, both scores."""
    from grader.reports import json_report

    _class(tmp_path / "class", {"cnn-hw1-ada-l": "correct"})
    (tmp_path / "roster.csv").write_text(ROSTER)
    common = [
        "-o",
        str(tmp_path / "grades"),
        "--roster",
        str(tmp_path / "roster.csv"),
        "--course",
        str(ROOT / "course.toml"),
    ]
    graded = CliRunner().invoke(app, ["grade-all", str(tmp_path / "class"), "-e", "conv", *common])
    assert graded.exit_code == 0, graded.output
    lenet = make_report([make_exercise("lenet", [("shapes", "public", 15, "passed", None)])])
    (tmp_path / "runs" / "ada-l").mkdir(parents=True)
    (tmp_path / "runs" / "ada-l" / "results.json").write_text(json_report.render(lenet))
    imported = CliRunner().invoke(app, ["import", str(tmp_path / "runs"), *common])
    assert imported.exit_code == 0, imported.output
    assert "s001: imported" in imported.output
    rows = {r["student"]: r for r in csv.DictReader((tmp_path / "grades" / "scores.csv").open())}
    assert (rows["s001"]["conv"], rows["s001"]["lenet"], rows["s001"]["total"]) == ("15", "15", "30")
    exported = CliRunner().invoke(app, ["export", "--canvas-column", "Practice (4242)", *common])
    assert exported.exit_code == 0, exported.output
    canvas = list(csv.reader((tmp_path / "grades" / "canvas.csv").open()))
    assert canvas[0][5] == "Practice (4242)" and canvas[2] == ["Lovelace, Ada", "", "s001", "", "", "30"]
