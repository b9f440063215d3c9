"""The engine's corpus of student submissions, as bases and patches.

A folder `corpus/<exercise>/` holds:

- `base*.py`: right answers written the way a student would, each the base that variants patch
  (every base must score full marks, as a `correct` variant does);
- `variants.toml`: variants written as patches of a base. Each `[[variant]]` has a `name` (its
  kind by prefix: `buggy_`, `correct_`, `two_`), a `summary` (the first line of its docstring,
  which replaces the base's), the catalogue entry it must be diagnosed as (`misconception`, or
  two of them as `misconceptions` for a `two_` variant), the base it patches (`base`, `base` by
  default) and its `[[variant.change]]`s: `old` lines of the base and the `new` lines that
  replace them. Each `old` must stand exactly once in the base, at the start of a line, so a
  base edited under a patch makes that variant fail with the change that no longer applies;
- `<kind>_*.py`: whole files, for variants that are a program of their own (another way to
  write the answer, a call into torch) or that other tests and benchmarks open by path.

`variants(exercise)` lists them all; `Variant.text()` is the module a student would hand in.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"
QUOTES = '"""'


class PatchError(ValueError):
    """A variant's change no longer applies to its base."""


@dataclass(frozen=True)
class Change:
    """Lines `old` of the base replaced by `new`."""

    old: str
    new: str


@dataclass(frozen=True)
class Variant:
    """One submission of the corpus: a whole file, or a patch of one of the exercise's bases."""

    exercise: str
    name: str
    file: Path | None = None
    base: str = "base"
    summary: str = ""
    misconceptions: tuple[str, ...] = ()
    changes: tuple[Change, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.exercise}/{self.name}"

    def text(self) -> str:
        """The module as the student hands it in (a patch is applied here; PatchError if it no longer applies)."""
        if self.file is not None:
            return self.file.read_text(encoding="utf-8")
        base = (CORPUS / self.exercise / f"{self.base}.py").read_text(encoding="utf-8")
        return _with_summary(apply_changes(base, self.changes, self.id), self._head(), self.id)

    def _head(self) -> str:
        """The docstring's opening: the summary, then the mistake(s) it must be diagnosed as."""
        if not self.misconceptions:
            return self.summary
        label = "Misconception" if len(self.misconceptions) == 1 else "Misconceptions"
        return f"{self.summary}\n\n{label}: {', '.join(self.misconceptions)}"


def variants(exercise: str | None = None) -> list[Variant]:
    """Every variant of an exercise (or of all exercises), whole files and patches, sorted by id."""
    folders = [CORPUS / exercise] if exercise else sorted(p for p in CORPUS.iterdir() if p.is_dir())
    found = []
    for folder in folders:
        found += [Variant(folder.name, path.stem, file=path) for path in folder.glob("*.py")]
        found += _patched(folder)
    return sorted(found, key=lambda v: v.id)


def _patched(folder: Path) -> list[Variant]:
    path = folder / "variants.toml"
    if not path.is_file():
        return []
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("variant", [])
    return [
        Variant(
            folder.name,
            entry["name"],
            base=entry.get("base", "base"),
            summary=entry["summary"],
            misconceptions=tuple(
                entry.get("misconceptions", [entry["misconception"]] if "misconception" in entry else [])
            ),
            changes=tuple(Change(c["old"], c["new"]) for c in entry.get("change", [])),
        )
        for entry in entries
    ]


def _with_summary(base: str, head: str, where: str) -> str:
    """The base with the first line of its docstring (after the opening quotes) replaced by `head`."""
    first, newline, rest = base.partition("\n")
    if not first.startswith(QUOTES) or first.endswith(QUOTES):
        raise PatchError(f"{where}: the base must open with a docstring whose first line is its summary")
    return QUOTES + head + newline + rest


def apply_changes(text: str, changes: tuple[Change, ...], where: str) -> str:
    """`text` with each change made; every `old` must start a line exactly once, and no two may overlap."""
    spans = []
    for number, change in enumerate(changes, 1):
        starts = [i for i in _occurrences(text, change.old) if i == 0 or text[i - 1] == "\n"]
        if len(starts) != 1:
            found = "is not in" if not starts else f"stands {len(starts)} times in"
            raise PatchError(
                f"{where}: change {number} no longer applies: its old text {found} the base:\n{change.old}"
            )
        spans.append((starts[0], starts[0] + len(change.old), change.new))
    spans.sort()
    for (_, end, _), (start, _, _) in zip(spans, spans[1:]):
        if start < end:
            raise PatchError(f"{where}: two changes overlap at character {start} of the base")
    for start, end, new in reversed(spans):
        text = text[:start] + new + text[end:]
    return text


def _occurrences(text: str, part: str) -> list[int]:
    found, start = [], text.find(part)
    while part and start != -1:
        found.append(start)
        start = text.find(part, start + 1)
    return found
