"""`grader publish`: the student release installs and grades on its own and carries no secret.

The course's conv exercise is released once for the module (the publish's own
reference check grades it); the other tests use a tiny course whose every
secret carries a canary string.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import tomllib

import pytest
from publish_support import CANARIES, REFERENCE, SOLUTION_CANARY, files_holding, grade_in, make_tiny_course
from support import ROOT
from typer.testing import CliRunner

from grader.cli.app import app
from grader.cli.common import ExitCode
from grader.course.manifest import load_course
from grader.course.stubs import expected_stubs
from grader.publish import leaks, release
from grader.publish.coursefile import course_toml
from grader.publish.release import PublishError, PublishOptions, Transform, publish
from grader.publish.tamper import MANIFEST_PATH

runner = CliRunner()


@pytest.fixture(scope="module")
def conv_release(tmp_path_factory):
    """The course's conv exercise, released after the reference check passed."""
    base = tmp_path_factory.mktemp("conv")
    published = publish(load_course(ROOT), base / "release", PublishOptions(exercises=("conv",)))
    return published


@pytest.fixture(scope="module")
def full_release(tmp_path_factory):
    """Every exercise and quiz of the course (the reference check is left to conv_release: it is slow)."""
    base = tmp_path_factory.mktemp("full")
    return publish(load_course(ROOT), base / "release", PublishOptions(check=False))


def _without_key() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}


def test_release_grades_on_its_own_and_stubs_score_zero(conv_release, tmp_path):
    release_dir = conv_release.release
    engine = json.loads(
        subprocess.run(
            [sys.executable, "-c", "import grader, json; print(json.dumps(grader.__file__))"],
            cwd=release_dir,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert engine == str(release_dir / "grader" / "__init__.py"), "the release must run its own engine"
    saved = tmp_path / "report.json"
    completed = grade_in(release_dir, "grade", "--format", "json", "--output", str(saved), env=_without_key())
    assert completed.returncode == 0, completed.stderr
    report = json.loads(saved.read_text())
    hidden_points = report["exercises"][0]["hidden_points_not_run"]
    assert report["score"] == 0 and hidden_points > 0
    assert report["max_score"] + hidden_points == load_course(ROOT).exercise("conv").points
    assert all("not implemented yet" in t["output"] for t in report["tests"])
    assert any(note.startswith("provisional score") for note in report["notes"])
    assert report["tampered"] == []
    # The text report of that grading, by the release's own `grader render` (no second grading).
    text = grade_in(release_dir, "render", str(saved), env=_without_key()).stdout
    assert "not implemented yet" in text and f"hidden tests worth {hidden_points:g} more points were not run" in text


def test_release_holds_stubs_public_suites_engine_and_nothing_secret(full_release):
    files = set(full_release.files)
    assert {
        "exercises/conv.py",
        "tests/public/test_conv.py",
        "course.toml",
        "pyproject.toml",
        "README.md",
        "docs/course.md",
        "grader/cli/app.py",
        ".gitignore",
        MANIFEST_PATH,
        ".github/workflows/classroom.yml",
    } <= files
    assert not any(f.startswith(("reference/", "tests/hidden/")) for f in files)
    course = load_course(ROOT)
    stubs = expected_stubs(course)
    for exercise in course.exercises:
        released_stub = (full_release.release / "exercises" / exercise.module).read_text()
        assert released_stub == stubs[course.exercises_dir / exercise.module], exercise.id
    released = tomllib.loads((full_release.release / "course.toml").read_text())
    assert [e["id"] for e in released["exercise"]] == [e.id for e in course.exercises]
    assert not any("hidden" in e for e in released["exercise"])


def test_release_has_no_line_of_any_solution_region(full_release):
    """Independently of the publish's own leak check: every solution line of reference/ is looked for in
    every file (a long line anywhere in a line, a shorter one as a whole line), except lines the course
    publishes on purpose."""
    course = load_course(ROOT)
    public = _public_text(course)
    texts = {p: p.read_text("utf-8", errors="replace") for p in full_release.release.rglob("*") if p.is_file()}
    lines = {p: {line.strip() for line in text.splitlines()} for p, text in texts.items()}
    checked = 0
    for reference in sorted(course.reference_dir.glob("*.py")):
        for number, line in leaks.solution_regions(reference.read_text("utf-8")):
            text = line.strip()
            if len(text) < 16 or text.startswith(("import ", "from ")) or " ".join(text.split()) in public:
                continue  # too short to prove anything, an import, or published on purpose
            checked += 1
            holders = [
                str(p) for p, content in texts.items() if (text in content if len(text) >= 30 else text in lines[p])
            ]
            assert holders == [], f"{reference.name}:{number} {text!r} is in {holders}"
    assert checked > 50, "the check must look at the solutions of the whole course"


def _public_text(course) -> str:
    """What the course publishes on purpose: the stubs (docstrings, provided code), tutorial, engine."""
    paths = [course.tutorial_path, *course.root.joinpath("grader").rglob("*.py")]
    texts = [path.read_text("utf-8") for path in paths] + list(expected_stubs(course).values())
    return "\n".join(" ".join(line.split()) for text in texts for line in text.splitlines())


def test_release_has_no_hidden_suite_text(full_release):
    course = load_course(ROOT)
    public = "".join((ROOT / s).read_text() for e in course.exercises for s in e.public)
    public += "".join(p.read_text() for p in (ROOT / "grader").rglob("*") if p.is_file() and p.suffix != ".pyc")
    names = {
        name
        for e in course.exercises
        for s in e.hidden
        for name in re.findall(r"^def (test_\w+)", (ROOT / s).read_text(), flags=re.M)
        if name not in public
    }
    assert len(names) > 20
    for name in sorted(names):
        assert files_holding(full_release.release, name) == [], name


def test_quizzes_ship_as_student_copies_without_their_key(full_release):
    course = load_course(ROOT)
    assert course.quizzes, "the course has quizzes"
    for quiz in course.quizzes:
        bank = tomllib.loads((full_release.release / quiz.bank).read_text())
        assert bank["bank"]["release"] == "student"
        assert not any({"answer", "compute", "explanation"} & set(q) for q in bank["question"])
        for question in tomllib.loads((ROOT / quiz.bank).read_text())["question"]:
            if "compute" in question:
                assert files_holding(full_release.release, question["compute"]) == [], question["id"]
    released = tomllib.loads((full_release.release / "course.toml").read_text())
    assert [q["id"] for q in released["quiz"]] == [q.id for q in course.quizzes]


def test_canaries_of_every_secret_are_nowhere_in_the_release_in_any_form(tmp_path):
    course = make_tiny_course(tmp_path / "course", quiz=True)
    published = publish(course, tmp_path / "release", PublishOptions(check=False))
    for canary in CANARIES:
        assert files_holding(published.release, canary) == [], canary
    assert not any(name.endswith((".bundle", ".key")) for name in published.files), "no sealed bundle, no key"
    student_bank = tomllib.loads((published.release / "quizzes/basics.toml").read_text())
    assert student_bank["bank"]["release"] == "student"
    assert not any({"answer", "compute"} & set(q) for q in student_bank["question"])
    assert "## The quiz" in (published.release / "README.md").read_text()
    ignored = (published.release / ".gitignore").read_text().split()
    assert {"venv/", ".venv/", "*.egg-info/", "__pycache__/", ".pytest_cache/", ".hypothesis/"} <= set(ignored)


def test_leak_check_refuses_a_bundle_a_key_or_a_hidden_folder_whatever_their_content(tmp_path):
    course = make_tiny_course(tmp_path / "course")
    published = publish(course, tmp_path / "release", PublishOptions(check=False))
    for name in (".grader/hidden.bundle", "keys/bundle.key", "tests/hidden/test_adder.py", "reference/notes.txt"):
        (published.release / name).parent.mkdir(parents=True, exist_ok=True)
        (published.release / name).write_text("noise")
    found = {leak.path for leak in leaks.forbidden_paths(published.release, course)}
    assert found == {".grader/hidden.bundle", "keys/bundle.key", "tests/hidden/test_adder.py", "reference/notes.txt"}


def test_leak_check_knows_the_misconception_catalogues_lines():
    secrets = leaks.course_secrets(load_course(ROOT))
    catalogue = (ROOT / "tests/hidden/misconceptions/conv.py").read_text().splitlines()
    assert any(secrets.get(leaks.normalize(line), "").endswith("(misconception catalogue)") for line in catalogue)


def test_reference_check_refuses_a_course_whose_reference_fails_its_tests(tmp_path):
    wrong = REFERENCE.replace("total = a + b", "total = a - b")
    course = make_tiny_course(tmp_path / "course", reference=wrong)
    with pytest.raises(PublishError, match="does not pass its own suites") as error:
        publish(course, tmp_path / "release", PublishOptions())
    assert "2 + 3 is 5" in str(error.value)
    assert not (tmp_path / "release").exists(), "nothing is written when the check fails"


def test_leak_check_refuses_a_public_suite_that_quotes_the_solution(tmp_path):
    from publish_support import PUBLIC_SUITE

    quoting = PUBLIC_SUITE + (
        "\n\ndef _expected(a, b):\n"
        f"        total = a + b  # {SOLUTION_CANARY}: the whole solution is this line\n"
        "        return total\n"
    )
    course = make_tiny_course(tmp_path / "course")
    (course.root / "tests/public/test_adder.py").write_text(quoting)
    with pytest.raises(PublishError, match=r"tests/public/test_adder.py:\d+ holds a line of reference/adder.py"):
        publish(course, tmp_path / "release", PublishOptions(check=False))
    assert list((tmp_path / "release").iterdir()) == [], "a release that failed the leak check is removed"


def test_publishing_twice_needs_force_and_keeps_git(tmp_path):
    course = make_tiny_course(tmp_path / "course")
    publish(course, tmp_path / "release", PublishOptions(check=False))
    with pytest.raises(PublishError, match="not empty"):
        publish(course, tmp_path / "release", PublishOptions(check=False))
    (tmp_path / "release" / ".git").mkdir()
    publish(course, tmp_path / "release", PublishOptions(check=False, force=True))
    assert (tmp_path / "release" / ".git").is_dir(), "a template repository's history survives --force"


def test_release_places_must_be_separate(tmp_path):
    course = make_tiny_course(tmp_path / "course")
    with pytest.raises(PublishError, match="separate folders"):
        publish(course, tmp_path / "course" / "release", PublishOptions(check=False))


def test_transform_order_is_enforced():
    late = (*release.TRANSFORMS[:-1], Transform("late", lambda b: None, protected=True), release.TRANSFORMS[-1])
    with pytest.raises(RuntimeError, match="after the manifest"):
        release._check_order(late)
    last = (*release.TRANSFORMS[:-2], release.TRANSFORMS[-1], release.TRANSFORMS[-2])
    with pytest.raises(RuntimeError, match="comes last"):
        release._check_order(last)


def test_course_file_round_trips_without_hidden_suites(tmp_path):
    course = dataclasses.replace(load_course(ROOT), quizzes=(), assignments=())
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/course.md").write_text(course.tutorial_path.read_text())
    (tmp_path / "course.toml").write_text(course_toml(course, hidden=False))
    for exercise in course.exercises:
        for suite in exercise.public:
            (tmp_path / suite).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / suite).write_text("")
        (tmp_path / "exercises").mkdir(exist_ok=True)
        (tmp_path / "exercises" / exercise.module).write_text("")
    written = load_course(tmp_path)
    assert written.info == course.info and written.grading == course.grading
    assert written.exercises == tuple(
        e.model_copy(update={"hidden": (), "misconceptions": None}) for e in course.exercises
    )


def test_course_file_carries_the_assignments_of_released_items():
    course = load_course(ROOT)
    text = course_toml(course, hidden=False)
    for assignment in course.assignments:
        assert f'id = "{assignment.id}"' in text
    conv_only = dataclasses.replace(course, exercises=(course.exercise("conv"),), quizzes=())
    assert "[[assignment]]" not in course_toml(conv_only, hidden=False)


def test_publish_command(tmp_path):
    make_tiny_course(tmp_path / "course")
    out = tmp_path / "release"
    result = runner.invoke(app, ["publish", str(out), "--course", str(tmp_path / "course"), "--no-check"])
    assert result.exit_code == ExitCode.OK, result.output
    assert "released adder" in _flat(result.output) and "provisional" in _flat(result.output)
    again = runner.invoke(app, ["publish", str(out), "--course", str(tmp_path / "course"), "--no-check"])
    assert again.exit_code == ExitCode.BROKEN_COURSE and "is not empty" in _flat(again.output)
    unknown = runner.invoke(
        app, ["publish", str(tmp_path / "other"), "--exercises", "adder,nope", "--course", str(tmp_path / "course")]
    )
    assert unknown.exit_code == ExitCode.BROKEN_COURSE and "no exercise 'nope'" in _flat(unknown.output)


def _flat(text: str) -> str:
    """Rich wraps long lines at the terminal's width: compare words, not lines."""
    return " ".join(text.split())


def test_readme_tells_a_student_how_to_set_up_grade_and_read_ci(full_release):
    text = (full_release.release / "README.md").read_text()
    setup = text.split("## Set up (two commands)")[1].split("##")[0]
    assert setup.count("python -m pip install") == 2 and "download.pytorch.org/whl/cpu" in setup
    for needed in (
        "grader grade",
        "--public-only",
        "provisional",
        "last push to the default branch",
        ".grader/manifest.json",
        "Gradescope",
        "| conv: 2D convolution, forward pass |",
    ):
        assert needed in text, needed
    assert "{{grader:" not in text and "GRADER_BUNDLE_KEY" not in text and "bundle" not in text
