"""The sealed bundle and the tamper check: what grading a release does with and without the key."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from typer.testing import CliRunner

from grader.cli import ExitCode, app
from grader.publish import bundle, tamper
from grader.publish.release import PublishOptions, publish
from publish_support import make_tiny_course

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


def _grade(folder, *args, key=None, monkeypatch):
    if key is None:
        monkeypatch.delenv(bundle.KEY_ENV, raising=False)
    else:
        monkeypatch.setenv(bundle.KEY_ENV, key)
    return runner.invoke(app, ["grade", "--course", str(folder), "--format", "json", *args])


def test_without_the_key_only_public_tests_run_and_the_report_says_so(tiny_release, monkeypatch):
    result = _grade(tiny_release.release, monkeypatch=monkeypatch)
    assert result.exit_code == ExitCode.OK, result.output
    report = json.loads(result.output)
    assert report["max_score"] == 1 and report["public_only"]
    assert report["exercises"][0]["hidden_points_not_run"] == 2
    assert any(f"sealed in {bundle.BUNDLE_PATH}" in note for note in report["notes"])


def test_with_the_key_the_hidden_tests_run_from_the_bundle(tiny_release, monkeypatch):
    key = tiny_release.key_file.read_text().strip()
    result = _grade(tiny_release.release, "--submission", str(tiny_release.release.parent / "course/reference"),
                    key=key, monkeypatch=monkeypatch)
    assert result.exit_code == ExitCode.OK, result.output
    report = json.loads(result.output)
    assert report["score"] == report["max_score"] == 3
    assert {t["visibility"] for t in report["tests"]} == {"visible", "after_due_date"}
    assert any("run from the sealed" in note for note in report["notes"]) and report["tampered"] == []


def test_a_wrong_key_or_a_missing_bundle_is_an_error_not_a_fallback(tiny_release, release_copy, monkeypatch):
    wrong = _grade(tiny_release.release, key=bundle.new_key(), monkeypatch=monkeypatch)
    assert wrong.exit_code == ExitCode.BROKEN_COURSE and "does not open" in _flat(wrong.output)
    (release_copy / bundle.BUNDLE_PATH).unlink()
    key = tiny_release.key_file.read_text().strip()
    missing = _grade(release_copy, key=key, monkeypatch=monkeypatch)
    assert missing.exit_code == ExitCode.BROKEN_COURSE and "has no .grader/hidden.bundle" in _flat(missing.output)


def test_student_code_never_sees_the_key(tiny_release, tmp_path, monkeypatch):
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "adder.py").write_text(
        "import os\n\ndef add(a, b):\n    raise ValueError('seen: ' + repr(os.environ.get('GRADER_BUNDLE_KEY')))\n")
    key = tiny_release.key_file.read_text().strip()
    result = _grade(tiny_release.release, "--submission", str(submission), key=key, monkeypatch=monkeypatch)
    assert result.exit_code == ExitCode.OK, result.output
    outputs = " ".join(t["output"] for t in json.loads(result.output)["tests"])
    assert "seen: None" in outputs and key not in result.output


def test_tamper_check_reports_changed_added_and_deleted_files(tiny_release, release_copy, monkeypatch):
    (release_copy / "tests/public/test_adder.py").write_text("# every test passes now\n")
    (release_copy / "conftest.py").write_text("import pytest\n")
    (release_copy / "tests/public/test_extra.py").write_text("\n")
    (release_copy / ".github/workflows/classroom.yml").unlink()
    (release_copy / "exercises/adder.py").write_text("def add(a, b):\n    return a + b\n")   # the student's: fine
    result = _grade(release_copy, monkeypatch=monkeypatch)
    assert result.exit_code == ExitCode.OK, result.output
    report = json.loads(result.output)
    assert sorted(report["tampered"]) == [".github/workflows/classroom.yml", "conftest.py",
                                          "tests/public/test_adder.py", "tests/public/test_extra.py"]
    assert "tamper check: tests/public/test_adder.py was changed since the release was published" in report["notes"]
    text = _flat(runner.invoke(app, ["grade", "--course", str(release_copy)]).output)
    assert "tamper check: conftest.py was added" in text and "classroom.yml was deleted" in text


def test_with_the_key_the_sealed_checksums_decide_and_edited_tests_do_not_count(tiny_release, release_copy,
                                                                                monkeypatch):
    """A student who edits a public test and rewrites the manifest to match is still caught, and graded
    with the pristine suites."""
    suite = release_copy / "tests/public/test_adder.py"
    suite.write_text(suite.read_text().replace("expect_equal(student.add(2, 3), 5)", "pass"))
    recorded = json.loads((release_copy / tamper.MANIFEST_PATH).read_text())
    recorded["files"]["tests/public/test_adder.py"] = tamper.sha256(suite)
    (release_copy / tamper.MANIFEST_PATH).write_text(json.dumps(recorded))
    unsealed = json.loads(_grade(release_copy, monkeypatch=monkeypatch).output)
    assert unsealed["tampered"] == [], "the forged manifest fools the check without the key"
    sealed = json.loads(_grade(release_copy, key=tiny_release.key_file.read_text().strip(),
                               monkeypatch=monkeypatch).output)
    assert sealed["tampered"] == ["tests/public/test_adder.py"]
    assert sealed["score"] == 0, "the stub still fails the pristine public test"


def test_a_plain_course_is_graded_as_before(tiny_release, monkeypatch):
    course_dir = tiny_release.release.parent / "course"
    report = json.loads(_grade(course_dir, "--submission", str(course_dir / "reference"),
                               monkeypatch=monkeypatch).output)
    assert report["score"] == 3 and report["tampered"] == [] and report["notes"] == []


def test_bundle_round_trip_and_refusals():
    key = bundle.new_key()
    files = {"a/b.txt": b"secret", "course.toml": b"x = 1\n"}
    token = bundle.seal(files, key)
    assert bundle.unseal(token, key) == files
    assert b"secret" not in token
    with pytest.raises(bundle.BundleError, match="does not open"):
        bundle.unseal(token, bundle.new_key())
    altered = token[:-5] + (b"A" if token[-5:-4] != b"A" else b"B") + token[-4:]
    with pytest.raises(bundle.BundleError, match="does not open"):
        bundle.unseal(altered, key)
    with pytest.raises(bundle.BundleError, match="not a bundle key"):
        bundle.check_key("hunter2")
    with pytest.raises(bundle.BundleError, match="outside the bundle"):
        bundle.seal({"../escape": b""}, key)


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
