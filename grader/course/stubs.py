"""One source for solution and stub: exercises/ is generated from reference/.

Each region between `### BEGIN SOLUTION` and `### END SOLUTION` (nbgrader's
markers) becomes `raise NotImplementedError`, at the region's indentation.
A region may say what its stub should be instead, with lines of the form
`### STUB: code` (needed at module level, where a `raise` would break import).
Everything else — signatures, docstrings, provided helpers — is kept.
"""

from __future__ import annotations

import re
from pathlib import Path

from grader.course.manifest import Course, CourseError

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_STUB = re.compile(r"^(\s*)### STUB: ?(.*)$")


def strip_solutions(source: str, filename: str = "<source>") -> str:
    """The stub for a reference module's source."""
    output: list[str] = []
    region_start: int | None = None
    region: list[str] = []
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if region_start is not None:
                raise CourseError(f"{filename}:{number}: {BEGIN} inside the region opened at line {region_start}")
            region_start, region = number, [line]
        elif marker == END:
            if region_start is None:
                raise CourseError(f"{filename}:{number}: {END} without a {BEGIN}")
            output.extend(_stub_for(region, filename, region_start))
            region_start = None
        elif region_start is not None:
            region.append(line)
        else:
            output.append(line)
    if region_start is not None:
        raise CourseError(f"{filename}:{region_start}: {BEGIN} is never closed by {END}")
    return "\n".join(output) + "\n"


def _stub_for(region: list[str], filename: str, line: int) -> list[str]:
    indent = region[0][: len(region[0]) - len(region[0].lstrip())]
    stub_lines = [indent + match.group(2) for text in region[1:] if (match := _STUB.match(text))]
    if stub_lines:
        return stub_lines
    if not indent:
        raise CourseError(f"{filename}:{line}: a module-level solution region needs '### STUB: ...' lines")
    return [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError"]


def expected_stubs(course: Course) -> dict[Path, str]:
    """Every stub file the course's exercises/ should hold, with its content."""
    stubs = {}
    for exercise in course.exercises:
        source_path = course.reference_file(exercise)
        if source_path.is_file():
            relative = source_path.relative_to(course.root)
            stubs[course.exercises_dir / exercise.module] = strip_solutions(
                source_path.read_text("utf-8"), str(relative)
            )
    return stubs


def stale_stubs(course: Course) -> list[Path]:
    """Stubs in exercises/ that differ from what reference/ generates."""
    return [
        path for path, text in expected_stubs(course).items() if not path.is_file() or path.read_text("utf-8") != text
    ]


def write_stubs(course: Course) -> list[Path]:
    """Regenerate exercises/ from reference/; return the files that changed."""
    changed = stale_stubs(course)
    stubs = expected_stubs(course)
    for path in changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(stubs[path], encoding="utf-8")
    return changed
