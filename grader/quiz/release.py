"""The student copy of a bank: what a release ships in place of the course's bank file.

It keeps each question's prompt, parameters, choices, hint and points, so
`grader quiz` draws the same variants and shows the same questions; it drops
`answer` and `compute`. A formative quiz's copy adds, per variant, a salted
entry that checks an answer and unseals the explanation (see `keys`); a
summative quiz's copy has no explanation, no hint and nothing to check: its
questions are graded by the instructor with the course's key.

`grader publish` writes `student_bank(course, quiz)` at the bank's path in the release.
"""

from __future__ import annotations

import json
import re
from typing import Any

from grader.course.manifest import Course, QuizSpec
from grader.quiz import keys
from grader.quiz.bank import BankError, Question, load_bank
from grader.quiz.oracle import Oracle
from grader.quiz.variants import all_variants, space_size

#: A formative template has a digest per variant: at most this many.
MAX_CHECKED_VARIANTS = 2000

HEADER = """\
# Student copy of the quiz "{title}", written by the grader from the course's bank.
# It holds no answer key: {how}.
"""


def student_bank(course: Course, quiz: QuizSpec) -> str:
    """The bank of `quiz` as a student release carries it (TOML text)."""
    bank = load_bank(course, quiz)
    if not bank.keyed:
        raise BankError(f"{quiz.bank} is already a student copy: publish from the course's bank")
    formative = quiz.mode == "formative"
    source = bank.path.read_bytes()
    salt = keys.salt_for(source) if formative else ""
    oracle = Oracle(course.reference_dir)
    info = {"title": bank.info.title or quiz.title, "release": "student"} | ({"salt": salt} if formative else {})
    questions = [_question(q, oracle, salt, source) if formative else _fields(q, hint=False) for q in bank.questions]
    how = (
        "answers are checked against salted digests" if formative else "your instructor grades it with the course's key"
    )
    parts = [HEADER.format(title=info["title"], how=how), _table("bank", info)]
    parts += [_question_tables(fields) for fields in questions]
    return "\n".join(parts)


def _fields(question: Question, *, hint: bool = True) -> dict[str, Any]:
    """What a student copy keeps of a question: a summative copy drops the hint too (hints may name
    the answer, and nothing is said before the instructor grades)."""
    secret = {"answer", "compute", "explanation", "check"} | (set() if hint else {"hint"})
    return question.model_dump(exclude=secret, exclude_defaults=True)


def _question(question: Question, oracle: Oracle, salt: str, source: bytes) -> dict[str, Any]:
    """A formative question: its fields, and an entry per variant that checks an answer."""
    if space_size(question) > MAX_CHECKED_VARIANTS:
        raise BankError(
            f"question '{question.id}' has {space_size(question)} combinations of parameters; a "
            f"formative quiz checks answers offline, which needs at most {MAX_CHECKED_VARIANTS}"
        )
    content_key = keys.content_key(source, question.id)
    digests = {}
    for variant in all_variants(question):
        text = keys.key_text(question, oracle.expected(variant))
        digests[variant.key] = keys.check_entry(salt, question.id, variant.key, text, content_key)
    check = {"digests": digests, "sealed": keys.seal(question.explanation, content_key)}
    return _fields(question) | {"check": check}


def _question_tables(fields: dict[str, Any]) -> str:
    """One [[question]] table; its check (thousands of digests in a template) in tables of its own."""
    check = fields.pop("check", None)
    text = _table("[question]", fields)
    if check:
        text += "\n" + _table("question.check", {"sealed": check["sealed"]})
        text += "\n" + _table("question.check.digests", check["digests"])
    return text


def _table(header: str, fields: dict[str, Any]) -> str:
    # A small writer for the plain data of a bank (tomlkit is slow on tables of thousands of keys).
    lines = [f"[{header}]"] + [f"{_key(key)} = {_value(value)}" for key, value in fields.items()]
    return "\n".join(lines) + "\n"


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write a {type(value).__name__} to a bank ({value!r})")
