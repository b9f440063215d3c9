"""`grader check` on a tiny course: each fitness check, the mutation score, equivalents, the cache.

The course has one numpy exercise (`shift`) with five mutants, so a whole check
takes a few seconds; its hidden suite is swapped between a strong and a weak one.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

from support import ROOT
from typer.testing import CliRunner

from grader.authoring.check import CACHE_FILE, CheckOptions, check_course
from grader.cli.app import app
from grader.cli.common import ExitCode
from grader.course.manifest import load_course
from grader.course.stubs import write_stubs

REFERENCE = '''\
"""Shift an array by a non-negative k."""

import numpy as np


def shift(x, k):
    """x + k, in x's dtype.

    Inputs:
    - x: float array
    - k: int, 0 <= k

    Returns:
    - array like x

    Raises ValueError for a negative k.
    """
    ### BEGIN SOLUTION
    if k < 0:
        raise ValueError(f"k must be non-negative, got {k}")
    return (x + k).astype(x.dtype, copy=False)
    ### END SOLUTION
'''
PUBLIC = '''\
import numpy as np
import pytest

from grader.checks import expect_array


@pytest.mark.points(1)
def test_by_hand(student):
    """one value by hand"""
    expect_array(student.shift(np.array([1.0]), 2), np.array([3.0]))
'''
STRONG = '''\
import numpy as np
import pytest
from hypothesis import given, strategies as st

from grader.checks import expect_array, expect_raises


@pytest.mark.points(2)
@pytest.mark.section("Padding and Stride")
@given(st.integers(0, 3))
def test_values(student, reference, k):
    """values for small k, zero included"""
    x = np.arange(4.0)
    expect_array(student.shift(x, k), reference.shift(x, k))


@pytest.mark.points(1)
def test_refuses_negative_k(student):
    """a negative k is refused"""
    expect_raises(ValueError, student.shift, np.arange(4.0), -1)
'''
WEAK = '''\
import numpy as np
import pytest

from grader.checks import expect_array


@pytest.mark.points(3)
def test_values(student, reference):
    """k = 2 only"""
    x = np.arange(4.0)
    expect_array(student.shift(x, 2), reference.shift(x, 2))
'''
EQUIVALENT = '"shift: return (x + k).astype(x.dtype, copy=False) -> return (x + k).astype(x.dtype, copy=True)"'


def make_course(folder: Path, hidden: str = STRONG) -> Path:
    (folder / "docs").mkdir(parents=True)
    shutil.copy(ROOT / "docs" / "course.md", folder / "docs" / "course.md")
    for name, text in (
        ("reference/shift.py", REFERENCE),
        ("tests/public/test_shift.py", PUBLIC),
        ("tests/hidden/test_shift.py", hidden),
    ):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    (folder / "course.toml").write_text(
        textwrap.dedent("""\
        [course]
        name = "tiny"
        tutorial = "docs/course.md"

        [grading]
        test_timeout = 5.0
        exercise_timeout = 30.0
        hypothesis_examples = 10
        hypothesis_seed = 1

        [[exercise]]
        id = "shift"
        title = "Shift"
        module = "shift.py"
        points = 4
        section = "Pooling"
        public = ["tests/public/test_shift.py"]
        hidden = ["tests/hidden/test_shift.py"]
        """)
    )
    write_stubs(load_course(folder))
    return folder


def declare(folder: Path, *entries: tuple[str, str]) -> None:
    text = "".join(f'[[equivalent]]\nexercise = "shift"\nmutant = {m}\nreason = "{r}"\n\n' for m, r in entries)
    (folder / "tests/hidden/equivalent_mutants.toml").write_text(text)


def check(folder: Path, **options):
    return check_course(load_course(folder), CheckOptions(**options)).exercises[0]


def test_a_strong_suite_kills_every_mutant_but_the_equivalent_one(tmp_path):
    course = make_course(tmp_path)
    result = check(course)
    assert (result.reference_passed, result.tests, result.stub_failed_hidden, result.hidden_tests) == (3, 3, 2, 2)
    assert result.points == 4 and len(result.mutants) == 5
    assert [m.id for m in result.survivors] == [EQUIVALENT.strip('"')]
    assert result.score == 80.0 and not result.ok
    assert result.problems == ("mutation score 80.0% is below 90%",)

    declare(course, (EQUIVALENT, "astype's copy flag changes no value"))
    result = check(course)
    assert result.cached, "declaring an equivalent mutant recomputes nothing"
    assert (result.killed, result.equivalent, result.score, result.ok) == (4, 1, 100.0, True)
    assert next(m for m in result.mutants if m.status == "equivalent").reason == "astype's copy flag changes no value"


def test_a_weak_suite_lists_its_survivors_as_diffs(tmp_path):
    course = make_course(tmp_path, hidden=WEAK)
    declare(course, (EQUIVALENT, "same values"))
    result = check(course)
    survivors = {m.id: m for m in result.survivors}
    assert set(survivors) == {
        'shift: if k < 0: raise ValueError(f"k must be non-negative, got {k}") -> pass',
        "shift: if k < 0: -> if k <= 0:",
        "shift: if k < 0: -> if k < 1:",
    }
    assert result.score == 25.0
    assert "-    if k < 0:\n+    if k <= 0:" in survivors["shift: if k < 0: -> if k <= 0:"].diff
    assert not any(m.public_catches for m in survivors.values())


def test_the_cache_recomputes_only_what_changed(tmp_path):
    course = make_course(tmp_path)
    first = check(course)
    assert not first.cached and (course / CACHE_FILE).is_file()
    assert check(course).cached
    entry = json.loads((course / CACHE_FILE).read_text())["exercises"]["shift"]
    assert set(entry["mutants"]) == {m.id for m in first.mutants}
    (course / "tests/hidden/test_shift.py").write_text(WEAK)
    changed = check(course)
    assert not changed.cached and changed.score < first.score
    assert not check(course, fresh=True).cached
    assert check(course, mutation=False).cached, "a check without mutants may use a cached full one"


def test_unfit_exercises_are_reported(tmp_path):
    course = make_course(tmp_path)
    (course / "tests/hidden/test_shift.py").write_text(
        STRONG.replace("@pytest.mark.points(1)", "@pytest.mark.points(2)").replace(
            '"Padding and Stride"', '"No Such Section"'
        )
        + PASSES_ON_THE_STUB
        + FAILS_ON_THE_REFERENCE
    )
    (course / "reference/shift.py").write_text(REFERENCE + "\n# changed after the stub was generated\n")
    problems = "\n".join(check(course, mutation=False).problems)
    assert "fails on the reference: tests/hidden/test_shift.py::test_wrong_expectation (mismatch)" in problems
    assert "passes on the stub: tests/hidden/test_shift.py::test_nothing_really" in problems
    assert "the tests' points add up to 7, course.toml says 4" in problems
    assert "names the section 'No Such Section', which is not a section of docs/course.md" in problems
    assert "exercises/shift.py is stale: run `grader stubs`" in problems


PASSES_ON_THE_STUB = '''

@pytest.mark.points(1)
def test_nothing_really(student):
    """asserts nothing about the student"""
    assert True
'''
FAILS_ON_THE_REFERENCE = '''

@pytest.mark.points(1)
def test_wrong_expectation(student):
    """expects the wrong value"""
    expect_array(student.shift(np.array([1.0]), 1), np.array([5.0]))
'''


def test_a_mutant_that_hangs_is_killed_by_the_time_limit(tmp_path):
    course = make_course(tmp_path)
    looping = REFERENCE.replace("    return (x + k)", "    i = 0\n    while i < k:\n        i += 1\n    return (x + k)")
    (course / "reference/shift.py").write_text(looping)
    write_stubs(load_course(course))
    result = check(course)
    minus = next(m for m in result.mutants if m.id == "shift: i += 1 -> i -= 1")
    assert minus.status == "killed" and minus.by.startswith("tests/hidden/test_shift.py::")
    assert "shift: while i < k: -> while i <= k:" in {m.id for m in result.survivors}  # busy work: equivalent


def test_equivalent_declarations_need_a_reason_and_stale_ones_are_flagged(tmp_path):
    course = make_course(tmp_path)
    declare(course, (EQUIVALENT, " "), ('"shift: no such mutant"', "was once"))
    report = check_course(load_course(course), CheckOptions(mutation=False))
    assert report.problems == (
        (
            "equivalent_mutants.toml: [[equivalent]] number 1 needs exactly exercise (one of "
            "the course's), mutant and a reason"
        ),
    )
    assert not report.ok


def test_the_command_prints_the_table_and_fails_below_the_bar(tmp_path):
    course = make_course(tmp_path, hidden=WEAK)
    result = CliRunner().invoke(app, ["check", "--course", str(course)])
    assert result.exit_code == ExitCode.BELOW_THRESHOLD, result.output
    lines = result.output.splitlines()
    header = next(line for line in lines if line.lstrip().startswith("exercise"))
    assert header.split() == ["exercise", "ref.", "stub", "points", "equiv.", "killed", "score", "time"]
    assert next(line for line in lines if line.startswith("shift")).split()[:8] == [
        "shift",
        "2/2",
        "1/1",
        "4",
        "0",
        "1/5",
        "20.0%",
        "FAIL",
    ]
    assert "mutant: shift: if k < 0: -> if k <= 0:" in result.output
    assert "+    if k <= 0:" in result.output
    assert result.output.rstrip().splitlines()[-1].startswith("course check failed: shift")

    passing = CliRunner().invoke(app, ["check", "--course", str(course), "--min-mutation-score", "20"])
    assert passing.exit_code == ExitCode.OK, passing.output
    assert "cached" in passing.output
    assert CliRunner().invoke(app, ["check", "nope", "--course", str(course)]).exit_code == ExitCode.USAGE


def test_a_check_without_mutants_does_not_call_every_declaration_stale(tmp_path):
    """--no-mutation generates no mutants, so it cannot know which declarations are stale: it says nothing."""
    course = make_course(tmp_path)
    declare(course, (EQUIVALENT, "astype's copy flag changes no value"), ('"shift: no such mutant"', "was once"))
    assert check(course, mutation=False).warnings == ()
    assert check(course).warnings == ("declared equivalent, but no such mutant (any more): shift: no such mutant",)


def test_a_fresh_check_that_only_timed_differently_leaves_the_cache_file_alone(tmp_path):
    """--fresh recomputes everything, but a cache whose verdicts did not change is not rewritten (no diff to commit)."""
    course = make_course(tmp_path)
    check(course)
    before = (course / CACHE_FILE).read_bytes()
    again = check(course, fresh=True)
    assert not again.cached
    assert (course / CACHE_FILE).read_bytes() == before
    (course / "tests/hidden/test_shift.py").write_text(WEAK)
    check(course, fresh=True)
    assert (course / CACHE_FILE).read_bytes() != before, "a verdict that changed is saved"
