"""The release's manifest of checksums, and the check that finds what a student changed.

`grader publish` records the SHA-256 of every file students must not change
(tests, course and workflow files, the engine) in `.grader/manifest.json`,
together with the folders those files live in. `compare` then reports each
such file that was changed or deleted, and each file added to a protected
folder or as a top-level `conftest.py` (pytest would load either while grading).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path, PurePosixPath
from typing import Literal

from grader.publish.files import sha256, walk

MANIFEST_PATH = ".grader/manifest.json"
_VERSION = 1


@dataclasses.dataclass(frozen=True)
class Change:
    path: str  #: relative to the release, posix
    kind: Literal["changed", "deleted", "added"]

    def describe(self) -> str:
        what = {"changed": "was changed", "deleted": "was deleted", "added": "was added"}[self.kind]
        return f"{self.path} {what} since the release was published"


def checksums(root: Path, paths: list[str]) -> dict[str, str]:
    return {path: sha256(root / path) for path in sorted(paths)}


def manifest(root: Path, paths: list[str]) -> dict:
    """The manifest of the protected `paths` (relative to `root`)."""
    folders = sorted({PurePosixPath(p).parts[0] for p in paths if len(PurePosixPath(p).parts) > 1})
    return {"version": _VERSION, "protected_folders": folders, "files": checksums(root, paths)}


def manifest_json(root: Path, paths: list[str]) -> str:
    return json.dumps(manifest(root, paths), indent=2, sort_keys=True) + "\n"


def read_manifest(root: Path) -> dict | None:
    """The release's manifest, or None where `root` is not a release."""
    path = root / MANIFEST_PATH
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def compare(root: Path, recorded: dict, *, skip: frozenset[str] = frozenset()) -> list[Change]:
    """What differs between the release at `root` and the manifest `recorded`."""
    files: dict[str, str] = recorded["files"]
    changes = []
    for path, digest in sorted(files.items()):
        if path in skip:
            continue
        if not (root / path).is_file():
            changes.append(Change(path, "deleted"))
        elif sha256(root / path) != digest:
            changes.append(Change(path, "changed"))
    known = set(files) | {MANIFEST_PATH}
    for path in _unrecorded_candidates(root, recorded.get("protected_folders", ())):
        if path not in known and path not in skip:
            changes.append(Change(path, "added"))
    return changes


def _unrecorded_candidates(root: Path, folders: list[str]) -> list[str]:
    """Files in the protected folders, and a conftest.py at the top (pytest loads it from the rootdir)."""
    paths = [
        (PurePosixPath(folder) / relative.as_posix()).as_posix()
        for folder in folders
        for relative in walk(root / folder)
    ]
    if (root / "conftest.py").is_file():
        paths.append("conftest.py")
    return sorted(paths)
