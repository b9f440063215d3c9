"""Every official grader names the misconception: Gradescope's zip, the grading repository, nbgrader.

The same submission (a convolution that flips its kernel, tests/engine/corpus/conv/
buggy_flipped_kernel.py) graded by each must carry the catalogue's diagnosis: a
grader that ships without tests/hidden/misconceptions/ silently reports none.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
from support import ROOT

from grader.course.manifest import load_course
from grader.publish import gradescope
from grader.publish.release import PublishOptions, publish

FLIPPED = ROOT / "tests/engine/corpus/conv/buggy_flipped_kernel.py"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    base = tmp_path_factory.mktemp("diagnoses")
    options = PublishOptions(
        exercises=("conv",), check=False, gradescope=True, nbgrader=True, grading_repo=base / "grading"
    )
    return publish(load_course(ROOT), base / "release", options)


def _diagnoses(results: dict) -> set[str]:
    return {t["extra_data"]["diagnosis"] for t in results["tests"] if (t.get("extra_data") or {}).get("diagnosis")}


def _environ(**extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")} | extra


@pytest.mark.slow
def test_the_gradescope_zip_names_the_flipped_kernel(published, tmp_path):
    with zipfile.ZipFile(published.gradescope_zip) as archive:
        assert "tests/hidden/misconceptions/conv.py" in archive.namelist()
        archive.extractall(tmp_path / "source")
    (tmp_path / "source" / "run_autograder").chmod(0o755)
    (tmp_path / "submission").mkdir()
    shutil.copyfile(FLIPPED, tmp_path / "submission" / "conv.py")
    subprocess.run(
        [str(tmp_path / "source" / "run_autograder")],
        check=True,
        timeout=900,
        capture_output=True,
        env=_environ(**{gradescope.ROOT_ENV: str(tmp_path), "GRADER_PYTHON": sys.executable}),
    )
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert any("flipped" in d for d in _diagnoses(results)), results["output"]


@pytest.mark.slow
def test_the_grading_repository_names_the_flipped_kernel(published, tmp_path):
    (tmp_path / "student").mkdir()
    shutil.copyfile(FLIPPED, tmp_path / "student" / "conv.py")
    output = tmp_path / "results.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "grade",
            "conv",
            "--submission",
            str(tmp_path / "student"),
            "--format",
            "json",
            "--output",
            str(output),
        ],
        cwd=published.grading_repo,
        check=True,
        timeout=900,
        capture_output=True,
        env=_environ(),
    )
    assert any("flipped" in d for d in _diagnoses(json.loads(output.read_text())))


@pytest.mark.slow
def test_the_nbgrader_course_names_the_flipped_kernel(published, tmp_path):
    """The notebook's test cell, `grade_here`, run where nbgrader runs it (beside the written module)."""
    (tmp_path / "conv.py").write_text(FLIPPED.read_text())
    code = "import json; from grader.publish.notebooks import grade_here; grade_here('conv')"
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
        env=_environ(GRADER_COURSE=str(published.nbgrader_dir)),
    )
    assert completed.returncode == 0, completed.stderr
    assert "flipped" in completed.stdout, completed.stdout[-2000:]
