"""Mutants of reference modules: one small change each, only inside solution regions, stable ids."""

from __future__ import annotations

import ast
import difflib

import pytest
from support import ROOT

from grader.authoring.mutation import mutants, solution_regions
from grader.course.manifest import load_course
from grader.course.stubs import strip_solutions

SOURCE = '''\
"""A module: only the solution regions are the student's."""

import numpy as np

LIMIT = 3   # outside every region: never mutated


def helper(a, b):
    return a + b if a < b else a - b


def shift(x, k, scale=2):
    """x * scale + k.

    Inputs:
    - x: array
    """
    ### BEGIN SOLUTION
    if k < 0 or k > 10:
        raise ValueError(f"k must be in [0, 10], got {k}")
    out = x * scale + k
    out = np.clip(out, -5, 5)
    out += 1
    return np.where(not_negative(out), out, 0)
    ### END SOLUTION


def not_negative(values):
    ### BEGIN SOLUTION
    return -values <= 0
    ### END SOLUTION
'''


def by_id():
    return {m.id: m for m in mutants(SOURCE, "shift.py")}


def test_solution_regions_are_the_lines_between_the_markers():
    lines = SOURCE.splitlines()
    regions = solution_regions(SOURCE)
    assert len(regions) == 2
    for first, last in regions:
        assert lines[first - 2].strip() == "### BEGIN SOLUTION" and lines[last].strip() == "### END SOLUTION"


def test_only_code_inside_solution_regions_is_mutated():
    regions = solution_regions(SOURCE)
    for mutant in mutants(SOURCE, "shift.py"):
        matcher = difflib.SequenceMatcher(a=SOURCE.splitlines(), b=mutant.source.splitlines(), autojunk=False)
        changed = [
            n + 1 for tag, i1, i2, _, _ in matcher.get_opcodes() if tag != "equal" for n in range(i1, max(i2, i1 + 1))
        ]
        assert changed and all(any(f <= n <= last for f, last in regions) for n in changed), mutant.id
        # the stub is the same for every mutant: only the student's part differs
        assert strip_solutions(mutant.source) == strip_solutions(SOURCE)


@pytest.mark.parametrize(
    "mutant_id",
    [
        "shift: if k < 0 or k > 10: -> if k <= 0 or k > 10:",  # comparison boundary
        "shift: if k < 0 or k > 10: -> if k < 0 or k >= 10:",
        "shift: if k < 0 or k > 10: -> if k < 1 or k > 10:",  # constant off by one
        "shift: if k < 0 or k > 10: -> if k < 0 and k > 10:",  # boolean operator
        "shift: out = x * scale + k -> out = x / scale + k",  # arithmetic
        "shift: out = x * scale + k -> out = x * scale - k",
        "shift: out = np.clip(out, -5, 5) -> pass",  # dropped statement (a rebinding)
        "shift: out = np.clip(out, -5, 5) -> out = np.clip(out, 5, 5)",  # unary minus dropped
        "shift: out = np.clip(out, -5, 5) -> out = np.clip(out, -5, 6)",
        "shift: out += 1 -> pass",
        "shift: out += 1 -> out -= 1",  # augmented assignment
        "not_negative: return -values <= 0 -> return values <= 0",
        "not_negative: return -values <= 0 -> return -values < 0",
    ],
)
def test_each_operator_makes_its_mutant(mutant_id):
    assert mutant_id in by_id()


def test_a_check_and_its_raise_are_dropped_once_not_twice():
    dropped = [i for i in by_id() if i.endswith("-> pass") and "ValueError" in i or "raise" in i.split("->")[0]]
    assert len(dropped) == 1, dropped


def test_first_bindings_docstrings_messages_and_name_literal_swaps_are_left_alone():
    ids = by_id()
    assert not any(i.startswith("shift: out = x * scale + k -> pass") for i in ids)  # NameError, not a mutant
    assert not any("must be in" in i.split("->")[1] and "raise" in i for i in ids)  # f-string messages
    assert not any("LIMIT" in i or i.startswith("helper") for i in ids)  # outside the regions


def test_neighbouring_arguments_of_the_same_kind_are_swapped():
    assert "shift: return np.where(not_negative(out), out, 0) -> return np.where(out, not_negative(out), 0)" in by_id()
    source = (
        "def f(a, b):\n    ### BEGIN SOLUTION\n    return max(a, b) - pow(2, 3) + g(a, 'name')\n    ### END SOLUTION\n"
    )
    ids = {m.id for m in mutants(source)}
    assert "f: return max(a, b) - pow(2, 3) + g(a, 'name') -> return max(b, a) - pow(2, 3) + g(a, 'name')" in ids
    assert "f: return max(a, b) - pow(2, 3) + g(a, 'name') -> return max(a, b) - pow(3, 2) + g(a, 'name')" in ids
    assert not any("g('name', a)" in i for i in ids)


def test_every_mutant_parses_differs_and_has_a_short_diff():
    found = mutants(SOURCE, "shift.py")
    assert len({m.source for m in found}) == len(found) == len({m.id for m in found})
    for mutant in found:
        ast.parse(mutant.source)
        assert mutant.source != SOURCE
        assert mutant.diff.startswith("--- a/shift.py\n+++ b/shift.py\n@@")
        assert len(mutant.diff.splitlines()) <= 10


def test_ids_stay_the_same_when_unrelated_code_moves():
    moved = SOURCE.replace("LIMIT = 3", "LIMIT = 3\nOTHER = 4\n\n\n# a comment")
    assert [m.id for m in mutants(moved)] == [m.id for m in mutants(SOURCE)]
    assert [m.line for m in mutants(moved)] == [m.line + 4 for m in mutants(SOURCE)]


def test_non_ascii_text_before_an_operator_keeps_the_edit_in_place():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    y = {'é→': 1}['é→'] + x\n    return y\n    ### END SOLUTION\n"
    ids = {m.id for m in mutants(source)}
    assert "f: y = {'é→': 1}['é→'] + x -> y = {'é→': 1}['é→'] - x" in ids
    assert "f: y = {'é→': 1}['é→'] + x -> y = {'é→': 2}['é→'] + x" in ids


def test_module_level_regions_are_mutated_too():
    source = "### BEGIN SOLUTION\nCONFIGS = {'a': [64, 'M']}\n### STUB: CONFIGS = {}\n### END SOLUTION\n"
    assert [m.id for m in mutants(source)] == ["<module>: CONFIGS = {'a': [64, 'M']} -> CONFIGS = {'a': [65, 'M']}"]


@pytest.mark.parametrize("exercise", [e for e in load_course(ROOT).exercises], ids=lambda e: e.id)
def test_every_reference_of_the_course_has_mutants(course, exercise):
    path = course.reference_file(exercise)
    found = mutants(path.read_text(encoding="utf-8"), exercise.module)
    assert found, f"{exercise.id}: no mutant: are there solution regions?"
    assert len({m.id for m in found}) == len(found)
