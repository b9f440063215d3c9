"""nbgrader notebooks, run through the real `nbgrader generate_assignment` and `nbgrader autograde`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from publish_support import REFERENCE, SOLUTION_CANARY, make_tiny_course
from support import ROOT

from grader.course.manifest import load_course
from grader.course.stubs import BEGIN
from grader.publish import notebooks
from grader.publish.release import PublishOptions, publish

#: A module-level solution region too: nbgrader's stub of it must not break the module's import.
MODULE_LEVEL = """

### BEGIN SOLUTION
GREETING = "hello"
### STUB: GREETING = ""
### END SOLUTION
"""


def _nbgrader(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    executable = shutil.which("nbgrader")
    if executable is None:
        pytest.skip("nbgrader is not installed (pyproject's test extra installs nbgrader 0.9)")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    environ["PATH"] = f"{Path(sys.executable).parent}:{environ['PATH']}"
    completed = subprocess.run([executable, *args], cwd=cwd, capture_output=True, text=True, timeout=900, env=environ)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed


def test_reference_notebook_scores_full_and_the_released_one_zero(tmp_path):
    course = make_tiny_course(tmp_path / "course", reference=REFERENCE + MODULE_LEVEL)
    published = publish(course, tmp_path / "release", PublishOptions(check=False, nbgrader=True))
    folder, assignment = published.nbgrader_dir, notebooks.assignment_name(course)
    _nbgrader("generate_assignment", assignment, "--force", cwd=folder)
    released = folder / "release" / assignment / "adder.ipynb"
    assert SOLUTION_CANARY not in released.read_text() and "raise NotImplementedError()" in released.read_text()
    for student, notebook in (("ref", folder / "source" / assignment / "adder.ipynb"), ("stub", released)):
        (folder / "submitted" / student / assignment).mkdir(parents=True)
        shutil.copy(notebook, folder / "submitted" / student / assignment / "adder.ipynb")
    _nbgrader("autograde", assignment, "--force", cwd=folder)

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gradebook:
        scores = {s: gradebook.find_submission(assignment, s).score for s in ("ref", "stub")}
        most = gradebook.find_submission(assignment, "ref").max_score
    assert scores == {"ref": 3, "stub": 0} and most == 3
    graded = json.loads((folder / "autograded" / "stub" / assignment / "adder.ipynb").read_text())
    shown = json.dumps(graded["cells"][-1]["outputs"])
    assert "not implemented yet" in shown and "cannot be imported" not in shown


def test_notebooks_follow_nbgraders_source_format():
    """Every exercise of the course, as nbgrader's validator reads it."""
    nbformat = pytest.importorskip("nbformat", reason="nbformat comes with nbgrader (pyproject's test extra)")
    pytest.importorskip("nbgrader", reason="nbgrader is not installed (pyproject's test extra installs nbgrader 0.9)")
    from nbgrader.nbgraderformat import MetadataValidator

    course = load_course(ROOT)
    for exercise in course.exercises:
        notebook = nbformat.reads(json.dumps(notebooks.notebook(course, exercise)), as_version=4)
        nbformat.validate(notebook)
        MetadataValidator().validate_nb(notebook)
        kinds = [
            (c.cell_type, c.metadata.nbgrader.solution, c.metadata.nbgrader.grade, c.metadata.nbgrader.locked)
            for c in notebook.cells
        ]
        assert kinds == [
            ("markdown", False, False, True),
            ("markdown", False, False, True),
            ("code", True, False, False),
            ("code", False, True, True),
        ], exercise.id
        assert notebook.cells[-1].metadata.nbgrader.points == exercise.points
        solution = notebook.cells[2].source
        assert solution.startswith(f"%%writefile {exercise.module}\n") and BEGIN in solution
        compile(solution.split("\n", 1)[1], exercise.module, "exec")
        assert exercise.section in notebook.cells[0].source


def test_module_level_regions_keep_the_module_importable():
    source = notebooks.notebook_module(REFERENCE + MODULE_LEVEL)
    assert 'GREETING = ""\ntry:\n    ### BEGIN SOLUTION\n    GREETING = "hello"\n    ### END SOLUTION\n' in source
    namespace: dict = {}
    exec(
        compile(source.replace('    GREETING = "hello"\n', "    raise NotImplementedError()\n"), "m", "exec"), namespace
    )
    assert namespace["GREETING"] == ""


def test_a_notebook_finds_its_course_above_it(tmp_path, monkeypatch):
    (tmp_path / "course.toml").write_text("")
    (tmp_path / "a" / "b").mkdir(parents=True)
    monkeypatch.delenv(notebooks.COURSE_ENV, raising=False)
    assert notebooks.find_course(tmp_path / "a" / "b") == tmp_path
    monkeypatch.setenv(notebooks.COURSE_ENV, "/elsewhere")
    assert notebooks.find_course(tmp_path / "a" / "b") == Path("/elsewhere")
