"""Grading inside a student release: provisional, public tests only, and the tamper check as a courtesy."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from publish_support import make_tiny_course
from typer.testing import CliRunner

from grader.cli.app import app
from grader.cli.common import ExitCode
from grader.publish import tamper
from grader.publish.release import PublishOptions, publish

runner = CliRunner()


@pytest.fixture(scope="module")
def tiny_release(tmp_path_factory):
    base = tmp_path_factory.mktemp("tiny")
    course = make_tiny_course(base / "course")
    return publish(course, base / "release", PublishOptions(check=False))


@pytest.fixture
def release_copy(tiny_release, tmp_path):
    """A copy of the release to change (the module's release stays pristine)."""
    copy = tmp_path / "release"
    shutil.copytree(tiny_release.release, copy)
    return copy


def _flat(text: str) -> str:
    """Rich wraps long lines at the terminal's width: compare words, not lines."""
    return " ".join(text.split())


def _grade(folder, *args, monkeypatch):
    return runner.invoke(app, ["grade", "--course", str(folder), "--format", "json", *args])


def test_a_release_grades_public_tests_only_and_calls_the_score_provisional(tiny_release, monkeypatch):
    result = _grade(tiny_release.release, monkeypatch=monkeypatch)
    assert result.exit_code == ExitCode.OK, result.output
    report = json.loads(result.output)
    assert report["max_score"] == 1 and report["public_only"]
    assert report["exercises"][0]["hidden_points_not_run"] == 2
    assert any(note.startswith("provisional score") for note in report["notes"])


def test_tamper_check_reports_changed_added_and_deleted_files(tiny_release, release_copy, monkeypatch):
    (release_copy / "tests/public/test_adder.py").write_text("# every test passes now\n")
    (release_copy / "conftest.py").write_text("import pytest\n")
    (release_copy / "tests/public/test_extra.py").write_text("\n")
    (release_copy / ".github/workflows/classroom.yml").unlink()
    (release_copy / "exercises/adder.py").write_text("def add(a, b):\n    return a + b\n")  # the student's: fine
    result = _grade(release_copy, monkeypatch=monkeypatch)
    assert result.exit_code == ExitCode.OK, result.output
    report = json.loads(result.output)
    assert sorted(report["tampered"]) == [
        ".github/workflows/classroom.yml",
        "conftest.py",
        "tests/public/test_adder.py",
        "tests/public/test_extra.py",
    ]
    assert "tamper check: tests/public/test_adder.py was changed since the release was published" in report["notes"]
    text = _flat(runner.invoke(app, ["grade", "--course", str(release_copy)]).output)
    assert "tamper check: conftest.py was added" in text and "classroom.yml was deleted" in text


def test_a_plain_course_is_graded_as_before(tiny_release, monkeypatch):
    course_dir = tiny_release.release.parent / "course"
    report = json.loads(
        _grade(course_dir, "--submission", str(course_dir / "reference"), monkeypatch=monkeypatch).output
    )
    assert report["score"] == 3 and report["tampered"] == [] and report["notes"] == []


def test_tamper_compare_ignores_caches_and_the_students_folder(tmp_path):
    for name in ("tests/t.py", "exercises/m.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    recorded = tamper.manifest(tmp_path, ["tests/t.py"])
    (tmp_path / "tests/__pycache__").mkdir()
    (tmp_path / "tests/__pycache__/t.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "exercises/new.py").write_text("")
    assert tamper.compare(tmp_path, recorded) == []
    os.remove(tmp_path / "tests/t.py")
    assert tamper.compare(tmp_path, recorded) == [tamper.Change("tests/t.py", "deleted")]
