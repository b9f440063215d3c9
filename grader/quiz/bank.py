"""Question banks: the TOML files of questions a [[quiz]] table names, validated before use.

A bank is a `[bank]` table and a list of `[[question]]` tables:

    [[question]]
    id = "output_size"                  # stable: answers files and reports use it
    title = "Output size of a strided convolution"
    kind = "integer"                    # integer, float, choice, multi, shape, order
    section = "Output Size Formula"     # a whole line of the tutorial
    points = 2
    prompt = "A {size}x{size} map goes through Conv2d(kernel_size={k}, stride={s}). Output size?"
    hint = "floor((W - K + 2P) / S) + 1"          # shown after a wrong answer
    explanation = "floor(({size} - {k}) / {s}) + 1 = {answer}"   # shown once graded
    params = { size = [28, 32], k = { min = 3, max = 7, step = 2 }, s = [1, 2] }
    compute = "shapes.conv_output_size(size, k, stride=s)"      # the key, from reference/

Numbers, shapes and computed lists come from `compute`, never typed in by hand;
choice questions name their key with `answer`. A student copy (written by
`release`) has `release = "student"` and neither: formative ones carry salted
digests in `check` instead.
"""

from __future__ import annotations

import dataclasses
import string
import tomllib
from pathlib import Path
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

from grader.course.manifest import Course, CourseError, QuizSpec
from grader.course.text import section_names
from grader.quiz import expressions

Kind = Literal["integer", "float", "choice", "multi", "shape", "order"]
CHOICE_KINDS = ("choice", "multi", "order")
COMPUTED_KINDS = ("integer", "float", "shape")  #: their key must come from `compute`
RESERVED_IDS = ("student", "attempts")  #: top-level names of the answers file
#: Names every `compute` expression may use besides the reference modules (see `oracle`).
ORACLE_NAMES = frozenset(
    {"math", "functools", "np", "nn", "torch", "count_params", "meta", "run_shape", "derivative", "choices"}
)


class BankError(CourseError):
    """A question bank that cannot be used: the course is broken, not the submission."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParamRange(_Strict):
    """Whole numbers from min to max inclusive, every step."""

    min: int
    max: int
    step: int = Field(1, ge=1)

    def values(self) -> list[int]:
        return list(range(self.min, self.max + 1, self.step))


Value = Union[StrictBool, StrictInt, StrictFloat, StrictStr]
ParamSpec = Union[list[Value], ParamRange]


class Check(_Strict):
    """What a formative student copy carries instead of the key (see `keys`)."""

    digests: dict[str, str]  #: variant key -> salted digest of its answer
    sealed: str | None = None  #: the explanation, readable only with the right answer


class Question(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    kind: Kind
    section: str
    points: int = Field(gt=0)
    prompt: str
    hint: str = ""  #: required in the course's bank; a summative student copy has none
    explanation: str | None = None
    params: dict[str, ParamSpec] = {}
    derived: dict[str, str] = {}  #: name -> expression over params, in order
    require: tuple[str, ...] = ()  #: conditions a drawn variant must meet
    compute: str | None = None
    answer: str | list[str] | None = None
    choices: tuple[str, ...] = ()
    shuffle: bool = True  #: choice and multi: a per-student order (order kind: always)
    tolerance: float | None = Field(None, gt=0)
    check: Check | None = None

    def param_values(self) -> dict[str, list]:
        return {
            name: spec.values() if isinstance(spec, ParamRange) else list(spec) for name, spec in self.params.items()
        }


class BankInfo(_Strict):
    title: str = ""
    release: Literal["course", "student"] = "course"
    salt: str = ""  #: student copies: the salt of every digest


class _BankFile(_Strict):
    bank: BankInfo = BankInfo()
    question: tuple[Question, ...] = Field(min_length=1)


@dataclasses.dataclass(frozen=True)
class Bank:
    path: Path
    info: BankInfo
    questions: tuple[Question, ...]

    @property
    def keyed(self) -> bool:
        """Whether this bank holds its answer key (the course's), or is a student copy."""
        return self.info.release == "course"

    @property
    def points(self) -> int:
        return sum(q.points for q in self.questions)

    def question(self, question_id: str) -> Question:
        return next(q for q in self.questions if q.id == question_id)


def load_bank(course: Course, quiz: QuizSpec) -> Bank:
    """Read and validate the bank of `quiz`; raise `BankError` naming the question and the key."""
    if quiz.id in RESERVED_IDS or quiz.id in {e.id for e in course.exercises}:
        raise BankError(f"quiz id {quiz.id!r} is reserved or already an exercise's id: choose another")
    path = course.root / quiz.bank
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except OSError as error:
        raise BankError(f"quiz {quiz.id}: cannot read its bank {quiz.bank}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise BankError(f"{quiz.bank}: TOML syntax error: {error}") from None
    try:
        parsed = _BankFile.model_validate(raw)
    except ValidationError as error:
        raise BankError("\n".join(_describe(quiz.bank, raw, text, e) for e in error.errors())) from None
    bank = Bank(path, parsed.bank, parsed.question)
    problems = bank_problems(bank, _tutorial_lines(course), _reference_modules(course))
    if problems:
        raise BankError(
            "\n".join(
                f"{quiz.bank}:{_line(text, raw, qid, key)}: question '{qid}': {message}"
                for qid, key, message in problems
            )
        )
    return bank


def bank_problems(bank: Bank, sections: set[str] | None, modules: set[str]) -> list[tuple[str, str, str]]:
    """(question id, key, what is wrong) for all that a schema cannot see."""
    problems: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for question in bank.questions:

        def report(key: str, message: str, qid: str = question.id) -> None:
            problems.append((qid, key, message))

        if question.id in seen or question.id in RESERVED_IDS:
            report("id", "duplicate id" if question.id in seen else f"{question.id!r} is reserved")
        seen.add(question.id)
        if bank.keyed and not question.hint.strip():
            report("hint", "a question needs a hint (shown after a wrong answer, or once graded)")
        if sections is not None and question.section not in sections:
            report("section", f"{question.section!r} is not a section of the course text")
        for key, message in _shape_problems(question) + _key_problems(question, keyed=bank.keyed):
            report(key, message)
        for key, message in _expression_problems(question, modules, keyed=bank.keyed):
            report(key, message)
    return problems


def _shape_problems(question: Question) -> list[tuple[str, str]]:
    problems = []
    if question.kind in CHOICE_KINDS:
        if len(question.choices) < 2 or len(set(question.choices)) != len(question.choices):
            problems.append(("choices", "needs at least two choices, all different"))
        if len(question.choices) > 26:
            problems.append(("choices", "at most 26 choices (one letter each)"))
    elif question.choices:
        problems.append(("choices", f"a {question.kind} question has no choices"))
    if (question.kind == "float") != (question.tolerance is not None):
        problems.append(("tolerance", "a float question needs a tolerance; other kinds have none"))
    for name in question.params:
        if not name.isidentifier() or name in ORACLE_NAMES or name == "answer":
            problems.append(("params", f"{name!r} cannot be a parameter name"))
    for name, values in question.param_values().items():
        if not values:
            problems.append(("params", f"parameter {name!r} has no values"))
    return problems


def _key_problems(question: Question, *, keyed: bool) -> list[tuple[str, str]]:
    """Where the answer comes from: `compute` for numbers, `answer` for choices; neither in a student copy."""
    if not keyed:
        return [("answer", "a student copy holds no key")] if question.answer or question.compute else []
    problems = []
    if question.explanation is None:
        problems.append(("explanation", "every question explains its answer"))
    if question.kind in COMPUTED_KINDS and (question.compute is None or question.answer is not None):
        problems.append(
            ("compute", f"a {question.kind} answer is computed by reference/ code: give `compute`, not `answer`")
        )
    if question.kind in CHOICE_KINDS and (question.compute is None) == (question.answer is None):
        problems.append(("answer", "give the key as `answer` or as `compute` (one of them)"))
    if question.answer is not None and question.kind in CHOICE_KINDS:
        texts = [question.answer] if isinstance(question.answer, str) else list(question.answer)
        wanted = {
            "choice": len(texts) == 1,
            "multi": len(texts) >= 1 and len(set(texts)) == len(texts),
            "order": sorted(texts) == sorted(question.choices),
        }[question.kind]
        if not wanted or not set(texts) <= set(question.choices):
            problems.append(
                (
                    "answer",
                    {
                        "choice": "must be one of the choices",
                        "multi": "must be a list of different choices",
                        "order": "must list every choice once, in order",
                    }[question.kind],
                )
            )
    return problems


def _expression_problems(question: Question, modules: set[str], *, keyed: bool) -> list[tuple[str, str]]:
    problems = []
    known = set(question.params) | {"math"}
    for name, source in question.derived.items():
        problems += _expression_problem("derived", source, known)
        known.add(name)
    for source in question.require:
        problems += _expression_problem("require", source, known)
    if question.compute is not None and keyed:
        problems += _expression_problem("compute", question.compute, known | ORACLE_NAMES | modules)
    problems += _placeholder_problems("prompt", question.prompt, known)
    if question.explanation is not None:
        problems += _placeholder_problems("explanation", question.explanation, known | {"answer"})
    return problems


def _expression_problem(key: str, source: str, known: set[str]) -> list[tuple[str, str]]:
    try:
        expressions.compile_expression(source)
        expressions.check_names(source, known)
    except expressions.ExpressionError as error:
        return [(key, str(error))]
    return []


def _placeholder_problems(key: str, text: str, known: set[str]) -> list[tuple[str, str]]:
    try:
        names = {field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(text) if field}
    except ValueError as error:
        return [(key, f"not a valid template ({error}); write a literal brace as {{{{ or }}}}")]
    unknown = sorted(names - known)
    return [(key, f"unknown placeholder {', '.join('{' + n + '}' for n in unknown)}")] if unknown else []


def _tutorial_lines(course: Course) -> set[str] | None:
    if not course.tutorial_path.is_file():
        return None
    return section_names(course.tutorial_path)


def _reference_modules(course: Course) -> set[str]:
    return {path.stem for path in course.reference_dir.glob("*.py")} if course.reference_dir.is_dir() else set()


def _describe(name: str, raw: dict, text: str, problem: dict) -> str:
    location = problem["loc"]
    qid, key = "", ".".join(str(part) for part in location)
    if location[:1] == ("question",) and len(location) > 1 and isinstance(location[1], int):
        questions = raw.get("question", [])
        entry = questions[location[1]] if location[1] < len(questions) else {}
        qid = entry.get("id", f"#{location[1] + 1}") if isinstance(entry, dict) else f"#{location[1] + 1}"
        key = ".".join(str(part) for part in location[2:] if not isinstance(part, int)) or "question"
    message = "unknown key" if problem["type"] == "extra_forbidden" else problem["msg"]
    where = f"{name}:{_line(text, raw, qid, key.split('.')[0])}" if qid else name
    return f"{where}: {'question ' + repr(qid) + ': ' if qid else ''}key '{key}': {message}"


def _line(text: str, raw: dict, question_id: str, key: str) -> int:
    """The line of `key` in the [[question]] table whose id is `question_id` (tomllib keeps no positions)."""
    ids = [q.get("id") if isinstance(q, dict) else None for q in raw.get("question", [])]
    lines = text.splitlines()
    headers = [n for n, line in enumerate(lines) if line.strip().startswith("[[question]]")]
    index = (
        ids.index(question_id)
        if question_id in ids
        else (int(question_id[1:]) - 1 if question_id[1:].isdigit() else None)
    )
    if index is None or index >= len(headers):
        return 1
    start = headers[index]
    end = headers[index + 1] if index + 1 < len(headers) else len(lines)
    for n in range(start, end):
        if lines[n].strip().startswith((f"{key} =", f"{key}=")):
            return n + 1
    return start + 1
