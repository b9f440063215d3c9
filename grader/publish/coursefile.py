"""course.toml written back from a `Course`: the student's (no hidden suites) and the sealed one.

Values come from the validated models, so a key added to the manifest later is
written without a change here. The TOML written is the small subset course.toml
uses: strings, numbers, booleans and lists of strings.
"""

from __future__ import annotations

import json
from grader.manifest import Course

HEADER = "# Written by `grader publish` from the instructor's course.toml: edit that one, not this.\n"


def course_toml(course: Course, *, hidden: bool) -> str:
    """The course file of `course`; with `hidden=False`, no hidden suite is named."""
    parts = [HEADER, _table("[course]", course.info.model_dump()), _table("[grading]", course.grading.model_dump())]
    for exercise in course.exercises:
        fields = exercise.model_dump()
        if not hidden:
            fields.pop("hidden")
        parts.append(_table("[[exercise]]", fields))
    parts.extend(_table("[[quiz]]", quiz.model_dump()) for quiz in course.quizzes)
    return "\n".join(parts)


def _table(header: str, fields: dict) -> str:
    lines = [header]
    for key, value in fields.items():
        if value is None or value == ():
            continue
        lines.append(f"{key} = {_value(key, value)}")
    return "\n".join(lines) + "\n"


def _value(key: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)   # a JSON string is a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(key, item) for item in value) + "]"
    raise TypeError(f"course.toml key {key!r}: cannot write a {type(value).__name__} ({value!r})")
