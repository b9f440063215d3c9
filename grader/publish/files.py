"""Small file helpers shared by the publishing transforms: checksums, walking, copying."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import Iterator

import grader

#: Never shipped, never checksummed: what Python, pytest and editors leave behind.
JUNK_DIRS = frozenset({"__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints", ".git", ".mypy_cache"})
JUNK_SUFFIXES = (".pyc", ".pyo")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_junk(relative: Path) -> bool:
    return any(part in JUNK_DIRS for part in relative.parts) or relative.name.endswith(JUNK_SUFFIXES)


def walk(root: Path) -> Iterator[Path]:
    """Every file under `root` (sorted, junk skipped), as paths relative to `root`."""
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not is_junk(relative):
            yield relative


def read_text(path: Path) -> str | None:
    """The file's text, or None for a binary file."""
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def engine_package() -> Path:
    """The folder of the `grader` package that is running."""
    return Path(grader.__file__).resolve().parent


def engine_pyproject() -> Path:
    """The engine's pyproject.toml: a release installs the engine from it."""
    path = engine_package().parent / "pyproject.toml"
    if not path.is_file():
        raise FileNotFoundError(
            f"no pyproject.toml beside {engine_package()}: publish from a source checkout of the grader"
        )
    return path


def copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def template(name: str, **values: str) -> str:
    """A file of grader/templates/ with each `{{grader:NAME}}` replaced by `values[NAME]`.

    Not string.Template: workflow files are full of `${{ ... }}`, which its `$` would take for placeholders.
    """
    text = (engine_package() / "templates" / name).read_text("utf-8")
    for key, value in values.items():
        text = text.replace("{{grader:" + key + "}}", value)
    left = re.findall(r"\{\{grader:(\w+)\}\}", text)
    if left:
        raise KeyError(f"template {name}: no value for {', '.join(sorted(set(left)))}")
    return text


def engine_files() -> dict[str, Path]:
    """What a release needs to install and run the grader: relative name -> source file."""
    package = engine_package()
    files = {f"grader/{relative.as_posix()}": package / relative for relative in walk(package)}
    files["pyproject.toml"] = engine_pyproject()
    return files
