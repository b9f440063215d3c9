"""course.toml written back from a `Course`: the student's (no hidden suites) and the sealed one.

Values come from the validated models, so a key added to the manifest later is
written without a change here; tomlkit writes them. Assignments travel when every
item they group is released.
"""

from __future__ import annotations

import tomlkit

from grader.course.manifest import Course

HEADER = "Written by `grader publish` from the instructor's course.toml: edit that one, not this."

#: Exercise keys that name hidden material: a student's course.toml leaves them out.
_HIDDEN_KEYS = ("hidden", "misconceptions")


def course_toml(course: Course, *, hidden: bool) -> str:
    """The course file of `course`; with `hidden=False`, no hidden suite or catalogue is named."""
    document = tomlkit.document()
    document.add(tomlkit.comment(HEADER))
    document["course"] = _plain(course.info.model_dump())
    document["grading"] = _plain(course.grading.model_dump())
    document["exercise"] = _tables(
        {k: v for k, v in e.model_dump().items() if hidden or k not in _HIDDEN_KEYS} for e in course.exercises
    )
    if course.quizzes:
        document["quiz"] = _tables(q.model_dump() for q in course.quizzes)
    released = {e.id for e in course.exercises} | {q.id for q in course.quizzes}
    assignments = [a.model_dump() for a in course.assignments if set(a.items) <= released]
    if assignments:
        document["assignment"] = _tables(assignments)
    return tomlkit.dumps(document)


def _tables(rows) -> tomlkit.items.AoT:
    array = tomlkit.aot()
    for fields in rows:
        table = tomlkit.table()
        table.update(_plain(fields))
        array.append(table)
    return array


def _plain(fields: dict) -> dict:
    """TOML has no null and reads lists back as lists: drop the unset, list the tuples."""
    return {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in fields.items()
        if value is not None and value != ()
    }
