"""nbgrader: the exercises as Jupyter notebooks in nbgrader's source format.

`write_course` makes an nbgrader course folder: the course itself (course.toml
with the hidden suites, references, tutorial), `nbgrader_config.py`, and
`source/<assignment>/<exercise>.ipynb`. Each notebook has read-only cells with
the exercise's tutorial section and instructions, one solution cell that
writes the module (`%%writefile conv.py`, the reference with nbgrader's own
`### BEGIN SOLUTION` markers, so `nbgrader generate_assignment` makes the
stub), and one autograder test cell that grades the written module with this
grader and returns the points, which nbgrader records as partial credit.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
import warnings
from pathlib import Path

from grader.course.manifest import COURSE_FILE, Course, ExerciseSpec, load_course
from grader.course.stubs import BEGIN, END
from grader.course.text import read_sections
from grader.publish import coursefile
from grader.publish.files import copy, template

COURSE_ENV = "GRADER_COURSE"  #: overrides where a notebook's test cell finds course.toml
TUTORIAL_LINES = 30  #: at most this much of the tutorial's section in a notebook
_STUB = re.compile(r"^\s*### STUB: ?(.*)$")


def assignment_name(course: Course) -> str:
    """ "CNN Deep Dive: LeNet to ..." -> "cnn_deep_dive"."""
    return re.sub(r"[^a-z0-9]+", "_", course.info.name.split(":")[0].lower()).strip("_") or "assignment"


def write_course(course: Course, folder: Path) -> Path:
    """The nbgrader course folder of `course` (narrowed to what is released); returns `folder`."""
    from grader.publish.release import sealed_course_files

    assignment = assignment_name(course)
    for name in sealed_course_files(course):
        copy(course.root / name, folder / name)
    (folder / COURSE_FILE).write_text(coursefile.course_toml(course, hidden=True), encoding="utf-8")
    (folder / "nbgrader_config.py").write_text(
        template("nbgrader_config.py", course=course.info.name, assignment=assignment), encoding="utf-8"
    )
    for exercise in course.exercises:
        target = folder / "source" / assignment / f"{exercise.id}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(notebook(course, exercise), indent=1) + "\n", encoding="utf-8")
    return folder


def notebook(course: Course, exercise: ExerciseSpec) -> dict:
    """The nbgrader source notebook of one exercise (nbformat 4)."""
    source = course.reference_file(exercise).read_text("utf-8")
    cells = [
        _cell("markdown", f"{exercise.id}_tutorial", tutorial_markdown(course, exercise), locked=True),
        _cell("markdown", f"{exercise.id}_instructions", _instructions(exercise), locked=True),
        _cell(
            "code",
            f"{exercise.id}_solution",
            f"%%writefile {exercise.module}\n" + notebook_module(source),
            solution=True,
        ),
        _cell("code", f"{exercise.id}_tests", _test_source(exercise), locked=True, points=exercise.points),
    ]
    return {
        "cells": cells,
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    }


def notebook_module(source: str) -> str:
    """The reference module for a solution cell: nbgrader's markers kept, our `### STUB:` lines applied.

    nbgrader replaces a region with `raise NotImplementedError()`, which at module level would
    stop the import. So a module-level region becomes the stub's value, then a `try` whose body is
    the region: the released notebook raises inside the `try`, and the stub's value stands.
    """
    output, region = [], None
    for line in source.splitlines():
        marker = line.strip()
        if marker == BEGIN and not line.startswith((" ", "\t")):
            region = []
        elif marker == END and region is not None:
            output.extend(_module_level(region))
            region = None
        elif region is not None:
            region.append(line)
        else:
            output.append(line)
    return "\n".join(output) + "\n"


def _module_level(region: list[str]) -> list[str]:
    stub = [m.group(1) for line in region if (m := _STUB.match(line))]
    body = [f"    {line}" if line.strip() else "" for line in region if not _STUB.match(line)]
    return [
        *stub,
        "try:",
        f"    {BEGIN}",
        *body,
        f"    {END}",
        "except NotImplementedError:",
        "    pass  # not written yet: the value above stands",
    ]


def tutorial_markdown(course: Course, exercise: ExerciseSpec) -> str:
    """The exercise's title and its section of the course text (subsections included), quoted."""
    lines = read_sections(course.tutorial_path)[exercise.section].body.splitlines()
    excerpt = lines[:TUTORIAL_LINES]
    if len(lines) > TUTORIAL_LINES and "" in excerpt:  # cut between paragraphs, never inside a formula
        excerpt = excerpt[: len(excerpt) - excerpt[::-1].index("")]
    quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in excerpt)
    more = f"\n>\n> (continued in `{course.info.tutorial}`)" if len(lines) > TUTORIAL_LINES else ""
    return f"# {exercise.title}\n\nFrom the course text, *{exercise.section}*:\n\n{quoted}{more}\n"


def _instructions(exercise: ExerciseSpec) -> str:
    return (
        f"Write your code in the cell below, where it says `# YOUR CODE HERE`, and run the cell: it saves "
        f"`{exercise.module}`. Then run the test cell after it, which grades that file with the course's "
        f"tests ({exercise.points} points) and prints what failed and why."
    )


def _test_source(exercise: ExerciseSpec) -> str:
    return (
        f"# Grades {exercise.module} (written by the cell above) with the course's tests; the value is your "
        f"score.\nfrom grader.publish.notebooks import grade_here\n\ngrade_here({exercise.id!r})"
    )


def _cell(
    kind: str, grade_id: str, source: str, *, solution: bool = False, locked: bool = False, points: int | None = None
) -> dict:
    meta = {
        "grade": points is not None,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    cell = {
        "cell_type": kind,
        "id": grade_id.replace("_", "-"),
        "metadata": {"nbgrader": meta},
        "source": source.splitlines(keepends=True),
    }
    if kind == "code":
        cell |= {"execution_count": None, "outputs": []}
    return cell


# -- inside a notebook -------------------------------------------------------------------------------


def grade_here(exercise_id: str) -> float:
    """Grade the module the notebook wrote (in the current folder); print the report, return the points.

    The course is found from `GRADER_COURSE`, else in the nearest folder above holding course.toml.
    Nothing goes to stderr: nbgrader gives a test cell that writes there no points.
    """
    from grader import score
    from grader.engine.runner import GradeOptions
    from grader.publish.runtime import grade_release
    from grader.reports import text_report

    here = Path.cwd()
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        course = load_course(find_course(here))
        report = grade_release(course, here, GradeOptions(exercises=(exercise_id,), jobs=1))
    print(text_report.render(report), file=sys.stdout)
    return score.total_score(report)


def find_course(start: Path) -> Path:
    if os.environ.get(COURSE_ENV):
        return Path(os.environ[COURSE_ENV])
    for folder in (start, *start.parents):
        if (folder / COURSE_FILE).is_file():
            return folder
    raise FileNotFoundError(
        f"no {COURSE_FILE} in {start} or above: open the notebook inside the course folder, or set {COURSE_ENV}"
    )
