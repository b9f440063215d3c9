"""`grader new exercise`: a working exercise from templates, course.toml only appended to, grader/ untouched."""

from __future__ import annotations

import pytest
from test_check import make_course
from typer.testing import CliRunner

from grader import score
from grader.authoring.scaffold import ScaffoldError, new_exercise
from grader.cli.app import app
from grader.cli.common import ExitCode
from grader.course.manifest import load_course
from grader.course.stubs import strip_solutions
from grader.diagnosis import load_catalogue
from grader.engine.runner import grade_exercise


@pytest.fixture
def course_dir(tmp_path):
    return make_course(tmp_path / "course")


def test_the_new_exercise_is_complete_and_declared_last(course_dir):
    before = (course_dir / "course.toml").read_text()
    written = new_exercise(load_course(course_dir), "leaky", section="ResNet (2015)", title="Leaky", points=7)
    assert [str(p) for p in written] == [
        "reference/leaky.py",
        "exercises/leaky.py",
        "tests/public/test_leaky.py",
        "tests/hidden/test_leaky.py",
        "tests/hidden/misconceptions/leaky.py",
        "course.toml",
    ]
    after = (course_dir / "course.toml").read_text()
    assert after.startswith(before), "course.toml is appended to, never rewritten"
    course = load_course(course_dir)
    exercise = course.exercise("leaky")
    assert (exercise.title, exercise.points, exercise.section, exercise.module) == (
        "Leaky",
        7,
        "ResNet (2015)",
        "leaky.py",
    )
    assert exercise.hidden == ("tests/hidden/test_leaky.py",) and exercise.misconceptions
    reference = (course_dir / "reference/leaky.py").read_text()
    assert (course_dir / "exercises/leaky.py").read_text() == strip_solutions(reference)
    assert "### BEGIN SOLUTION" in reference and "Inputs:" in reference and "Returns:" in reference
    assert load_catalogue(course_dir / "tests/hidden/misconceptions/leaky.py") == []


def test_the_reference_scores_full_marks_and_the_stub_zero(course_dir):
    new_exercise(load_course(course_dir), "leaky", section="ResNet (2015)", points=7)
    course = load_course(course_dir)
    exercise = course.exercise("leaky")
    full = grade_exercise(course, exercise, course.reference_dir, public_only=False)
    assert [(t.name, t.message) for t in full.tests if not t.passed] == []
    assert score.exercise_score(full) == 7
    stub = grade_exercise(course, exercise, course.exercises_dir, public_only=False)
    assert score.exercise_score(stub) == 0
    assert all(t.reason == "not_implemented" for t in stub.tests)


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("Leaky", {}, "lower case letters"),
        ("test_leaky", {}, "not 'test...'"),
        ("shift", {}, "named 'shift' already"),
        ("leaky", {"section": "Poolng"}, "'Poolng' is not a section of docs/course.md; did you mean 'Pooling'"),
        ("leaky", {"points": 3}, "at least 4 points"),
    ],
)
def test_refusals_say_why_and_write_nothing(course_dir, name, options, message):
    before = sorted(p.relative_to(course_dir) for p in course_dir.rglob("*"))
    with pytest.raises(ScaffoldError, match=message.replace("(", r"\(").replace(".", r"\.")):
        new_exercise(load_course(course_dir), name, **({"section": "Pooling"} | options))
    assert sorted(p.relative_to(course_dir) for p in course_dir.rglob("*")) == before


def test_an_existing_file_is_never_overwritten(course_dir):
    (course_dir / "tests/public/test_leaky.py").write_text("# mine\n")
    with pytest.raises(ScaffoldError, match="exist already: tests/public/test_leaky.py"):
        new_exercise(load_course(course_dir), "leaky", section="Pooling")
    assert (course_dir / "tests/public/test_leaky.py").read_text() == "# mine\n"


def test_the_command(course_dir):
    runner = CliRunner()
    made = runner.invoke(app, ["new", "exercise", "leaky", "--section", "Pooling", "--course", str(course_dir)])
    assert made.exit_code == ExitCode.OK, made.output
    assert "wrote reference/leaky.py" in made.output and "wrote course.toml" in made.output
    again = runner.invoke(app, ["new", "exercise", "leaky", "--section", "Pooling", "--course", str(course_dir)])
    assert again.exit_code == ExitCode.USAGE
    assert "named 'leaky' already" in again.output
