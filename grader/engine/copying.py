"""The one way a submission's files are copied: regular files only, and a symbolic link is refused.

`grader grade` (inside the jail, for each student process), `grader grade-all` (`submissions.prepare`)
and the Gradescope runner all copy through `copy_submission`. A link in a submission could point
anywhere on the grading machine (`/proc/self/cwd/reference/conv.py`), so it is never followed nor
silently dropped: the submission is refused with a message naming the file. The walk goes through
directory file descriptors with O_NOFOLLOW, so a link swapped in during the copy is refused too.
Standard library only: the zygote imports this module.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

#: Never part of a submission's content: version control, caches, editor and OS debris.
SKIPPED = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".ipynb_checkpoints",
        ".pytest_cache",
        ".hypothesis",
        "__MACOSX",
        ".DS_Store",
        ".venv",
        "venv",
        "node_modules",
    }
)


class RefusedSubmission(ValueError):
    """The submission holds something other than folders and regular files (a link, a device)."""


def link_refusal(name: str) -> str:
    """What a student reads when a submission holds a symbolic link."""
    return (
        f"{name} is a symbolic link: a submission must be made of regular files only "
        f"(a link could point at any file of the grading machine); replace it by the file itself"
    )


def copy_submission(
    source: Path | str | int,
    target: Path,
    *,
    skipped: frozenset[str] = SKIPPED,
    take: Callable[[str, int], None] | None = None,
) -> None:
    """Copy the regular files below `source` (a folder, or an open folder descriptor) into `target`.

    Names in `skipped` are left out wherever they are; `take(name, size)` is told of each file
    before it is copied (a budget may raise there). Raises `RefusedSubmission` for a link or any
    other non-regular file, naming it relative to `source`.
    """
    if isinstance(source, int):
        top = os.dup(source)
    else:
        try:
            top = os.open(source, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            if os.path.islink(source):
                raise RefusedSubmission(link_refusal(Path(source).name)) from None
            raise
    try:
        Path(target).mkdir(parents=True, exist_ok=True)
        _copy_folder(top, Path(target), "", skipped, take)
    finally:
        os.close(top)


def _copy_folder(folder: int, target: Path, prefix: str, skipped: frozenset[str], take) -> None:
    with os.scandir(folder) as entries:
        listed = sorted(entries, key=lambda e: e.name)
    for entry in listed:
        if entry.name in skipped:
            continue
        name = prefix + entry.name
        if entry.is_symlink():
            raise RefusedSubmission(link_refusal(name))
        if entry.is_dir(follow_symlinks=False):
            inner = os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=folder)
            try:
                (target / entry.name).mkdir(exist_ok=True)
                _copy_folder(inner, target / entry.name, name + "/", skipped, take)
            finally:
                os.close(inner)
        elif entry.is_file(follow_symlinks=False):
            _copy_file(folder, entry.name, target / entry.name, name, take)
        else:
            raise RefusedSubmission(
                f"{name} is not a regular file (a device, socket or pipe): "
                f"a submission must be made of regular files only"
            )


def _copy_file(folder: int, name: str, target: Path, shown: str, take) -> None:
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    except OSError as error:
        if error.errno == 40:  # ELOOP: it became a link after the listing
            raise RefusedSubmission(link_refusal(shown)) from None
        raise
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise RefusedSubmission(f"{shown} is not a regular file: a submission must be made of regular files only")
        if take is not None:
            take(shown, info.st_size)
        with open(target, "wb") as out:
            while chunk := stream.read(1 << 20):
                out.write(chunk)
