"""Answer keys: the course's (computed by reference/), and a release's salted digests.

A student release carries no key in clear text. For a formative quiz it
carries, per question and variant, an entry derived by salted PBKDF2 from the
right answer in canonical form: half of it checks an answer (`grader quiz`
derives the same from what the student typed and compares), the other half
unwraps the key that seals the question's explanation, so only a right answer
opens it. A float is put on a grid of `FLOAT_GRID` cells per tolerance and the
neighbouring cells are tried too: an accepted float is never further than the
tolerance from the key, and one within 3/4 of it is always accepted.

Digests keep the key out of sight; they cannot make a small answer space
large. Whoever tries every letter of a choice offline finds the key, which is
why only formative quizzes carry digests and why `grader quiz` limits attempts.
A summative release carries nothing: the instructor grades it with the course's key.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from typing import Any, Protocol

from grader.course.manifest import Course
from grader.quiz import forms
from grader.quiz.bank import Bank, Question
from grader.quiz.oracle import Oracle
from grader.quiz.variants import Variant

ITERATIONS = 1_000  #: PBKDF2 rounds: under a millisecond per digest, slow to try by the million
FLOAT_GRID = 8  #: grid cells per tolerance


@dataclasses.dataclass(frozen=True)
class Verdict:
    right: bool | None  #: None: this copy of the course cannot tell
    expected: str | None = None  #: the key as the student would write it, when known
    explanation: str | None = None


class AnswerKey(Protocol):
    def judge(self, variant: Variant, given: Any) -> Verdict:
        """`given` is a parsed answer in the key's terms (`forms.to_key`)."""


class ReferenceKey:
    """The course's key, computed by reference/ code."""

    def __init__(self, oracle: Oracle):
        self.oracle = oracle

    def judge(self, variant: Variant, given: Any) -> Verdict:
        expected = self.oracle.expected(variant)
        question = variant.question
        return Verdict(
            forms.matches(question, given, expected),
            forms.show_key(variant, expected),
            variant.explanation(forms.show_plain(question, expected)),
        )


class DigestKey:
    """A formative release's key: salted digests, and explanations sealed with the answer."""

    def __init__(self, bank: Bank):
        self.salt = bank.info.salt

    def judge(self, variant: Variant, given: Any) -> Verdict:
        question = variant.question
        check = question.check
        if check is None or variant.key not in check.digests:
            return Verdict(None)
        for text in candidate_texts(question, given):
            content_key = open_entry(check.digests[variant.key], self.salt, question.id, variant.key, text)
            if content_key is not None:
                template = unseal(check.sealed, content_key) if check.sealed else None
                explanation = variant.with_explanation(template).explanation(forms.show_plain(question, given))
                return Verdict(True, explanation=explanation)
        return Verdict(False)


def answer_key(course: Course, bank: Bank) -> AnswerKey:
    return ReferenceKey(Oracle(course.reference_dir)) if bank.keyed else DigestKey(bank)


def salt_for(bank_bytes: bytes) -> str:
    """A bank's salt: fixed by its text, so publishing twice gives the same release."""
    return hashlib.sha256(b"quiz-salt\x1f" + bank_bytes).hexdigest()[:32]


def content_key(bank_bytes: bytes, question_id: str) -> bytes:
    """The key that seals a question's explanation: from the course's bank, which a release does not carry."""
    return hashlib.sha256(b"quiz-content\x1f" + bank_bytes + question_id.encode()).digest()[:16]


def check_entry(salt: str, question_id: str, variant: str, text: str, key: bytes) -> str:
    """A release's entry for one variant: a digest of the right answer, and `key` wrapped by it."""
    material = _material(salt, question_id, variant, text)
    return material[:16].hex() + _xor(key, material[16:]).hex()


def open_entry(entry: str, salt: str, question_id: str, variant: str, text: str) -> bytes | None:
    """The wrapped key when `text` is the right answer's, else None."""
    material = _material(salt, question_id, variant, text)
    if material[:16].hex() != entry[:32]:
        return None
    return _xor(bytes.fromhex(entry[32:]), material[16:])


def key_text(question: Question, expected: Any) -> str:
    """The text a key's digest is made of."""
    if question.kind == "float":
        return str(round(expected / (question.tolerance / FLOAT_GRID)))
    return forms.canonical(question, expected)


def candidate_texts(question: Question, given: Any) -> list[str]:
    """The texts whose digest would mean `given` is right: one, or a float's neighbouring cells."""
    if question.kind != "float":
        return [forms.canonical(question, given)]
    cell = round(given / (question.tolerance / FLOAT_GRID))
    return [str(cell + offset) for offset in sorted(range(1 - FLOAT_GRID, FLOAT_GRID), key=abs)]


def seal(text: str, key: bytes) -> str:
    data = text.encode()
    return base64.b64encode(_xor(data, _stream(key, len(data)))).decode()


def unseal(sealed: str, key: bytes) -> str | None:
    data = base64.b64decode(sealed)
    try:
        return _xor(data, _stream(key, len(data))).decode()
    except UnicodeDecodeError:
        return None


def _material(salt: str, question_id: str, variant: str, text: str) -> bytes:
    context = f"{salt}\x1f{question_id}\x1f{variant}".encode()
    return hashlib.pbkdf2_hmac("sha256", text.encode(), context, ITERATIONS, dklen=32)


def _stream(key: bytes, size: int) -> bytes:
    return hashlib.shake_256(b"seal\x1f" + key).digest(size)


def _xor(data: bytes, stream: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, stream))
