"""A class's submissions as they arrive: finding them, unpacking them, fingerprinting their content.

Three layouts are recognised in the folder an instructor points at, entry by entry:

- one folder per student (`alice/conv.py`), or per repository as GitHub Classroom's
  `gh classroom clone student-repos` writes them (`<slug>-submissions/<slug>-<login>/`, a
  clone of the course template, the modules in `exercises/`);
- one zip per student (`alice.zip`), as LMS downloads and Gradescope bundles produce;
- Gradescope's "Export Submissions" folder: `submission_<id>/` folders named in
  `submission_metadata.yml`, which gives each submitter's name, email and student id.

Whatever the layout, `prepare` copies the files that grading reads into a scratch folder
(student code never runs in, nor writes to, the instructor's copy) and hashes that copy, so a
re-run can tell an unchanged submission from a changed one. A symbolic link refuses the whole
submission, naming the file (`copying.copy_submission`, the copy every grading path shares).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import Literal

import yaml

from grader.course.assignments import submission_time
from grader.course.manifest import Course
from grader.engine.copying import SKIPPED, RefusedSubmission, copy_submission, link_refusal

Layout = Literal["folder", "repository", "zip", "gradescope"]

_SKIPPED = SKIPPED  #: never part of a submission's content: version control, caches, editor and OS debris
_MAX_BYTES = 50 * 1024 * 1024  #: a submission larger than this is refused (zip bombs, stray data sets)
_MAX_FILES = 5000
_MAX_DEPTH = 4  #: how deep to look for the course's modules inside a submission


class SubmissionError(Exception):
    """A submission that cannot be read at all (a corrupt or hostile zip, too large)."""


@dataclasses.dataclass(frozen=True)
class Student:
    id: str  #: the key in the gradebook: login, student id or folder name
    name: str = ""
    email: str = ""


@dataclasses.dataclass(frozen=True)
class Submission:
    student: Student
    source: Path  #: the folder or zip as found in the class folder
    layout: Layout
    created_at: dt.datetime | None = None  #: when the platform received it, where it says (Gradescope)


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A submission copied into scratch space, ready to grade."""

    folder: Path  #: the folder holding the student's modules (inside scratch)
    content_hash: str  #: sha256 over the relative paths and bytes of every file copied


def discover(root: Path) -> list[Submission]:
    """Every submission in the class folder `root`, sorted by student id."""
    root = Path(root)
    if not root.is_dir():
        raise SubmissionError(f"{root} is not a folder")
    exports = [d for d in (root, *sorted(root.iterdir())) if (d / "submission_metadata.yml").is_file()]
    # Gradescope's zip unpacks to one folder (`assignment_<id>_export/`): look one level down too.
    found = _gradescope(exports[0], exports[0] / "submission_metadata.yml") if exports else _entries(root)
    sources: dict[str, set[Path]] = {}
    for submission in found:
        sources.setdefault(submission.student.id, set()).add(submission.source)
    twice = {student: paths for student, paths in sources.items() if len(paths) > 1}
    if twice:
        student, paths = sorted(twice.items())[0]
        raise SubmissionError(
            f"{len(twice)} students have two submissions, e.g. {student}: "
            f"{', '.join(sorted(p.name for p in paths))}; keep one of each"
        )
    return sorted(found, key=lambda s: (s.student.id, str(s.source)))


def _entries(root: Path) -> list[Submission]:
    prefix = root.name.removesuffix("-submissions") + "-" if root.name.endswith("-submissions") else ""
    found = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.name in _SKIPPED:
            continue
        if entry.is_dir() and not entry.is_symlink():
            student = entry.name.removeprefix(prefix) if prefix and entry.name != prefix else entry.name
            layout: Layout = "repository" if (entry / ".git").exists() else "folder"
            found.append(Submission(Student(student), entry, layout))
        elif entry.is_file() and entry.suffix.lower() == ".zip":
            found.append(Submission(Student(entry.stem), entry, "zip"))
    return found


def _gradescope(root: Path, metadata: Path) -> list[Submission]:
    """Gradescope's export: `submission_<id>:` keys, each with `:submitters:` (`:name:`, `:sid:`, `:email:`)."""
    try:
        table = yaml.safe_load(metadata.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise SubmissionError(f"{metadata}: not valid YAML: {error}") from None
    found = []
    for folder, entry in table.items():
        entry = entry or {}
        created_at = _timestamp(entry.get(":created_at"))
        for person in entry.get(":submitters") or [{}]:
            name, email = str(person.get(":name") or ""), str(person.get(":email") or "")
            ident = str(person.get(":sid") or email or name or folder)
            found.append(Submission(Student(ident, name, email), root / str(folder), "gradescope", created_at))
    return found


def _timestamp(value: object) -> dt.datetime | None:
    """Gradescope writes `2026-11-20 10:00:00.123456789 -08:00`; YAML may or may not have parsed it."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d+))?\s*(Z|[+-]\d\d:?\d\d)?", value.strip())
    if match is None:
        return None
    date, time_, fraction, zone = match.groups()
    zone = "+00:00" if zone in (None, "Z") else zone
    return dt.datetime.fromisoformat(f"{date}T{time_}.{(fraction or '0')[:6].ljust(6, '0')}{zone}")


def handed_in(submission: Submission) -> dt.datetime | None:
    """When the student handed the work in, where the layout says: Gradescope's time, a repository's last commit."""
    if submission.created_at is not None:
        return submission.created_at
    if submission.layout == "repository":
        return submission_time(submission.source)
    return None


def prepare(submission: Submission, scratch: Path, course: Course) -> Prepared:
    """Copy (or unzip) the submission into `scratch` and hash what was copied."""
    unpacked = scratch / "submission"
    if submission.layout == "zip":
        _unzip(submission.source, unpacked)
    elif submission.source.is_dir():
        _copy_tree(submission.source, unpacked)
    else:
        raise SubmissionError(f"{submission.source} is missing")
    folder = locate_modules(unpacked, course)
    return Prepared(folder, content_hash(folder))


def module_names(course: Course) -> set[str]:
    """The files grading reads from a submission: each exercise's module, each quiz's answers."""
    return {e.module for e in course.exercises} | {q.answers for q in course.quizzes}


def locate_modules(tree: Path, course: Course) -> Path:
    """The folder of `tree` holding most of the course's modules (the shallowest on a tie).

    A repository keeps them in `exercises/`, a zip often wraps them in one folder; with none
    found, the top folder is graded, and every exercise reports its module as missing.
    """
    wanted = module_names(course)
    best, best_count = tree, 0
    for depth in range(_MAX_DEPTH + 1):
        for folder in sorted(_folders_at(tree, depth)):
            count = sum((folder / name).is_file() for name in wanted)
            if count > best_count:
                best, best_count = folder, count
    return best


def _folders_at(tree: Path, depth: int) -> list[Path]:
    level = [tree]
    for _ in range(depth):
        level = [
            d
            for parent in level
            for d in parent.iterdir()
            if d.is_dir() and not d.is_symlink() and d.name not in _SKIPPED and not d.name.startswith(".")
        ]
    return level


def content_hash(folder: Path) -> str:
    """sha256 over every file below `folder`: relative path and bytes, in a fixed order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _copy_tree(source: Path, target: Path) -> None:
    """Copy regular files only; a symbolic link (it could point at anything on the grading machine) refuses it all."""
    budget = _Budget(source)
    try:
        copy_submission(source, target, take=lambda name, size: budget.take(size))
    except RefusedSubmission as error:
        raise SubmissionError(f"{source.name}: {error}") from None


def _unzip(archive: Path, target: Path) -> None:
    """Extract a student's zip, refusing absolute paths, `..`, links and archives over the size limit."""
    budget = _Budget(archive)
    try:
        with zipfile.ZipFile(archive) as bundle:
            for member in bundle.infolist():
                parts = PurePosixPath(member.filename.replace("\\", "/")).parts
                if member.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                    raise SubmissionError(f"{archive.name}: refusing the unsafe path {member.filename!r}")
                if member.is_dir() or any(part in _SKIPPED for part in parts):
                    continue
                if _is_link(member):
                    raise SubmissionError(f"{archive.name}: {link_refusal(member.filename)}")
                budget.take(member.file_size)
                destination = target.joinpath(*parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(member) as stream, destination.open("wb") as out:
                    shutil.copyfileobj(stream, out)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, ValueError) as error:
        raise SubmissionError(f"{archive.name} is not a readable zip: {error}") from None
    target.mkdir(parents=True, exist_ok=True)


def _is_link(member: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(member.external_attr >> 16)


class _Budget:
    """Counts files and bytes taken from one submission against the limits."""

    def __init__(self, source: Path):
        self.source, self.files, self.bytes = source, 0, 0

    def take(self, size: int) -> None:
        self.files += 1
        self.bytes += size
        if self.bytes > _MAX_BYTES or self.files > _MAX_FILES:
            raise SubmissionError(
                f"{self.source.name} is larger than a submission may be ({_MAX_FILES} files, {_MAX_BYTES // 2**20} MB)"
            )
