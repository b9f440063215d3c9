"""Stubs come from reference/: solution regions become NotImplementedError, the rest is kept."""

from __future__ import annotations

import re

import pytest
from support import ROOT

from grader.course.manifest import CourseError
from grader.course.stubs import strip_solutions


def test_a_solution_region_becomes_not_implemented_at_its_indentation():
    source = 'def f(x):\n    """Doc."""\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n'
    assert strip_solutions(source) == (
        'def f(x):\n    """Doc."""\n    # YOUR CODE HERE\n    raise NotImplementedError\n'
    )


def test_stub_lines_replace_a_module_level_region():
    source = "### BEGIN SOLUTION\nCONFIGS = {'a': [1, 2]}\n### STUB: CONFIGS = {}\n### END SOLUTION\n"
    assert strip_solutions(source) == "CONFIGS = {}\n"


def test_a_module_level_region_without_stub_lines_is_refused():
    with pytest.raises(CourseError, match="needs '### STUB: ...' lines"):
        strip_solutions("### BEGIN SOLUTION\nX = 1\n### END SOLUTION\n", "ref.py")


@pytest.mark.parametrize(
    "source, message",
    [
        ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", "ref.py:2: ### BEGIN SOLUTION is never closed"),
        ("def f():\n    return 1\n    ### END SOLUTION\n", "ref.py:3: ### END SOLUTION without"),
        (
            "def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n",
            "ref.py:3: ### BEGIN SOLUTION inside the region opened at line 2",
        ),
    ],
)
def test_unbalanced_markers_name_the_file_and_line(source, message):
    with pytest.raises(CourseError, match=re.escape(message)):
        strip_solutions(source, "ref.py")


def test_stubs_carry_no_line_of_any_solution_region():
    for reference in sorted((ROOT / "reference").glob("*.py")):
        stub = (ROOT / "exercises" / reference.name).read_text()
        source = reference.read_text()
        # Provided code and docstrings may spell out a solution's line on purpose: that is no leak.
        given = re.sub(r"### BEGIN SOLUTION\n.*?### END SOLUTION", "", source, flags=re.S)
        for region in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source, re.S):
            secret = [
                line.strip()
                for line in region.splitlines()
                if len(line.strip()) > 25 and not line.strip().startswith("### STUB") and line.strip() not in given
            ]
            leaked = [line for line in secret if line in stub]
            assert leaked == [], f"{reference.name} leaks solution lines into its stub"
