"""What must never be in a release, and the scan that proves it is not.

A secret is a line: a line of a solution region of reference/, a line only
the hidden suites or the misconception catalogues have, or a quiz bank's
`answer =` or `compute =` line. A secret is also a file: anything under
reference/ or a hidden suite's folder, a sealed bundle, a key file; a student
release holds none of them, encrypted or not (`forbidden_paths`). Lines are compared with their whitespace
collapsed, so re-indenting a solution does not hide it. Short lines
(`return out`), imports, and lines that are public anyway (the stubs' provided
code, the tutorial, the engine, which every release carries) are not secrets:
they would match by accident.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path, PurePosixPath

from grader.course.manifest import Course
from grader.course.stubs import BEGIN, END, expected_stubs
from grader.publish.files import engine_package, read_text, walk

MIN_SOLUTION_LINE = 16  #: shorter solution lines are too common to prove anything
MIN_HIDDEN_LINE = 24
_IMPORT = re.compile(r"(from \S+ )?import \S")
_QUIZ_KEY = re.compile(r"(answer|compute) ?=")  #: a bank's key lines: never in a release, whatever their length


@dataclasses.dataclass(frozen=True)
class Leak:
    path: str  #: the release file
    line: int
    origin: str  #: where the secret comes from, e.g. "reference/conv.py:57 (solution)"

    def describe(self) -> str:
        if self.line == 0:
            return f"{self.path} is {self.origin}"
        return f"{self.path}:{self.line} holds a line of {self.origin}"


def normalize(line: str) -> str:
    return " ".join(line.split())


def solution_regions(source: str) -> list[tuple[int, str]]:
    """(line number, text) of every line inside a solution region, markers and STUB lines excluded."""
    lines, inside = [], False
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker == BEGIN:
            inside = True
        elif marker == END:
            inside = False
        elif inside and not marker.startswith("### STUB:"):
            lines.append((number, line))
    return lines


def course_secrets(course: Course) -> dict[str, str]:
    """Normalized secret line -> its origin, for the whole course (every exercise, not only the released)."""
    public = _public_lines(course)
    suites = {
        normalize(line)
        for e in course.exercises
        for name in e.public
        if (course.root / name).is_file()
        for line in (course.root / name).read_text("utf-8").splitlines()
    }

    def secret(key: str, least: int, *, also_public: set[str] = frozenset()) -> bool:
        return len(key) >= least and key not in public and key not in also_public and not _IMPORT.match(key)

    secrets: dict[str, str] = {}
    for relative in walk(course.reference_dir):
        text = read_text(course.reference_dir / relative)
        if text is None or relative.suffix != ".py":
            continue
        name = f"{course.info.reference}/{relative.as_posix()}"
        for number, line in solution_regions(text):
            key = normalize(line)
            if secret(key, MIN_SOLUTION_LINE):
                secrets.setdefault(key, f"{name}:{number} (solution)")
    hidden = [(s, "hidden suite") for s in sorted({s for e in course.exercises for s in e.hidden})]
    hidden += [(e.misconceptions, "misconception catalogue") for e in course.exercises if e.misconceptions]
    for suite, kind in hidden:
        text = read_text(course.root / suite) if (course.root / suite).is_file() else None
        for number, line in enumerate((text or "").splitlines(), start=1):
            key = normalize(line)
            if secret(key, MIN_HIDDEN_LINE, also_public=suites):  # a line both kinds of suite share is public
                secrets.setdefault(key, f"{suite}:{number} ({kind})")
    for quiz in course.quizzes:
        text = read_text(course.root / quiz.bank) if (course.root / quiz.bank).is_file() else None
        for number, line in enumerate((text or "").splitlines(), start=1):
            key = normalize(line)
            if _QUIZ_KEY.match(key) and key not in public:
                secrets.setdefault(key, f"{quiz.bank}:{number} (quiz key)")
    return secrets


#: Files a student release never holds, whatever their content: a sealed bundle or a key opens everything.
FORBIDDEN_NAMES = ("*.bundle", "*.key", "bundle.key")


def forbidden_paths(root: Path, course: Course) -> list[Leak]:
    """Files of the release that are secrets by what they are: references, hidden suites, bundles, keys."""
    folders = {course.info.reference} | {PurePosixPath(s).parent.as_posix() for e in course.exercises for s in e.hidden}
    folders |= {PurePosixPath(e.misconceptions).parent.as_posix() for e in course.exercises if e.misconceptions}
    leaks = []
    for relative in walk(root):
        path = PurePosixPath(relative.as_posix())
        inside = next((f for f in sorted(folders) if f not in (".", "") and path.is_relative_to(f)), None)
        if inside is not None:
            leaks.append(Leak(path.as_posix(), 0, f"{inside}/ (never released)"))
        elif any(path.match(pattern) for pattern in FORBIDDEN_NAMES):
            leaks.append(Leak(path.as_posix(), 0, "a sealed bundle or a key (never released)"))
    return leaks


def scan(root: Path, secrets: dict[str, str]) -> list[Leak]:
    """Every line of every text file under `root` that is a secret."""
    leaks = []
    for relative in walk(root):
        text = read_text(root / relative)
        for number, line in enumerate((text or "").splitlines(), start=1):
            key = normalize(line)
            if key in secrets:
                leaks.append(Leak(relative.as_posix(), number, secrets[key]))
    return leaks


def _public_lines(course: Course) -> set[str]:
    """Lines published on purpose: stubs (provided code, docstrings), the tutorial, the engine.

    Not the public suites: a solution line quoted in a public test is a leak like any other.
    """
    texts = list(expected_stubs(course).values())
    engine = engine_package()
    texts.extend(text for relative in walk(engine) if (text := read_text(engine / relative)) is not None)
    if course.tutorial_path.is_file():
        texts.append(course.tutorial_path.read_text("utf-8"))
    return {normalize(line) for text in texts for line in text.splitlines()}
