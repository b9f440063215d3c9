"""Writing a report where the user asked, and nowhere else.

Every file the command line writes for a user (`--output`, reports) goes through
`write_report`:

- atomically: a temporary file in the target's folder, then a rename, so a reader never
  sees half a report and a process that held the old file open cannot change the new one;
- never through a symbolic link: a link at the target is refused, and one swapped in
  between the check and the write is replaced by the rename (which does not follow
  links), never written through;
- never over the course: not inside its reference, suites, exercises, tutorial,
  course.toml or git folder (a report's place is beside them, not in them).
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path


class UnsafeOutput(Exception):
    """The target is a symbolic link, or inside what the course must keep intact."""


def write_report(target: Path, text: str, *, protected: Iterable[Path] = ()) -> Path:
    """Write `text` to `target` atomically; refuse a link at the target and any place under `protected`."""
    target = Path(os.path.abspath(target))
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    real = folder.resolve() / target.name
    _refuse_link(target)
    for path in protected:
        path = Path(path).resolve()
        if real == path or real.is_relative_to(path):
            raise UnsafeOutput(f"{target}: inside the course's {path.name}, which a report must not overwrite")
    fd, temporary = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, real)  # rename(2): replaces a link at `real` with our file, never follows it
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    return real


def course_protected(course, *extra: Path) -> list[Path]:
    """What of a course no report may be written into: its sources, suites, solutions and history."""
    root = course.root
    paths = [root / "course.toml", root / ".git", course.reference_dir, course.exercises_dir, course.tutorial_path]
    for exercise in course.exercises:
        paths += [(root / suite).parent for suite in (*exercise.public, *exercise.hidden)]
        if exercise.misconceptions:
            paths.append((root / exercise.misconceptions).parent)
    paths += [root / quiz.bank for quiz in course.quizzes]
    return sorted({Path(p) for p in (*paths, *extra) if Path(p) != root})


def _refuse_link(target: Path) -> None:
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISLNK(mode):
        raise UnsafeOutput(
            f"{target} is a symbolic link: the grader does not write through links (remove it, or choose another file)"
        )
    if not stat.S_ISREG(mode):
        raise UnsafeOutput(f"{target} is not a regular file")
