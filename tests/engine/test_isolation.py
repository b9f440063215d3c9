"""A submission that hangs, exits, crashes or does not parse costs its own tests, and nothing else.

Each case is graded with short time limits; the report must still be complete: every test of
the exercise present, with a message that says what happened.
"""

from __future__ import annotations

import textwrap

import pytest
from support import ROOT, grade_source

from grader import score

REFERENCE = (ROOT / "reference/conv.py").read_text()


@pytest.fixture
def quick_course(course):
    return course.with_grading(test_timeout=2.0, exercise_timeout=60.0)


def _module(extra: str) -> str:
    """The reference with extra module-level code appended."""
    return REFERENCE + "\n" + textwrap.dedent(extra)


def _messages(result) -> str:
    return "\n".join(line for t in result.tests for line in t.message)


def test_syntax_error_names_the_file_and_line(quick_course, tmp_path):
    result = grade_source(
        quick_course, "conv", "import numpy as np\n\ndef zero_pad(x, padding)\n    return x\n", tmp_path
    )
    assert score.exercise_score(result) == 0 and result.tests
    assert {t.reason for t in result.tests} == {"import"}
    assert "conv.py, line 3" in result.tests[0].message[0]


def test_exit_at_import_costs_the_exercise_with_a_clear_message(quick_course, tmp_path):
    result = grade_source(quick_course, "conv", _module("import sys\nsys.exit(3)\n"), tmp_path)
    assert score.exercise_score(result) == 0
    assert "importing conv.py raised SystemExit: sys.exit(3)" in result.tests[0].message[0]


def test_os_exit_at_import_is_reported_as_the_process_ending(quick_course, tmp_path):
    result = grade_source(quick_course, "conv", _module("import os\nos._exit(4)\n"), tmp_path)
    assert score.exercise_score(result) == 0
    assert "exited with code 4" in result.tests[0].message[0]


def test_endless_loop_at_import_times_out(quick_course, tmp_path):
    result = grade_source(quick_course, "conv", _module("while True:\n    pass\n"), tmp_path)
    assert score.exercise_score(result) == 0 and result.tests
    assert "did not finish within" in _messages(result)


def test_hang_in_one_function_fails_its_tests_and_the_others_still_pass(quick_course, tmp_path):
    source = REFERENCE.replace(
        '    ph, pw = _pair(padding, "padding")\n    if ph < 0',
        '    while True:\n        pass\n    ph, pw = _pair(padding, "padding")\n    if ph < 0',
        1,
    )
    result = grade_source(quick_course, "conv", source, tmp_path)
    timed_out = [t for t in result.tests if t.reason == "timeout"]
    assert timed_out and all("zero_pad" in t.message[0] for t in timed_out)
    assert any(t.passed for t in result.tests if "conv2d_forward" in t.name or "kernel" in t.name)


def test_os_exit_in_a_call_costs_that_call_only(quick_course, tmp_path):
    source = REFERENCE.replace(
        '    ph, pw = _pair(padding, "padding")\n    if ph < 0',
        '    import os\n    os._exit(9)\n    ph, pw = _pair(padding, "padding")\n    if ph < 0',
        1,
    )
    result = grade_source(quick_course, "conv", source, tmp_path)
    crashed = [t for t in result.tests if t.reason == "crash"]
    assert crashed and "exited with code 9" in crashed[0].message[-1]
    assert sum(t.passed for t in result.tests) >= 10


def test_output_flood_is_cut_and_grading_goes_on(quick_course, tmp_path):
    source = REFERENCE.replace("    N, C, H, W = x.shape\n", '    print("x" * 100_000)\n    N, C, H, W = x.shape\n', 1)
    result = grade_source(quick_course, "conv", source, tmp_path)
    assert score.exercise_score(result) == quick_course.exercise("conv").points
    assert len(result.output) < 20_000 and "more bytes of output cut" in result.output


def test_student_exception_shows_only_the_students_frames(quick_course, tmp_path):
    source = REFERENCE.replace("    N, C, H, W = x.shape\n", "    N, C, H, W = x.shape\n    [][N]\n", 1)
    result = grade_source(quick_course, "conv", source, tmp_path)
    raised = [t for t in result.tests if t.reason == "exception"]
    assert raised
    text = "\n".join(raised[0].message)
    assert "raised IndexError: list index out of range" in text
    assert "conv.py, line" in text and "[][N]" in text
    assert "grader" not in text.replace("conv.py", "")


def test_missing_function_is_named(quick_course, tmp_path):
    source = REFERENCE.replace("def zero_pad(", "def zero_padding(", 1)
    result = grade_source(quick_course, "conv", source, tmp_path)
    missing = [t for t in result.tests if t.reason == "missing"]
    assert missing and "'zero_pad'" in missing[0].message[0]


def test_wrong_signature_is_named(quick_course, tmp_path):
    source = REFERENCE.replace(
        "def conv2d_forward(x, weight, bias=None, stride=1, padding=0):",
        "def conv2d_forward(x, weight, bias=None, step=1, padding=0):",
        1,
    )
    result = grade_source(quick_course, "conv", source, tmp_path)
    messages = _messages(result)
    assert "unexpected keyword argument 'stride'" in messages
    assert "keep the signature the exercise gives" in messages
