"""The Gradescope autograder zip, run as Gradescope runs it, with its root in a temporary folder."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile

import pytest
from publish_support import REFERENCE, make_tiny_course
from support import validate_json

from grader.course.stubs import strip_solutions
from grader.publish import gradescope
from grader.publish.release import PublishOptions, publish

#: Gradescope's results.json (its autograder specification), every key it defines and no other.
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
RESULTS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": {"type": "string"},
        "test_output_format": {"type": "string"},
        "test_name_format": {"type": "string"},
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "leaderboard": {"type": "array"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "score", "max_score"],
                "properties": {
                    "score": {"type": "number"},
                    "max_score": {"type": "number"},
                    "status": {"enum": ["passed", "failed"]},
                    "name": {"type": "string"},
                    "name_format": {"type": "string"},
                    "number": {"type": "string"},
                    "output": {"type": "string"},
                    "output_format": {"type": "string"},
                    "tags": {"type": "array"},
                    "visibility": VISIBILITY,
                    "extra_data": {"type": "object"},
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    base = tmp_path_factory.mktemp("gradescope")
    course = make_tiny_course(base / "course")
    published = publish(course, base / "release", PublishOptions(check=False, gradescope=True))
    return published.gradescope_zip


def _run_autograder(zip_path, root, files: dict[str, str]):
    """Gradescope's layout under `root`: the zip in source/, the submission in submission/, then run_autograder."""
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):
        path = root / "source" / script
        path.chmod(path.stat().st_mode | stat.S_IXUSR)  # extractall drops the mode bits the zip records
    for name, text in files.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_text(text)
    (root / "submission").mkdir(exist_ok=True)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    environ |= {gradescope.ROOT_ENV: str(root), "GRADER_PYTHON": sys.executable}
    completed = subprocess.run(
        [str(root / "source" / "run_autograder")], env=environ, capture_output=True, text=True, timeout=600, cwd=root
    )
    assert completed.returncode == 0, completed.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    validate_json(results, RESULTS_SCHEMA)
    return results


def test_zip_has_gradescopes_layout(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = archive.namelist()
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        setup = archive.read("setup.sh").decode()
    assert {
        "setup.sh",
        "run_autograder",
        "course.toml",
        "pyproject.toml",
        "grader/cli/app.py",
        "tests/hidden/test_adder.py",
        "reference/adder.py",
    } <= set(names)
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert "download.pytorch.org/whl/cpu" in setup and "pip install --quiet -e ." in setup


def test_scripts_are_valid_bash(autograder_zip, tmp_path):
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(tmp_path)
    for script in ("setup.sh", "run_autograder"):
        completed = subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True, text=True)
        assert completed.returncode == 0, completed.stderr


def test_reference_in_an_exercises_folder_scores_full_with_hidden_tests_after_the_due_date(autograder_zip, tmp_path):
    results = _run_autograder(autograder_zip, tmp_path, {"exercises/adder.py": REFERENCE})
    assert results["score"] == 3 and results["extra_data"]["max_score"] == 3
    visibility = {t["name"]: t["visibility"] for t in results["tests"]}
    assert visibility == {
        "adder: 2 + 3 is 5": "visible",
        "adder: a negative number is added like the reference adds it": "after_due_date",
    }


@pytest.fixture(scope="module")
def stub_over_a_forged_result(autograder_zip, tmp_path_factory):
    """The stub uploaded flat, graded where a submission's process left a symlink at results/results.json
    (pointing at a file elsewhere): one run of run_autograder for the two tests below."""
    root = tmp_path_factory.mktemp("stub")
    elsewhere = root / "elsewhere.json"
    elsewhere.write_text("untouched")
    (root / "results").mkdir()
    (root / "results" / "results.json").symlink_to(elsewhere)
    results = _run_autograder(autograder_zip, root, {"adder.py": strip_solutions(REFERENCE, "reference/adder.py")})
    return results, root


def test_stub_uploaded_flat_scores_zero_with_not_implemented_yet(stub_over_a_forged_result):
    results, _ = stub_over_a_forged_result
    assert results["score"] == 0
    assert all("not implemented yet" in t["output"] for t in results["tests"])


def test_a_missing_module_is_named(autograder_zip, tmp_path):
    results = _run_autograder(autograder_zip, tmp_path, {"notes.txt": "I forgot"})
    assert results["score"] == 0 and "not found in your submission: adder.py" in results["output"]


def test_a_broken_autograder_still_writes_results(autograder_zip, tmp_path):
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(tmp_path / "source")
    (tmp_path / "source" / "course.toml").write_text("[course]\n")
    (tmp_path / "submission").mkdir()
    gradescope.run(tmp_path)
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    validate_json(results, RESULTS_SCHEMA)
    assert results["score"] == 0 and "The autograder itself failed" in results["output"]


def test_collect_prefers_the_exercises_folder(tmp_path):
    course = make_tiny_course(tmp_path / "course")
    (tmp_path / "sub" / "deep" / "exercises").mkdir(parents=True)
    (tmp_path / "sub" / "deep" / "exercises" / "adder.py").write_text("deep")
    (tmp_path / "sub" / "adder.py").write_text("top")
    assert gradescope.collect_submission(tmp_path / "sub", course, tmp_path / "flat") == []
    assert (tmp_path / "flat" / "adder.py").read_text() == "top"
    shutil.rmtree(tmp_path / "flat")
    (tmp_path / "sub" / "adder.py").unlink()
    gradescope.collect_submission(tmp_path / "sub", course, tmp_path / "flat")
    assert (tmp_path / "flat" / "adder.py").read_text() == "deep"


def test_results_json_is_written_last_replacing_whatever_was_there_not_through_it(stub_over_a_forged_result):
    """A submission's process may leave a forged results.json, or a symlink there: the grader's replaces it."""
    results, root = stub_over_a_forged_result
    assert results["score"] == 0 and not (root / "results" / "results.json").is_symlink()
    assert (root / "elsewhere.json").read_text() == "untouched"
    assert [p.name for p in (root / "results").iterdir()] == ["results.json"], "no staging file is left"


def test_setup_checks_the_container_has_the_memory_the_heaviest_exercise_needs(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        setup = archive.read("setup.sh").decode()
    assert f"needed_kb=$(( {gradescope.GRADER_MEMORY_MB + 3072} * 1024 ))" in setup
