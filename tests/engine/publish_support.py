"""A tiny course for the publishing tests: one exercise, one quiz, and canaries in every secret.

Each secret carries a canary string that appears nowhere else, so a test can
look for it in the raw bytes of every file of a release (the encrypted bundle
included) and prove the secret was sealed rather than shipped.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from grader.course.manifest import Course, load_course
from grader.course.stubs import write_stubs

SOLUTION_CANARY = "CANARY_SOLUTION_5B1E"
HIDDEN_CANARY = "CANARY_HIDDEN_77AC"
QUIZ_CANARY = "CANARY_QUIZ_KEY_31F0"
CANARIES = (SOLUTION_CANARY, HIDDEN_CANARY, QUIZ_CANARY)

COURSE_TOML = """\
[course]
name = "Tiny course: adding numbers"
tutorial = "docs/tutorial.txt"

[grading]
test_timeout = 10.0
exercise_timeout = 60.0
hypothesis_seed = 7

[[exercise]]
id = "adder"
title = "Adding two numbers"
module = "adder.py"
points = 3
section = "Adding"
public = ["tests/public/test_adder.py"]
hidden = ["tests/hidden/test_adder.py"]
"""

QUIZ_TOML = """
[[quiz]]
id = "basics"
title = "Basics"
bank = "quizzes/basics.toml"
mode = "summative"
"""

TUTORIAL = "Tiny tutorial\nAdding\nTwo numbers are added with +.\nThe sum of 2 and 3 is 5.\n"

REFERENCE = f'''"""Adding two numbers."""


def add(a, b):
    """Return a + b.

    Inputs:
    - a, b: two ints

    Returns:
    - their sum, an int
    """
    ### BEGIN SOLUTION
    total = a + b  # {SOLUTION_CANARY}: the whole solution is this line
    return total
    ### END SOLUTION
'''

PUBLIC_SUITE = '''"""Public tests for exercises/adder.py."""

import pytest

from grader.checks import expect_equal


@pytest.mark.points(1)
def test_small_numbers(student):
    """2 + 3 is 5"""
    expect_equal(student.add(2, 3), 5)
'''

HIDDEN_SUITE = f'''"""Hidden tests for exercises/adder.py ({HIDDEN_CANARY})."""

import pytest

from grader.checks import expect_equal


@pytest.mark.points(2)
def test_negative_numbers_like_the_reference(student, reference):
    """a negative number is added like the reference adds it"""
    expect_equal(student.add(10, -4), reference.add(10, -4))
'''

QUIZ_BANK = f"""[bank]
title = "Basics"

[[question]]
id = "sum"
title = "A sum"
kind = "integer"
section = "Adding"
points = 1
prompt = "What is {{a}} + 3?"
hint = "Add them"
explanation = "{{a}} + 3 = {{answer}}"
params = {{ a = [1, 2] }}
compute = "adder.add(a, 3) + 0 * len('{QUIZ_CANARY}')"
"""


def make_tiny_course(
    root: Path, *, quiz: bool = False, reference: str = REFERENCE, public_suite: str = PUBLIC_SUITE
) -> Course:
    """Write the tiny course into `root` (stubs generated) and load it."""
    files = {
        "course.toml": COURSE_TOML + (QUIZ_TOML if quiz else ""),
        "docs/tutorial.txt": TUTORIAL,
        "reference/adder.py": reference,
        "tests/public/test_adder.py": public_suite,
        "tests/hidden/test_adder.py": HIDDEN_SUITE,
    }
    if quiz:
        files["quizzes/basics.toml"] = QUIZ_BANK
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    course = load_course(root)
    write_stubs(course)
    return course


def grade_in(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m grader ARGS` run with `folder` as the working directory, as a student would."""
    return subprocess.run(
        [sys.executable, "-m", "grader", *args], cwd=folder, capture_output=True, text=True, timeout=600, env=env
    )


def files_holding(root: Path, needle: str) -> list[str]:
    """Every file under `root` whose raw bytes contain `needle`."""
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()
    )
