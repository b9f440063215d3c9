"""What an instructor reads to grade a manual item: the text the student handed in for it, in full.

A manual test (`@pytest.mark.manual`) reports only a summary ("submitted: 236 words"), within
the line budget every test message keeps. `grader review` shows the whole text instead, read
from the submission itself and never run: the test function names what it reads as string
constants (`ask(student, "notes", "DESIGN_NOTES")`), and each such name that the student's
module assigns at module level is shown with its value (a string literal as its text, anything
else as its source).
"""

from __future__ import annotations

import ast
import tempfile
from pathlib import Path

from grader import score
from grader.classes.gradebook import Record
from grader.classes.submissions import Student, Submission, SubmissionError, prepare
from grader.course.manifest import Course, ExerciseSpec
from grader.results import TestResult


def items(
    records: list[Record], exercises: set[str], *, students: tuple[str, ...] | list[str] = ()
) -> list[tuple[Record, TestResult]]:
    """Each graded student's manual items (graded by hand yet or not) in `exercises`, student by student."""
    return [
        (record, test)
        for record in records
        if record.report is not None and (not students or record.student.id in students)
        for exercise in record.report.exercises
        if exercise.id in exercises
        for test in exercise.tests
        if score.is_manual(test)
    ]


def read_names(course: Course, test_id: str) -> list[str]:
    """The identifiers a test function names as string constants, in order, each once."""
    path, _, function = test_id.partition("::")
    suite = course.root / path
    if not suite.is_file():
        return []
    tree = ast.parse(suite.read_text(encoding="utf-8"))
    found = next(
        (node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == function.split("[")[0]),
        None,
    )
    if found is None:
        return []
    names = [
        node.value
        for node in ast.walk(found)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier()
    ]
    return list(dict.fromkeys(names))


def module_values(source: str, names: list[str]) -> dict[str, str]:
    """The module-level assignments of `names` in a module's source: a string's text, else the expression's source."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    values: dict[str, str] = {}
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        value = getattr(node, "value", None)
        for target in targets:
            if isinstance(target, ast.Name) and target.id in names and value is not None:
                literal = value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None
                values[target.id] = literal if literal is not None else (ast.get_source_segment(source, value) or "")
    return {name: values[name] for name in names if name in values}


def submitted_texts(course: Course, exercise: ExerciseSpec, test_id: str, source: str) -> dict[str, str] | None:
    """What the student handed in for a manual item, by name; None when the submission's files are not at hand."""
    path = Path(source)
    if not source or not (path.is_dir() or (path.is_file() and path.suffix.lower() == ".zip")):
        return None
    layout = "zip" if path.is_file() else "folder"
    with tempfile.TemporaryDirectory(prefix="grader-review-") as scratch:
        try:
            prepared = prepare(Submission(Student("review"), path, layout), Path(scratch), course)
        except SubmissionError:
            return None
        module = prepared.folder / exercise.module
        if not module.is_file():
            return {}
        text = module.read_text(encoding="utf-8", errors="replace")
    return module_values(text, read_names(course, test_id))
