"""The student's answers file: plain TOML, written by `grader quiz`, also edited by hand.

    student = "ada"            # draws this student's numbers: asked once, then kept

    [quiz1]
    # 1. Output size of a strided convolution (2 points; Output Size Formula)
    # A 32x32 feature map goes through Conv2d(kernel_size=5, stride=2, padding=1). ...
    # answer: a whole number, such as 42
    output_size = 15
    conv_shape = [64, 56, 56]  # or "(64, 56, 56)"
    pooling_kind = "b"         # choices by letter

    [attempts.quiz1]           # formative checks used (grader quiz counts them)
    output_size = 1

Several quizzes may share one file (one table each). Reading never gives up on
the whole file: when it is not valid TOML, each line is read on its own and a
broken line is charged to its question only. Writing goes through tomlkit, so
other tables and comments in the file are kept.
"""

from __future__ import annotations

import dataclasses
import os
import re
import textwrap
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from grader.quiz import forms
from grader.quiz.variants import LETTERS, Variant
from grader.reports.text_report import paragraphs

HEADER = """\
Your quiz answers. `grader quiz` writes this file after every question; you may
also edit it by hand: each question is written above its answer (a # line until answered).
Forms: a number 42 or 1.75; a shape [64, 56, 56] or "(64, 56, 56)"; a letter "b";
several letters ["a", "c"] or "a, c". `student` draws your numbers: keep it as it is."""

_BROKEN = object()


@dataclasses.dataclass(frozen=True)
class QuizAnswers:
    path: Path
    exists: bool = False
    valid_toml: bool = True
    student: str | None = None
    values: Mapping[str, Any] = dataclasses.field(default_factory=dict)  #: question id -> TOML value
    broken: Mapping[str, str] = dataclasses.field(default_factory=dict)  #: question id -> why unreadable
    attempts: Mapping[str, int] = dataclasses.field(default_factory=dict)
    notes: tuple[str, ...] = ()  #: file-wide problems


class AnswersFileError(Exception):
    """An answers file that `grader quiz` will not overwrite (the student must fix it)."""


def read_answers(path: Path, quiz_id: str) -> QuizAnswers:
    if not path.is_file():
        return QuizAnswers(path)
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        data, broken, notes, valid = tomllib.loads(text), {}, [], True
    except tomllib.TOMLDecodeError as error:
        data, broken, notes = _recover(text, quiz_id, path.name)
        notes.insert(0, f"{path.name} is not valid TOML ({error}): each line was read on its own")
        valid = False
    student = data.get("student")
    if student is not None and (not isinstance(student, str) or not student.strip()):
        notes.append(f'{path.name}: `student` must be a non-empty string, such as "ada"')
        student = None
    table = data.get(quiz_id, {})
    if not isinstance(table, dict):
        notes.append(f"{path.name}: `{quiz_id}` must be a table of answers ([{quiz_id}])")
        table = {}
    attempts = data.get("attempts", {}).get(quiz_id, {}) if isinstance(data.get("attempts"), dict) else {}
    attempts = {k: v for k, v in attempts.items() if isinstance(v, int)} if isinstance(attempts, dict) else {}
    return QuizAnswers(path, True, valid, student.strip() if student else None, table, broken, attempts, tuple(notes))


def _recover(text: str, quiz_id: str, name: str) -> tuple[dict, dict[str, str], list[str]]:
    """What can be read of a file that is not valid TOML, one `key = value` line at a time."""
    data: dict = {}
    broken: dict[str, str] = {}
    notes: list[str] = []
    lines, table, index = text.splitlines(), (), 0
    while index < len(lines):
        stripped = lines[index].strip()
        header = re.fullmatch(r"\[\s*([\w.\- ]+?)\s*\]\s*(#.*)?", stripped)
        key = re.match(r"\s*([\w-]+)\s*=(.*)", lines[index])
        used = 1
        if not stripped or stripped.startswith("#"):
            pass
        elif header:
            table = tuple(part.strip() for part in header.group(1).split("."))
        elif key:
            value, used = _read_value(lines, index, key.group(2))
            if value is not _BROKEN:
                _table(data, table)[key.group(1)] = value
            elif table == (quiz_id,):
                broken[key.group(1)] = f"line {index + 1} of {name} is not valid TOML: {stripped}"
            else:
                notes.append(f"line {index + 1} of {name} is not valid TOML: {stripped}")
        else:
            notes.append(f"line {index + 1} of {name} is not valid TOML: {stripped}")
        index += used
    return data, broken, notes


def _read_value(lines: list[str], index: int, first: str) -> tuple[Any, int]:
    """The value starting on line `index`, which may go on for a few lines (a long list)."""
    text = first
    for used in range(1, 12):
        try:
            return tomllib.loads(f"v = {text}")["v"], used
        except tomllib.TOMLDecodeError:
            following = lines[index + used] if index + used < len(lines) else None
            if following is None or re.match(r"\s*(\[|[\w-]+\s*=)", following):
                break
            text += "\n" + following
    return _BROKEN, 1


def _table(data: dict, path: tuple[str, ...]) -> dict:
    for part in path:
        data = data.setdefault(part, {}) if isinstance(data.get(part, {}), dict) else {}
    return data


def write_answers(
    path: Path,
    quiz_id: str,
    student: str,
    variants: list[Variant],
    values: Mapping[str, Any],
    attempts: Mapping[str, int],
) -> None:
    """Write this quiz's table (every question as comments, then its answer) and keep the rest of the file."""
    import tomlkit  # only writing needs it: grading reads with tomllib

    document = tomlkit.document()
    if path.is_file():
        try:
            document = tomlkit.parse(path.read_text(encoding="utf-8"))
        except tomlkit.exceptions.ParseError as error:
            raise AnswersFileError(
                f"{path} is not valid TOML ({error}); fix it by hand first, `grader quiz` will not overwrite it"
            ) from None
    else:
        for line in HEADER.splitlines():
            document.add(tomlkit.comment(line))
    document["student"] = student
    document[quiz_id] = _quiz_table(tomlkit, variants, values)
    if any(attempts.values()):
        if "attempts" not in document:
            document["attempts"] = tomlkit.table(is_super_table=True)
        document["attempts"][quiz_id] = {k: v for k, v in attempts.items() if v}
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(tomlkit.dumps(document), encoding="utf-8")
    os.replace(scratch, path)  # a quiz stopped mid-write never leaves half a file


def _quiz_table(tomlkit: Any, variants: list[Variant], values: Mapping[str, Any]) -> Any:
    table = tomlkit.table()
    for number, variant in enumerate(variants, 1):
        question = variant.question
        table.add(tomlkit.nl())
        for line in question_comment(number, variant):
            table.add(tomlkit.comment(line))
        if question.id in values:
            table.add(question.id, values[question.id])
        else:
            table.add(tomlkit.comment(f"{question.id} ="))
    return table


def question_comment(number: int, variant: Variant) -> list[str]:
    """The question as comment lines: title, prompt, choices, the form of the answer."""
    question = variant.question
    lines = [
        f"{number}. {question.title} ({question.points} point{'s' if question.points > 1 else ''}; {question.section})"
    ]
    for paragraph in paragraphs(variant.prompt()):
        lines += textwrap.wrap(paragraph, 88) or [""]
    lines += [f"  {LETTERS[i]}) {text}" for i, text in enumerate(variant.choices)]
    lines.append(f"answer: {forms.describe_form(question)}")
    return lines
