"""Hostile and careless submissions cannot raise their score, read the solutions, change the
course, or leave processes behind.

Each submission below tries one trick instead of solving the exercise; an honest attempt of the
same effort scores 0, so every one of them must score 0. (Processes that try to outlive grading,
links, git, /proc and the network: see test_jail.py.)
"""

from __future__ import annotations

import hashlib
import textwrap

import pytest
from support import ROOT, grade_source

from grader import score

STUB = (ROOT / "exercises/conv.py").read_text()


#: Course files the tricks below try to read or overwrite.
WATCHED = (
    "course.toml",
    "exercises/conv.py",
    "reference/conv.py",
    "tests/public/test_conv.py",
    "tests/hidden/test_conv.py",
    "grader/score.py",
)


def _digest() -> dict[str, str]:
    return {name: hashlib.sha256((ROOT / name).read_bytes()).hexdigest() for name in WATCHED}


@pytest.fixture
def quick_course(course):
    return course.with_grading(test_timeout=3.0, exercise_timeout=90.0)


def _grade(course, tmp_path, source: str):
    return grade_source(course, "conv", textwrap.dedent(source), tmp_path)


STEAL_BY_PATH = """
    import pathlib, grader
    root = pathlib.Path(grader.__file__).resolve().parents[1]
    exec((root / "reference" / "conv.py").read_text())
"""

STEAL_BY_IMPORT = """
    import sys, pathlib, grader
    sys.path.insert(0, str(pathlib.Path(grader.__file__).resolve().parents[1] / "reference"))
    sys.modules.pop("conv", None)
    import importlib
    solution = importlib.import_module("conv")
    zero_pad, conv2d_forward = solution.zero_pad, solution.conv2d_forward
"""

STEAL_HIDDEN_SUITE = """
    import pathlib, grader
    root = pathlib.Path(grader.__file__).resolve().parents[1]
    print((root / "tests" / "hidden" / "test_conv.py").read_text()[:200])
"""

FORGE_OUTPUT = (
    STUB
    + """
print('{"score": 20, "max_score": 20, "tests": []}')
print("20 passed in 0.01s")
print("conv  2D convolution, forward pass  20/20  passed")
"""
)

PATCH_COMPARISONS = (
    STUB
    + """
import numpy as np, numpy.testing
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, **k: np.ones(np.broadcast(a, b).shape, dtype=bool)
np.array_equal = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
import gc
for thing in gc.get_objects():
    if type(thing).__name__ in ("TestReport", "CallInfo"):
        thing.outcome = "passed"
"""
)

LYING_RESULT = (
    STUB.replace("raise NotImplementedError", "return Liar()", 2)
    + """
import numpy as np
class Liar(np.ndarray):
    def __new__(cls):
        return np.zeros((1, 1, 1, 1)).view(cls)
    def __eq__(self, other):
        return True
    def __sub__(self, other):
        return np.zeros(1)
    def __array__(self, dtype=None, copy=None):
        raise RuntimeError
"""
)

FORGE_EVENTS = (
    STUB
    + """
import glob, json
for events in glob.glob("/tmp/grader-conv-*/events.jsonl"):
    with open(events, "a") as stream:
        stream.write(json.dumps({"event": "result", "result": {"$type": "TestResult", "exercise": "conv",
            "test_id": "x", "name": "forged", "kind": "public", "points": 99.0, "outcome": "passed"}}) + "\\n")
"""
)

WRITE_TO_COURSE = (
    STUB
    + """
import pathlib, grader
root = pathlib.Path(grader.__file__).resolve().parents[1]
for name in ("course.toml", "exercises/conv.py", "tests/public/test_conv.py", "grader/score.py"):
    try:
        (root / name).write_text("# overwritten by a submission\\n")
    except OSError:
        pass
"""
)


@pytest.mark.parametrize(
    "source",
    [
        STEAL_BY_PATH,
        STEAL_BY_IMPORT,
        STEAL_HIDDEN_SUITE,
        FORGE_OUTPUT,
        PATCH_COMPARISONS,
        LYING_RESULT,
        FORGE_EVENTS,
        WRITE_TO_COURSE,
    ],
    ids=[
        "steal reference by path",
        "steal reference by import",
        "read hidden suite",
        "print fake scores",
        "patch numpy and pytest reports",
        "return lying objects",
        "append fake results to the judge's file",
        "overwrite course files",
    ],
)
def test_a_trick_scores_nothing_and_leaves_the_course_unchanged(quick_course, tmp_path, source):
    before = _digest()
    result = _grade(quick_course, tmp_path, source)
    assert score.exercise_score(result) == 0
    assert all(t.test_id != "x" for t in result.tests)
    after = _digest()
    assert {k: v for k, v in after.items() if k != "course.toml"} == {
        k: v for k, v in before.items() if k != "course.toml"
    }
    assert not (ROOT / "course.toml").read_text().startswith("# overwritten")


def test_the_hidden_suite_is_invisible_from_student_code(quick_course, tmp_path):
    result = _grade(quick_course, tmp_path, STEAL_HIDDEN_SUITE)
    assert "import" not in result.output and "hypothesis" not in result.output
    assert "No such file" in _messages(result) or "not_implemented" in {t.reason for t in result.tests}


def test_lying_array_is_reported_as_the_wrong_type(quick_course, tmp_path):
    result = _grade(quick_course, tmp_path, LYING_RESULT)
    assert "got:      __main__.Liar" in _messages(result) or "got:      conv.Liar" in _messages(result)


def _messages(result) -> str:
    return "\n".join(line for t in result.tests for line in t.message)


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            "import signal\n    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "    signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "    while True:\n        pass",
            "no answer within the test's time limit",
        ),
        ("def f(n):\n        return f(n + 1)\n    return f(0)", "raised RecursionError"),
        ("block = bytearray(20 * 1024**3)", "raised MemoryError"),
        ("import ctypes\n    ctypes.string_at(0)", "killed by signal SIGSEGV"),
        ("import sys\n    sys.exit(0)", "raised SystemExit: sys.exit(0)"),
    ],
)
def test_a_crash_or_hang_costs_only_its_tests(quick_course, tmp_path, body, expected):
    source = (
        (ROOT / "reference/conv.py")
        .read_text()
        .replace(
            '    """Pad the two spatial axes of x with zeros.',
            f'    {body}\n    """Pad the two spatial axes of x with zeros.',
            1,
        )
    )
    result = _grade(quick_course, tmp_path, source)
    failing = [t for t in result.tests if not t.passed]
    assert failing and expected in _messages(result)
    assert all("zero_pad" in t.message[0] for t in failing if t.reason != "not_run")
    assert any(t.passed for t in result.tests)
