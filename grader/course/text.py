"""The course text: a Markdown file whose headings name its sections.

Exercises, test markers, hints and quiz questions name a section by its heading's text
("Pooling", "ResNet (2015)"). A section runs from its heading to the next heading of the same
or a higher level, so a section includes its subsections. Lines inside fenced code blocks
(```) are never headings: a Python comment is not a section.

A course whose text is not Markdown (any suffix but .md) keeps the older rule: every
non-blank line names a section, whose body is the rest of the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Section:
    """One heading of the course text and what it covers."""

    name: str  #: the heading's text, as exercises and hints name it
    level: int  #: 1 for '#', 2 for '##', ...
    line: int  #: the heading's line number (1-based)
    body: str  #: the lines after the heading up to the next heading of the same or a higher level


def sections(text: str) -> list[Section]:
    """Every section of a Markdown text, in order."""
    lines = text.splitlines()
    headings = _headings(lines)
    found = []
    for index, (start, level, name) in enumerate(headings):
        end = next((other for other, other_level, _ in headings[index + 1 :] if other_level <= level), len(lines))
        found.append(Section(name, level, start + 1, "\n".join(lines[start + 1 : end]).strip("\n")))
    return found


def _headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(index, level, text) of every heading outside fenced code."""
    found, fenced = [], False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.match(line)
        if match:
            found.append((index, len(match.group(1)), match.group(2)))
    return found


def plain_sections(text: str) -> list[Section]:
    """Every non-blank line of a plain text as a section (the rule for a course text that is not Markdown)."""
    lines = text.splitlines()
    return [
        Section(line.strip(), 1, index + 1, "\n".join(lines[index + 1 :]).strip("\n"))
        for index, line in enumerate(lines)
        if line.strip()
    ]


def read_sections(path: Path) -> dict[str, Section]:
    """{name: section} of the course text at `path` (the first of two headings with one name wins)."""
    text = path.read_text(encoding="utf-8")
    by_name: dict[str, Section] = {}
    for section in sections(text) if path.suffix.lower() in (".md", ".markdown") else plain_sections(text):
        by_name.setdefault(section.name, section)
    return by_name


def section_names(path: Path) -> set[str]:
    """The names of the sections of the course text at `path`."""
    return set(read_sections(path))
