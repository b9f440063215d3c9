"""The class roster: who the students are, and how to recognise each one's submission.

One CSV file, one row per student, with a header naming the columns:

    id,name,email,github,repository,extension_days
    s001,Ada Lovelace,ada@example.edu,ada-l,cnn-deep-dive-ada-l,
    s002,Alan Turing,alan@example.edu,aturing,,2

- `id` (required, unique): the key the gradebook and every export use (an LMS's SIS id).
- `name`, `email`: shown in feedback pages and exports.
- `github`: the student's GitHub login (GitHub Classroom repositories end in `-<login>`).
- `repository`: the folder, zip stem or `owner/name` repository that holds the submission,
  where it is not the id or the login.
- `extension_days`: days added to every due date for this student (blank means none).

Every class command (`grade-all`, `import`, `review`, exports, the grading workflow) reads
the roster through `load_roster`, and matches a submission to a student with `Roster.find`.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import math
from pathlib import Path

from grader.classes.submissions import Student

COLUMNS = ("id", "name", "email", "github", "repository", "extension_days")
REQUIRED = ("id",)


class RosterError(ValueError):
    """A roster that cannot be used: the message names the file and line."""


@dataclasses.dataclass(frozen=True)
class RosterEntry:
    id: str
    name: str = ""
    email: str = ""
    github: str = ""
    repository: str = ""
    extension_days: float = 0.0

    @property
    def extension(self) -> dt.timedelta:
        return dt.timedelta(days=self.extension_days)

    def keys(self) -> set[str]:
        """Every name a submission of this student may carry, lower-cased."""
        names = {self.id, self.email, self.github, self.repository, self.repository.rpartition("/")[2]}
        return {name.lower() for name in names if name}


@dataclasses.dataclass(frozen=True)
class Roster:
    entries: tuple[RosterEntry, ...]

    def find(self, name: str) -> RosterEntry | None:
        """The student whose id, e-mail, login or repository `name` is, or ends in as `-<login>`."""
        key = name.lower().removesuffix(".zip")
        exact = [entry for entry in self.entries if key in entry.keys()]
        if exact:
            return exact[0]
        suffixed = [entry for entry in self.entries if entry.github and key.endswith("-" + entry.github.lower())]
        return suffixed[0] if len(suffixed) == 1 else None

    def identify(self, student: Student, source: str = "") -> Student | None:
        """The roster's student for a submission found as `student` (folder or zip name, Gradescope's
        sid or e-mail) in `source`: the roster's id, with its name and e-mail; None if nobody matches."""
        names = [student.id, student.email, Path(source).name if source else ""]
        entry = next((found for found in map(self.find, filter(None, names)) if found is not None), None)
        if entry is None:
            return None
        return Student(entry.id, entry.name or student.name, entry.email or student.email)

    def student(self, student_id: str) -> Student:
        """The roster's name and e-mail for a student id (blank when not on the roster)."""
        entry = self.entry(student_id)
        return Student(student_id, entry.name, entry.email) if entry else Student(student_id)

    def entry(self, student_id: str) -> RosterEntry | None:
        return next((entry for entry in self.entries if entry.id == student_id), None)

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


def load_roster(path: Path) -> Roster:
    """Read and check a roster CSV; a bad file raises `RosterError` naming the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise RosterError(f"{path}: cannot read the roster ({error})") from None
    reader = csv.DictReader(text.splitlines())
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    _check_header(path, header)
    reader.fieldnames = header
    entries: list[RosterEntry] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        entry = _entry(path, line, row)
        if entry.id in seen:
            raise RosterError(f"{path}:{line}: id {entry.id!r} is already on line {seen[entry.id]}")
        seen[entry.id] = line
        entries.append(entry)
    return Roster(tuple(entries))


def _check_header(path: Path, header: list[str]) -> None:
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    if missing or unknown:
        problems = [f"missing column {name!r}" for name in missing] + [f"unknown column {name!r}" for name in unknown]
        raise RosterError(f"{path}:1: {'; '.join(problems)} (the columns are {', '.join(COLUMNS)})")


def _entry(path: Path, line: int, row: dict[str, str | None]) -> RosterEntry:
    values = {name: (row.get(name) or "").strip() for name in COLUMNS}
    if not values["id"]:
        raise RosterError(f"{path}:{line}: the id is empty")
    return RosterEntry(
        id=values["id"],
        name=values["name"],
        email=values["email"],
        github=values["github"].lstrip("@"),
        repository=values["repository"],
        extension_days=_days(path, line, values["extension_days"]),
    )


def _days(path: Path, line: int, text: str) -> float:
    if not text:
        return 0.0
    try:
        days = float(text)
    except ValueError:
        raise RosterError(f"{path}:{line}: extension_days must be a number of days (not {text!r})") from None
    if not math.isfinite(days) or days < 0:
        raise RosterError(f"{path}:{line}: extension_days must be zero or more (not {text!r})")
    return days
