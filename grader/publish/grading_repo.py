"""The instructor's grading repository: where the official grade is computed, on GitHub's runners.

`grader publish OUT --grading-repo DIR` writes the files of a separate, private
repository the instructor owns: the engine, the course as the instructor has it
(hidden suites, references, misconception catalogues, quiz banks with their
keys; in clear, because the repository is private and only its own workflow
reads it: encrypting with one of its secrets would protect nothing from anyone
who can run that workflow, and everyone else cannot read the repository), a
`roster.csv` to fill in, and `.github/workflows/grade-class.yml`, which on
demand (workflow_dispatch: assignment, chunk size) grades the class:

1. `grader grading chunks` reads the roster and emits the matrix;
2. each chunk job runs `.github/scripts/grade-chunk.sh`: per student, the
   hand-in push from GitHub's own record (`grader grading hand-in`, see
   grader/course/assignments.py), a clone at that commit, `grader grade
   --submission ... --submitted-at ...`, and the JSON reports as an artifact;
3. the final job downloads every chunk's reports, merges them with
   `grader import` into the gradebook and exports the CSV; optionally it posts
   each student's feedback page on their feedback pull request
   (`.github/scripts/post-feedback.sh`), hidden tests' details as
   `hidden_visibility` allows (`hidden_details_allowed`).

Students never run this workflow and never see these files.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import shutil
from pathlib import Path

from grader.classes.roster import COLUMNS, Roster, RosterEntry
from grader.course.assignments import deadline_for
from grader.course.manifest import Course
from grader.publish import coursefile
from grader.publish.classroom import torch_requirement
from grader.publish.files import engine_files, template

WORKFLOW_PATH = ".github/workflows/grade-class.yml"
SCRIPTS = {".github/scripts/grade-chunk.sh": "grade-chunk.sh", ".github/scripts/post-feedback.sh": "post-feedback.sh"}
ROSTER = "roster.csv"
DEFAULT_CHUNK_SIZE = 10  #: students per job: ten exercises' worth of grading each, well inside a job's 6 hours


class GradingRepoError(Exception):
    """The grading repository cannot be written, or a roster cannot be chunked (the message says why)."""


def write_repo(course: Course, folder: Path, *, force: bool = False) -> Path:
    """Write the grading repository of `course` (narrowed to what is released) into `folder`."""
    from grader.publish.release import sealed_course_files

    folder = Path(folder).resolve()
    present = [p for p in folder.iterdir() if p.name not in (".git", ROSTER)] if folder.is_dir() else []
    if present and not force:
        raise GradingRepoError(
            f"{folder} is not empty: write the grading repository into a new folder, or pass --force"
        )
    for path in present:
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    files: dict[str, bytes] = {name: source.read_bytes() for name, source in engine_files().items()}
    files.update({name: (course.root / name).read_bytes() for name in sealed_course_files(course)})
    files["course.toml"] = coursefile.course_toml(course, hidden=True).encode()
    files[WORKFLOW_PATH] = workflow(course).encode()
    for target, name in SCRIPTS.items():
        files[target] = template(name, exercises=course.info.exercises).encode()
    files[".gitignore"] = b"__pycache__/\n*.egg-info/\n.venv/\ngrades/\nreports/\n"
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    for target in SCRIPTS:
        (folder / target).chmod(0o755)
    if not (folder / ROSTER).is_file():  # the instructor's filled-in roster survives a new publish
        (folder / ROSTER).write_text(",".join(COLUMNS) + "\n", encoding="utf-8")
    return folder


def workflow(course: Course) -> str:
    minutes = 20 + math.ceil(len(course.exercises) * course.grading.exercise_timeout / 60)
    default = course.assignments[0].id if course.assignments else ""
    return template(
        "grade-class.yml",
        course=course.info.name,
        torch=torch_requirement(),
        roster=ROSTER,
        chunk_size=str(DEFAULT_CHUNK_SIZE),
        assignment=default,
        timeout=str(minutes * DEFAULT_CHUNK_SIZE),
    )


def chunks(roster: Roster, size: int) -> list[int]:
    """The chunk numbers of a roster cut into chunks of `size` students (the matrix)."""
    if size < 1:
        raise GradingRepoError(f"the chunk size must be at least 1 (not {size})")
    if not len(roster):
        raise GradingRepoError(f"the roster has no student: fill in {ROSTER} (columns {', '.join(COLUMNS)})")
    return list(range(math.ceil(len(roster) / size)))


def chunk(roster: Roster, number: int, size: int) -> list[RosterEntry]:
    """The students of chunk `number`, in roster order."""
    return list(roster.entries[number * size : (number + 1) * size])


def repository_of(entry: RosterEntry) -> str:
    """The student's `owner/name` repository (the roster's `repository` column)."""
    if "/" not in entry.repository:
        raise GradingRepoError(f"{entry.id}: the roster's repository must be owner/name (not {entry.repository!r})")
    return entry.repository


def matrix_json(numbers: list[int]) -> str:
    return json.dumps({"chunk": numbers}, separators=(",", ":"))


def hidden_details_allowed(course: Course, assignment: str | None, now: dt.datetime) -> bool:
    """Whether a feedback page posted now may show hidden tests' messages (course.toml's hidden_visibility)."""
    visibility = course.grading.hidden_visibility
    if visibility == "visible":
        return True
    if visibility == "after_due_date" and assignment:
        return now > deadline_for(course.assignment(assignment))
    return False  # "hidden"; "after_published" waits for the instructor, who can post again with details


@dataclasses.dataclass(frozen=True)
class HandIn:
    sha: str  #: the commit to grade ("HEAD": no push found, grade what the repository holds)
    at: str  #: ISO time it reached GitHub ("" when unknown: the clone's time is used)

    def line(self) -> str:
        return f"{self.sha}\t{self.at}"
