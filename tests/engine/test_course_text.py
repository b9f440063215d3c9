"""The course text is whole: every section the course names exists and says something, no formula is blank.

Exercises (course.toml), tests (`@pytest.mark.section`), misconceptions, quiz questions and the
references' "Tutorial:" lines send students to sections of docs/course.md by name. A renamed or
emptied heading would leave a hint pointing nowhere; a formula lost in an export (the old text's
"the convolution at position is:") would leave a sentence with a hole. Both are checked here.
"""

from __future__ import annotations

import ast
import re
import tomllib

import pytest
from support import ROOT

from grader.course.text import read_sections, sections
from grader.diagnosis import load_catalogue

#: Traces of a formula that went missing, looked for in the prose with every formula replaced by
#: "X" (so only a formula that is not there leaves a hole): a function word right before
#: punctuation, a bullet that starts with "=", a word or "(" spaced off from its punctuation.
BLANK_SLOTS = {
    "a function word before punctuation ('at position is:', 'subject to .')": re.compile(
        r"\b(?:is|are|of|at|to|with|by|for|gives|contains)[ \t]*[,.;:)](?![\w(])"
    ),
    "a list item that starts with '=' ('- =Input spatial dimensions')": re.compile(r"^\s*[-*]\s*=", re.MULTILINE),
    "'with as' (a symbol dropped between them)": re.compile(r"\bwith as\b", re.IGNORECASE),
    "a word spaced off its comma or parenthesis ('height , width )')": re.compile(r"[A-Za-z] [,)]"),
    "a parenthesis opened onto a space ('( for stride 1)')": re.compile(r"\( "),
}
#: Heading leftovers of the old export: "Df" (definition) and "Th" (theorem) glued to the name.
LEFTOVER = re.compile(r"^(?:Df|Th)[A-Z0-9]")


def _course_text():
    return (ROOT / "docs" / "course.md").read_text(encoding="utf-8")


def _prose(text: str) -> str:
    """The text without fenced code blocks (code may space its commas as it likes)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)


def _math_spans(prose: str) -> list[str]:
    """The contents of every $$...$$ block and every $...$ span, in order."""
    return re.findall(r"\$\$(.*?)\$\$|\$([^$]*)\$", prose, flags=re.DOTALL)


def _without_math(prose: str) -> str:
    return re.sub(r"\$\$.*?\$\$|\$[^$]*\$", "X", prose, flags=re.DOTALL)


def _marked_sections() -> set[tuple[str, str]]:
    """(section, where) for every `@pytest.mark.section("...")` in the public and hidden suites."""
    found = set()
    for path in sorted((ROOT / "tests").glob("*/test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "section"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add((node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}"))
    return found


def _named_sections(course) -> list[tuple[str, str]]:
    """(section, who names it): exercises, test markers, misconceptions, quiz questions, references."""
    named = [(e.section, f"exercise {e.id}") for e in course.exercises]
    named += sorted(_marked_sections())
    for exercise in course.exercises:
        if exercise.misconceptions and (ROOT / exercise.misconceptions).is_file():
            named += [(m.section, f"misconception {m.name}") for m in load_catalogue(ROOT / exercise.misconceptions)]
    for quiz in course.quizzes:
        bank = tomllib.loads((ROOT / quiz.bank).read_text(encoding="utf-8"))
        named += [(q["section"], f"{quiz.bank} question {q['id']}") for q in bank.get("question", [])]
    for path in sorted((ROOT / "reference").glob("*.py")):
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        line = next((line for line in docstring.splitlines() if line.startswith("Tutorial:")), "")
        named += [(name, f"{path.name}'s docstring") for name in re.findall(r'"([^"]+)"', line)]
    return named


def test_the_course_reads_its_text_from_course_md(course):
    assert course.tutorial_path == ROOT / "docs" / "course.md"
    assert not (ROOT / "docs" / "tutorial.txt").exists(), "docs/course.md replaces docs/tutorial.txt"


def test_every_section_the_course_names_exists_and_is_not_empty(course):
    found = read_sections(course.tutorial_path)
    named = _named_sections(course)
    assert len(named) > 40, "the course names its sections in many places: the search found too few"
    missing = sorted({f"{who}: {name!r}" for name, who in named if name not in found})
    empty = sorted({name for name, _ in named if name in found and not found[name].body.strip()})
    assert missing == [] and empty == []


def test_the_original_sections_keep_their_names_and_order():
    """Hints, quizzes and notebooks written for the original text keep working."""
    original = [
        "The Convolution Operation",
        "Output Size Formula",
        "Padding and Stride",
        "Pooling",
        "Global Average Pooling (GAP)",
        "Architecture Evolution",
        "LeNet-5 (1998)",
        "AlexNet (2012)",
        "VGGNet (2014)",
        "Receptive Field of Stacked 3×3 Convolutions",
        "ResNet (2015)",
        "ResNet Skip Connection Gradient Flow",
        "EfficientNet (2019)",
        "PyTorch ResNet Example",
        "Summary",
        "Practice Exercises",
    ]
    names = [s.name for s in sections(_course_text())]
    assert [n for n in names if n in original] == original


def test_no_heading_carries_an_export_leftover():
    assert [s.name for s in sections(_course_text()) if LEFTOVER.match(s.name)] == []


@pytest.mark.parametrize("what", BLANK_SLOTS)
def test_no_formula_slot_is_blank(what):
    prose = _without_math(_prose(_course_text()))
    holes = [prose[max(m.start() - 40, 0) : m.end() + 10].replace("\n", " ") for m in BLANK_SLOTS[what].finditer(prose)]
    assert holes == [], f"{what}: {holes}"


def test_every_math_span_is_closed_and_not_empty():
    prose = _prose(_course_text())
    assert prose.count("$") % 2 == 0, "an unclosed $ or $$"
    spans = _math_spans(prose)
    assert len(spans) > 100 and [span for span in spans if not "".join(span).strip()] == []


@pytest.mark.parametrize(
    "formula",
    [
        r"\sum_{c=0}^{C-1}",  # the convolution's definition
        r"\frac{W - K + 2P}{S}",  # the output size
        r"D(K-1) - P_{\text{before}}",  # "same" padding, the odd pixel after
        r"\max_{0 \le u < k_h",  # max pooling
        r"\frac{1}{H W}",  # GAP
        r"9\,n\,C^2",  # stacked 3x3 parameters
        r"y = \mathcal{F}(x, \{W_i\}) + x",  # the residual equation
        r"1 + \frac{\partial \mathcal{F}}{\partial x}",  # its gradient
        r"\alpha \cdot \beta^{2} \cdot \gamma^{2} \approx 2",  # the compound-scaling constraint
        r"3 \times 224 \times 224",  # practice 1's input
    ],
)
def test_the_lost_formulas_are_restored(formula):
    assert formula in _course_text()


def test_blank_slot_patterns_catch_the_old_text():
    """The patterns find the holes of the text this file replaced (so the checks above can fail)."""
    old = (
        "the convolution at position is:\n- =Input spatial dimensions\nsubject to . With as a compound\n"
        "Same: Pad so output has same spatial size as input ( for stride 1)\nan image (height , width , channels )"
    )
    hits = {what for what, pattern in BLANK_SLOTS.items() if pattern.search(_without_math(old))}
    assert hits == set(BLANK_SLOTS)
    assert [span for span in _math_spans("a $$ $$ hole and $x$") if not "".join(span).strip()]
