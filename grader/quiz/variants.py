"""Per-student variants: a template's numbers and a choice list's order, drawn from the student's id.

Every draw is a SHA-256 of (student, quiz, question, parameter, attempt), not
`random`: the same student sees the same numbers on any machine and any Python
version, and the grader, which reads the id from the answers file, draws the
same variant again. A template's constraints (`require`) are met by drawing
again with the next attempt number.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import textwrap
from collections.abc import Iterator, Mapping
from typing import Any

from grader.quiz import expressions
from grader.quiz.bank import CHOICE_KINDS, BankError, Question

#: Draws tried before a template's constraints are declared unsatisfiable (a bank defect).
MAX_DRAWS = 200
LETTERS = "abcdefghijklmnopqrstuvwxyz"


class NeedsStudent(LookupError):
    """The question's variant depends on the student's id, and there is none."""


@dataclasses.dataclass(frozen=True)
class Variant:
    """One student's version of a question."""

    question: Question
    params: Mapping[str, Any]  #: drawn and derived values, for the prompt and the key
    key: str  #: stable name of the drawn values ("fixed" without params)
    choices: tuple[str, ...] = ()  #: the choices in the order this student sees them

    def prompt(self) -> str:
        return textwrap.dedent(self.question.prompt.format_map(self.params)).strip()

    def explanation(self, answer: str | None) -> str | None:
        """The explanation with this variant's numbers; `{answer}` shows `answer` (or '?' when unknown)."""
        text = self.question.explanation
        if text is None:
            return None
        return textwrap.dedent(text.format_map({**self.params, "answer": answer or "?"})).strip()

    def with_explanation(self, template: str | None) -> Variant:
        """The same variant with another explanation template (a release unseals its own)."""
        return dataclasses.replace(self, question=self.question.model_copy(update={"explanation": template}))

    def letter(self, text: str) -> str:
        return LETTERS[self.choices.index(text)]

    def text(self, letter: str) -> str:
        return self.choices[LETTERS.index(letter)]


def depends_on_student(question: Question) -> bool:
    return bool(question.params) or question.kind == "order" or (question.kind in CHOICE_KINDS and question.shuffle)


def variant_for(quiz_id: str, question: Question, student: str | None) -> Variant:
    """The variant `student` sees; `NeedsStudent` when it depends on an id and there is none."""
    if student is None and depends_on_student(question):
        raise NeedsStudent(question.id)
    seed = (student or "", quiz_id, question.id)
    drawn = _draw(question, seed) if question.params else {}
    return _variant(question, drawn, _choice_order(question, seed))


def all_variants(question: Question) -> Iterator[Variant]:
    """Every variant a student may be given (choices in bank order): for key tables and tests."""
    values = question.param_values()
    for combination in itertools.product(*values.values()):
        drawn = dict(zip(values, combination))
        params = with_derived(question, drawn)
        if _allowed(question, params):
            yield _variant(question, drawn, question.choices)


def space_size(question: Question) -> int:
    """How many combinations of parameter values a template has (before `require`)."""
    return math.prod(len(v) for v in question.param_values().values())


def variant_key(question: Question, drawn: Mapping[str, Any]) -> str:
    if not drawn:
        return "fixed"
    text = json.dumps(drawn, sort_keys=True)
    return hashlib.sha256(f"{question.id}|{text}".encode()).hexdigest()[:16]


def with_derived(question: Question, drawn: Mapping[str, Any]) -> dict[str, Any]:
    """The drawn values and, in order, the derived ones computed from them."""
    params = dict(drawn)
    for name, source in question.derived.items():
        params[name] = _evaluate(question, "derived", source, params)
    return params


def _variant(question: Question, drawn: Mapping[str, Any], choices: tuple[str, ...]) -> Variant:
    return Variant(question, with_derived(question, drawn), variant_key(question, drawn), tuple(choices))


def _draw(question: Question, seed: tuple[str, str, str]) -> dict[str, Any]:
    values = question.param_values()
    for attempt in range(MAX_DRAWS):
        drawn = {
            name: options[_index(*seed, name, str(attempt), size=len(options))] for name, options in values.items()
        }
        if _allowed(question, with_derived(question, drawn)):
            return drawn
    raise BankError(f"question '{question.id}': no variant meets `require` after {MAX_DRAWS} draws")


def _choice_order(question: Question, seed: tuple[str, str, str]) -> tuple[str, ...]:
    if question.kind == "order" or (question.kind in CHOICE_KINDS and question.shuffle):
        return tuple(sorted(question.choices, key=lambda text: _digest(*seed, "choice", text)))
    return question.choices


def _allowed(question: Question, params: Mapping[str, Any]) -> bool:
    return all(_evaluate(question, "require", source, params) for source in question.require)


def _evaluate(question: Question, key: str, source: str, params: Mapping[str, Any]) -> Any:
    try:
        return expressions.evaluate(expressions.compile_expression(source), {"math": math, **params})
    except Exception as error:  # the bank's own expression failed: a course defect, named as such
        raise BankError(f"question '{question.id}': {key} {source!r} failed: {type(error).__name__}: {error}") from None


def _index(*parts: str, size: int) -> int:
    return int(_digest(*parts)[:16], 16) % size


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
