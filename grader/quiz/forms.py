"""What an answer of each kind looks like: parsed from what a student typed or wrote, compared, shown.

An answer is read from a terminal line ("(64, 56, 56)") or from a TOML value
(`[64, 56, 56]`); both go through `parse`, which refuses a malformed answer
with a message that says what form was expected. Choice kinds are answered by
letter, in the order this student sees the choices; `to_key` turns letters into
the choices' texts, the form keys are kept in.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from typing import Any

from grader.quiz.bank import Question
from grader.quiz.variants import LETTERS, Variant


class FormError(ValueError):
    """An answer that is not of the question's kind; the message is for the student."""


def describe_form(question: Question) -> str:
    last = LETTERS[len(question.choices) - 1] if question.choices else ""
    return {
        "integer": "a whole number, such as 42",
        "float": "a number, such as 1.75",
        "shape": "a tuple of whole numbers, such as (64, 56, 56)",
        "choice": f"one letter, a to {last}",
        "multi": f"every right letter, a to {last}, such as a, c",
        "order": f"the letters a to {last}, each once, in order, separated by spaces",
    }[question.kind]


def parse(question: Question, raw: Any) -> Any:
    """The answer in the question's form: int, float, tuple of ints, a letter, or a tuple of letters."""
    if isinstance(raw, (bool, dict)):
        raise FormError(f"expected {describe_form(question)}, not {show_raw(raw)}")
    parser = {
        "integer": _integer,
        "float": _float,
        "shape": _shape,
        "choice": _choice,
        "multi": _letters,
        "order": _letters,
    }[question.kind]
    return parser(question, raw)


def _integer(question: Question, raw: Any) -> int:
    if isinstance(raw, str):
        text = re.sub(r"(?<=\d)[,_ ](?=\d{3})", "", raw.strip())
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        raw = _number_or_none(text)
    if isinstance(raw, numbers.Integral):
        return int(raw)
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    raise FormError(f"expected {describe_form(question)}, not {show_raw(raw)}")


def _float(question: Question, raw: Any) -> float:
    if isinstance(raw, str):
        if re.fullmatch(r"\s*[+-]?\d+,\d+\s*", raw):
            raise FormError(f"write decimals with a dot: {raw.strip().replace(',', '.')}")
        raw = _number_or_none(raw.strip().replace("_", ""))
    if isinstance(raw, numbers.Real) and math.isfinite(raw):
        return float(raw)
    raise FormError(f"expected {describe_form(question)}, not {show_raw(raw)}")


def _shape(question: Question, raw: Any) -> tuple[int, ...]:
    if isinstance(raw, str):
        inner = raw.strip()
        if inner[:1] + inner[-1:] in ("()", "[]"):
            inner = inner[1:-1]
        parts = [p for p in re.split(r"\s*[,x×]\s*|\s+", inner.strip())]
        if parts and parts[-1] == "" and len(parts) > 1:
            parts.pop()  # (10,) is a shape of one dimension
        raw = parts if parts != [""] else []
    if not isinstance(raw, (list, tuple)):
        raise FormError(f"a shape must be a tuple of ints, such as (64, 56, 56), not {show_raw(raw)}")
    if not raw:
        raise FormError("a shape has at least one dimension, such as (10,)")
    dims = []
    for part in raw:
        if isinstance(part, str):
            part = int(part) if re.fullmatch(r"[+-]?\d+", part.strip()) else part.strip() or "an empty place"
        if isinstance(part, bool) or not isinstance(part, numbers.Integral):
            shown = part if isinstance(part, str) else show_raw(part)
            raise FormError(f"a shape must be a tuple of ints, such as (64, 56, 56): {shown} is not a whole number")
        if part < 0:
            raise FormError(f"a shape has no negative dimension ({part})")
        dims.append(int(part))
    return tuple(dims)


def _choice(question: Question, raw: Any) -> str:
    letters = _letters_of(question, raw)
    if len(letters) != 1:
        raise FormError(f"answer with {describe_form(question)}, not {show_raw(raw)}")
    return letters[0]


def _letters(question: Question, raw: Any) -> tuple[str, ...]:
    letters = _letters_of(question, raw)
    if len(set(letters)) != len(letters):
        twice = sorted({x for x in letters if letters.count(x) > 1})
        raise FormError(f"each letter once ({', '.join(twice)} given twice)")
    if question.kind == "multi":
        if not letters:
            raise FormError(f"give {describe_form(question)}")
        return tuple(sorted(letters))
    missing = [x for x in LETTERS[: len(question.choices)] if x not in letters]
    if missing:
        raise FormError(f"give {describe_form(question)} (missing: {', '.join(missing)})")
    return tuple(letters)


def _letters_of(question: Question, raw: Any) -> list[str]:
    """Letters from "a, c", "a c", "ac", "b)" or a TOML list of letters; each within the choices."""
    if isinstance(raw, str):
        text = raw.strip().lower()
        parts = re.split(r"[\s,;]+", text) if re.search(r"[\s,;]", text) else list(text)
        parts = [p.rstrip(")") for p in parts if p]
    elif isinstance(raw, (list, tuple)) and all(isinstance(p, str) for p in raw):
        parts = [p.strip().lower().rstrip(")") for p in raw]
    else:
        raise FormError(f"answer with {describe_form(question)}, not {show_raw(raw)}")
    valid = LETTERS[: len(question.choices)]
    wrong = [p for p in parts if len(p) != 1 or p not in valid]
    if wrong:
        raise FormError(f"answer with {describe_form(question)}: {wrong[0]!r} is not one of the letters")
    return parts


def _number_or_none(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def stored(question: Question, value: Any) -> Any:
    """The value as the answers file keeps it: a TOML int, float, string or list."""
    return list(value) if isinstance(value, tuple) else value


def show(question: Question, value: Any) -> str:
    """A parsed answer as the student would write it."""
    if question.kind == "float":
        return f"{value:.6g}"
    if question.kind == "shape":
        return "(" + ", ".join(map(str, value)) + ("," if len(value) == 1 else "") + ")"
    if question.kind == "multi":
        return ", ".join(value)
    if question.kind == "order":
        return " ".join(value)
    return str(value)


def show_plain(question: Question, value: Any) -> str:
    """A key value without letters (they differ between students): for explanations."""
    if question.kind == "multi":
        return "; ".join(value)
    if question.kind == "order":
        return ", ".join(value)
    return value if question.kind == "choice" else show(question, value)


def show_raw(raw: Any) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, (list, tuple, dict)):
        text = json.dumps(raw, default=str)
        return f"a list {text}" if isinstance(raw, (list, tuple)) else f"a table {text}"
    return json.dumps(raw) if isinstance(raw, str) else str(raw)


def to_key(variant: Variant, value: Any) -> Any:
    """A parsed answer in the key's terms: choice letters become the choices' texts."""
    kind = variant.question.kind
    if kind == "choice":
        return variant.text(value)
    if kind == "multi":
        return tuple(sorted(variant.text(x) for x in value))
    if kind == "order":
        return tuple(variant.text(x) for x in value)
    return value


def show_key(variant: Variant, value: Any) -> str:
    """A key value shown in this student's letters: 'b) Max pooling'."""
    kind = variant.question.kind
    if kind == "choice":
        return f"{variant.letter(value)}) {value}"
    if kind == "multi":
        return "; ".join(f"{variant.letter(text)}) {text}" for text in sorted(value, key=variant.letter))
    if kind == "order":
        return " ".join(variant.letter(text) for text in value) + " (" + ", ".join(value) + ")"
    return show(variant.question, value)


def normalize_expected(question: Question, value: Any) -> Any:
    """What `compute` or `answer` gave, in the key's form; `TypeError` when it does not fit the kind."""
    if hasattr(value, "tolist"):
        value = value.tolist()  # numpy and torch scalars and arrays as plain Python values
    kind = question.kind
    if (
        kind == "integer"
        and isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and float(value).is_integer()
    ):
        return int(value)
    if kind == "float" and isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if kind == "shape" and isinstance(value, (tuple, list)) and all(isinstance(d, numbers.Integral) for d in value):
        return tuple(int(d) for d in value)
    if kind == "choice" and value in question.choices:
        return value
    if kind == "multi" and not isinstance(value, str) and set(value) <= set(question.choices) and value:
        return tuple(sorted(set(value)))
    if kind == "order" and not isinstance(value, str) and sorted(value) == sorted(question.choices):
        return tuple(value)
    raise TypeError(f"question '{question.id}': the key {value!r} is not a valid {kind} answer")


def matches(question: Question, given: Any, expected: Any) -> bool:
    if question.kind == "float":
        return abs(given - expected) <= question.tolerance * (1 + 1e-9)
    return given == expected


def canonical(question: Question, value: Any) -> str:
    """A key value as the text its digest is made of (floats are put on a grid by `keys`)."""
    if question.kind == "shape":
        return ",".join(map(str, value))
    if question.kind in ("multi", "order"):
        return json.dumps(list(value), ensure_ascii=False)
    return str(value)
