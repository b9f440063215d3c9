"""course.toml: the one description of a course, validated before anything runs.

Every path the engine uses comes from the `Course` built here (nbgrader's
`coursedir` idea), so commands never join paths of their own. A malformed file is
refused with a `CourseError` that names the key and, where it can be found, the
line: an instructor should never have to guess which of forty lines is wrong.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from grader.course.text import section_names

COURSE_FILE = "course.toml"


class CourseError(Exception):
    """The course itself is broken (as opposed to a submission)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CourseInfo(_Strict):
    name: str
    tutorial: str
    reference: str = "reference"
    exercises: str = "exercises"


class GradingSettings(_Strict):
    test_timeout: float = Field(20.0, gt=0)
    exercise_timeout: float = Field(120.0, gt=0)
    memory_mb: int = Field(3072, ge=256)
    max_output_kb: int = Field(16, ge=1)
    hypothesis_examples: int = Field(25, ge=1, le=10_000)
    hypothesis_seed: int = Field(0, ge=0)
    hidden_visibility: Literal["hidden", "after_due_date", "after_published", "visible"] = "after_due_date"


class ExerciseSpec(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    module: str = Field(pattern=r"^[a-z][a-z0-9_]*\.py$")
    points: int = Field(gt=0)
    section: str
    public: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()
    misconceptions: str | None = None  #: catalogue of known mistakes (hidden, like the hidden suites)

    @field_validator("forbidden")
    @classmethod
    def _dotted_names(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        for name in names:
            if not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_]\w*)+", name):
                raise ValueError(f"expected a dotted name such as 'torch.conv2d' (not {name!r})")
        return names

    @property
    def module_name(self) -> str:
        return self.module.removesuffix(".py")


class QuizSpec(_Strict):
    """A quiz: a bank of questions in a TOML file, graded with the exercises (see grader/quiz/)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    bank: str  #: the question bank, a TOML file in the course
    answers: str = "answers.toml"  #: where the student's answers live, in the submission
    mode: Literal["formative", "summative"] = "summative"
    attempts: int = Field(3, ge=1)  #: formative checks allowed per question


class AssignmentSpec(_Strict):
    """A named group of exercises and quizzes with a due date and a late policy."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    title: str
    items: tuple[str, ...] = Field(min_length=1)  #: exercise and quiz ids
    due: dt.datetime  #: a TOML date-time; without an offset it is UTC
    late_policy: Literal["none", "penalty", "refuse"] = "none"
    penalty_per_day: float = Field(0.0, ge=0, le=100)  #: percent of the score lost per started day late

    @field_validator("due")
    @classmethod
    def _aware(cls, due: dt.datetime) -> dt.datetime:
        return due if due.tzinfo else due.replace(tzinfo=dt.timezone.utc)


class _CourseFile(_Strict):
    course: CourseInfo
    grading: GradingSettings = GradingSettings()
    exercise: tuple[ExerciseSpec, ...] = Field(min_length=1)
    quiz: tuple[QuizSpec, ...] = ()
    assignment: tuple[AssignmentSpec, ...] = ()


@dataclasses.dataclass(frozen=True)
class Course:
    """A validated course, rooted at the folder that holds course.toml."""

    root: Path
    info: CourseInfo
    grading: GradingSettings
    exercises: tuple[ExerciseSpec, ...]
    quizzes: tuple[QuizSpec, ...] = ()
    assignments: tuple[AssignmentSpec, ...] = ()

    @property
    def reference_dir(self) -> Path:
        return self.root / self.info.reference

    @property
    def exercises_dir(self) -> Path:
        return self.root / self.info.exercises

    @property
    def tutorial_path(self) -> Path:
        return self.root / self.info.tutorial

    def reference_file(self, exercise: ExerciseSpec) -> Path:
        return self.reference_dir / exercise.module

    def suite_paths(self, exercise: ExerciseSpec, *, hidden: bool) -> list[Path]:
        names = exercise.public + (exercise.hidden if hidden else ())
        return [self.root / name for name in names]

    def has_hidden_suites(self, exercise: ExerciseSpec) -> bool:
        return any((self.root / name).exists() for name in exercise.hidden)

    def secret_paths(self) -> list[Path]:
        """What student code must never read: solutions, hidden suites (their folders), quiz banks."""
        paths = {self.reference_dir}
        for exercise in self.exercises:
            paths.update((self.root / name).parent for name in exercise.hidden)
            if exercise.misconceptions:
                paths.add((self.root / exercise.misconceptions).parent)
        paths.update(self.root / quiz.bank for quiz in self.quizzes)
        return sorted(p for p in paths if p.exists())

    def exercise(self, exercise_id: str) -> ExerciseSpec:
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        known = ", ".join(e.id for e in self.exercises)
        raise KeyError(f"no exercise {exercise_id!r} in the course (known: {known})")

    def assignment(self, assignment_id: str) -> AssignmentSpec:
        for assignment in self.assignments:
            if assignment.id == assignment_id:
                return assignment
        known = ", ".join(a.id for a in self.assignments) or "none"
        raise KeyError(f"no assignment {assignment_id!r} in the course (known: {known})")

    def with_grading(self, **changes: object) -> Course:
        """A copy with some grading settings replaced (tests use short time limits)."""
        grading = self.grading.model_copy(update=changes)
        return dataclasses.replace(self, grading=grading)


def find_course_file(start: Path | str) -> Path | None:
    """The course.toml in `start` or the nearest folder above it, as git finds .git; None if there is none."""
    start = Path(start).resolve()
    return next((folder / COURSE_FILE for folder in (start, *start.parents) if (folder / COURSE_FILE).is_file()), None)


def load_course(path: Path | str = COURSE_FILE) -> Course:
    """Read and validate course.toml; raise `CourseError` naming what is wrong.

    The default, a bare "course.toml", is looked for in the working directory and then in the
    folders above it, so `grader` works from inside exercises/ as git works inside a repository.
    """
    path = Path(path)
    if path == Path(COURSE_FILE) and not path.is_file():
        path = find_course_file(Path.cwd()) or path
    if path.is_dir():
        path = path / COURSE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CourseError(f"cannot read {path}: {error.strerror}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CourseError(f"{path}: TOML syntax error: {error}") from None
    try:
        parsed = _CourseFile.model_validate(raw)
    except ValidationError as error:
        raise CourseError(_describe_validation_error(path, text, raw, error)) from None
    course = Course(
        path.parent.resolve(), parsed.course, parsed.grading, parsed.exercise, parsed.quiz, parsed.assignment
    )
    problems = _consistency_problems(course, text)
    if problems:
        raise CourseError(f"{path}: " + "\n".join(problems))
    return course


def _describe_validation_error(path: Path, text: str, raw: dict, error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        location = problem["loc"]
        key = _dotted_key(location, raw)
        line = _line_of(text, location)
        where = f"{path}:{line}" if line else str(path)
        message = "unknown key" if problem["type"] == "extra_forbidden" else problem["msg"]
        lines.append(f"{where}: key '{key}': {message}")
    return "\n".join(lines)


def _dotted_key(location: tuple, raw: dict) -> str:
    """`('exercise', 1, 'points')` -> `exercise[conv].points`, naming the table by id."""
    parts: list[str] = []
    for i, part in enumerate(location):
        if isinstance(part, int):
            table = raw.get(location[i - 1], [])
            ident = table[part].get("id") if part < len(table) and isinstance(table[part], dict) else None
            parts[-1] += f"[{ident or part}]"
        else:
            parts.append(str(part))
    return ".".join(parts)


def _line_of(text: str, location: tuple) -> int | None:
    """The line of a key in the TOML source, found by walking its tables.

    tomllib keeps no positions, so follow the headers: `[name]` or the n-th
    `[[name]]`, then the first `key =` inside that table.
    """
    lines = text.splitlines()
    table, index, key = _split_location(location)
    start, end = 0, len(lines)
    if table is not None:
        headers = [
            n for n, line in enumerate(lines) if re.match(rf"\s*\[\[?\s*{re.escape(table)}\s*\]\]?\s*(#.*)?$", line)
        ]
        if index is not None and index < len(headers):
            headers = headers[index:]
        if not headers:
            return None
        start = headers[0]
        following = [n for n, line in enumerate(lines) if n > start and re.match(r"\s*\[", line)]
        end = following[0] if following else len(lines)
        if key is None:
            return start + 1
    for n in range(start, end):
        if key is not None and re.match(rf"\s*{re.escape(key)}\s*=", lines[n]):
            return n + 1
    return start + 1 if table is not None else None


def _split_location(location: tuple) -> tuple[str | None, int | None, str | None]:
    names = [part for part in location if isinstance(part, str)]
    index = next((part for part in location if isinstance(part, int)), None)
    if len(names) == 1:
        return (None, None, names[0]) if location == (names[0],) else (names[0], index, None)
    return names[0], index, names[1]


def _consistency_problems(course: Course, text: str) -> list[str]:
    """What a schema cannot see: duplicates, missing files, sections not in the tutorial."""
    problems = []
    if course.grading.exercise_timeout < course.grading.test_timeout:
        line = _line_of(text, ("grading", "exercise_timeout"))
        problems.append(f"line {line}: key 'grading.exercise_timeout' must be at least grading.test_timeout")
    if not course.tutorial_path.is_file():
        problems.append(f"key 'course.tutorial': no file {course.info.tutorial}")
        headings = None
    else:
        headings = section_names(course.tutorial_path)
    item_ids = {e.id for e in course.exercises} | {q.id for q in course.quizzes}
    for index, assignment in enumerate(course.assignments):
        line = _line_of(text, ("assignment", index, "items"))
        problems += [
            f"line {line}: key 'assignment[{assignment.id}].items': no exercise or quiz {item!r}"
            for item in assignment.items
            if item not in item_ids
        ]
        if assignment.late_policy == "penalty" and not assignment.penalty_per_day:
            line = _line_of(text, ("assignment", index, "late_policy"))
            problems.append(
                f"line {line}: key 'assignment[{assignment.id}].penalty_per_day' is needed "
                'with late_policy = "penalty"'
            )
    seen: set[str] = set()
    for index, exercise in enumerate(course.exercises):

        def where(key: str) -> str:
            return f"line {_line_of(text, ('exercise', index, key))}: key 'exercise[{exercise.id}].{key}'"

        if exercise.id in seen:
            problems.append(f"{where('id')}: duplicate exercise id {exercise.id!r}")
        seen.add(exercise.id)
        if (
            not course.reference_file(exercise).is_file()
            and not course.exercises_dir.joinpath(exercise.module).is_file()
        ):
            problems.append(
                f"{where('module')}: no {exercise.module} in {course.info.reference}/ or {course.info.exercises}/"
            )
        if headings is not None and exercise.section not in headings:
            problems.append(f"{where('section')}: {exercise.section!r} is not a section of {course.info.tutorial}")
        if not exercise.public and not exercise.hidden:
            problems.append(f"{where('public')}: the exercise has no test suite")
        for suite in exercise.public:
            if not (course.root / suite).is_file():
                problems.append(f"{where('public')}: no file {suite}")
    return problems
