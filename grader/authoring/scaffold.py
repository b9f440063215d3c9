"""`grader new exercise NAME`: a new exercise from templates, without touching grader/.

Writes a reference module (a worked example between solution markers, CS231n-style
docstring), its generated stub, a public suite, a hidden suite (hypothesis strategy,
reference comparison, an independent oracle, points), an empty misconception
catalogue, and appends the exercise's table to course.toml, last, so that
course.toml never names a file that does not exist yet. The new exercise passes
`grader check` as written: the instructor replaces the example and keeps it passing.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from string import Template

from grader.course.manifest import COURSE_FILE, Course, CourseError, load_course
from grader.course.stubs import strip_solutions
from grader.course.text import section_names

TEMPLATES = Path(__file__).parents[1] / "templates" / "scaffold"
#: Points the template's tests take besides the two shared ones: the public test and "input unchanged".
_FIXED_POINTS = 2


class ScaffoldError(Exception):
    """The exercise cannot be created as asked (the message says why)."""


def new_exercise(course: Course, name: str, *, section: str, title: str | None = None, points: int = 10) -> list[Path]:
    """Write the new exercise's files and course.toml table; return what was written, relative to the course."""
    _validate(course, name, section, points)
    public_dir, hidden_dir = _suite_folders(course)
    paths = {
        "reference": course.reference_dir / f"{name}.py",
        "stub": course.exercises_dir / f"{name}.py",
        "public": public_dir / f"test_{name}.py",
        "hidden": hidden_dir / f"test_{name}.py",
        "misconceptions": hidden_dir / "misconceptions" / f"{name}.py",
    }
    existing = [str(p.relative_to(course.root)) for p in paths.values() if p.exists()]
    if existing:
        raise ScaffoldError(f"these files exist already: {', '.join(existing)}")
    oracle = (points - _FIXED_POINTS) // 2
    values = {
        "name": name,
        "title": title or name.replace("_", " ").capitalize(),
        "section": section,
        "points": str(points),
        "points_oracle": str(oracle),
        "points_reference": str(points - _FIXED_POINTS - oracle),
    }
    values |= {key: str(path.relative_to(course.root)) for key, path in paths.items()}
    values |= {"title_toml": json.dumps(values["title"]), "section_toml": json.dumps(section)}
    reference = _render("reference.py.tmpl", values)
    files = {
        paths["reference"]: reference,
        paths["stub"]: strip_solutions(reference, str(paths["reference"].relative_to(course.root))),
        paths["public"]: _render("public.py.tmpl", values),
        paths["hidden"]: _render("hidden.py.tmpl", values),
        paths["misconceptions"]: _render("misconceptions.py.tmpl", values),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    course_file = course.root / COURSE_FILE
    with open(course_file, "a", encoding="utf-8") as stream:  # appended, never rewritten
        stream.write(_render("exercise.toml.tmpl", values))
    try:
        load_course(course_file)
    except CourseError as error:
        raise ScaffoldError(f"course.toml does not load with the new table: {error}") from None
    return [p.relative_to(course.root) for p in files] + [Path(COURSE_FILE)]


def _validate(course: Course, name: str, section: str, points: int) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or name.startswith("test"):
        raise ScaffoldError(
            f"the name must be lower case letters, digits and underscores, starting with a "
            f"letter, and not 'test...' (not {name!r})"
        )
    taken = (
        {e.id for e in course.exercises} | {q.id for q in course.quizzes} | {e.module_name for e in course.exercises}
    )
    if name in taken:
        raise ScaffoldError(f"the course has an exercise or quiz named {name!r} already")
    if points < _FIXED_POINTS + 2:
        raise ScaffoldError(f"an exercise from the template needs at least {_FIXED_POINTS + 2} points (not {points})")
    headings = sorted(section_names(course.tutorial_path))
    if section not in headings:
        close = difflib.get_close_matches(section, headings, n=3)
        suggestion = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise ScaffoldError(f"{section!r} is not a section of {course.info.tutorial}{suggestion}")


def _suite_folders(course: Course) -> tuple[Path, Path]:
    """Where the course keeps its suites: beside the first exercise's, else tests/public and tests/hidden."""
    public = next((course.root / e.public[0] for e in course.exercises if e.public), None)
    hidden = next((course.root / e.hidden[0] for e in course.exercises if e.hidden), None)
    return (
        public.parent if public else course.root / "tests" / "public",
        hidden.parent if hidden else course.root / "tests" / "hidden",
    )


def _render(template: str, values: dict[str, str]) -> str:
    return Template((TEMPLATES / template).read_text(encoding="utf-8")).substitute(values)
