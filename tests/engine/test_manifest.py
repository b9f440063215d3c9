"""course.toml is validated on load; every refusal names the key, and the line where it can."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import ROOT

from grader.course.manifest import CourseError, load_course


@pytest.fixture
def course_dir(tmp_path) -> Path:
    """A copy of the course's files that a test may break."""
    for name in ("course.toml", "docs", "reference", "exercises", "tests/public", "tests/hidden"):
        source = ROOT / name
        target = tmp_path / name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
    return tmp_path


def _break(course_dir: Path, old: str, new: str) -> str:
    path = course_dir / "course.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(CourseError) as error:
        load_course(course_dir)
    return str(error.value)


def _line(course_dir: Path, fragment: str) -> int:
    return next(
        n for n, line in enumerate((course_dir / "course.toml").read_text().splitlines(), 1) if fragment in line
    )


def test_the_course_loads():
    course = load_course(ROOT)
    assert course.exercise("conv").points > 0


def test_toml_syntax_error_names_the_line(course_dir):
    message = _break(course_dir, 'id = "conv"', 'id = "conv')
    line = _line(course_dir, 'id = "conv')
    assert "TOML syntax error" in message and f"line {line}" in message


def test_wrong_type_names_the_key_and_its_line(course_dir):
    message = _break(course_dir, "points = 20", 'points = "twenty"')
    assert "key 'exercise[conv].points'" in message
    line = _line(course_dir, 'points = "twenty"')
    assert f"course.toml:{line}:" in message


def test_unknown_key_is_refused(course_dir):
    message = _break(course_dir, "test_timeout = 20.0", "test_timeout = 20.0\ntest_timeuot = 3")
    assert "key 'grading.test_timeuot': unknown key" in message
    assert f":{_line(course_dir, 'test_timeuot')}:" in message


def test_missing_required_key_is_named(course_dir):
    message = _break(course_dir, 'title = "2D convolution, forward pass"\n', "")
    assert "key 'exercise[conv].title'" in message


def test_negative_timeout_is_refused(course_dir):
    assert "grading.test_timeout" in _break(course_dir, "test_timeout = 20.0", "test_timeout = -1")


def test_section_must_exist_in_the_tutorial(course_dir):
    message = _break(course_dir, 'section = "The Convolution Operation"', 'section = "The Convolution Operator"')
    assert "exercise[conv].section" in message and "not a section of docs/course.md" in message


def test_missing_public_suite_is_refused(course_dir):
    message = _break(course_dir, 'public = ["tests/public/test_conv.py"]', 'public = ["tests/public/test_convv.py"]')
    assert "exercise[conv].public" in message and "no file tests/public/test_convv.py" in message


def test_duplicate_exercise_ids_are_refused(course_dir):
    text = (course_dir / "course.toml").read_text()
    start = text.index('[[exercise]]\nid = "conv"')
    end = text.index("\n[[exercise]]", start + 1) if "\n[[exercise]]" in text[start + 1 :] else len(text)
    (course_dir / "course.toml").write_text(text + "\n" + text[start:end])
    with pytest.raises(CourseError, match="duplicate exercise id 'conv'"):
        load_course(course_dir)


def test_forbidden_names_must_be_dotted(course_dir):
    assert "expected a dotted name" in _break(course_dir, '"torch.conv2d",', '"conv2d",')


def test_exercise_limit_below_test_limit_is_refused(course_dir):
    assert "grading.exercise_timeout" in _break(course_dir, "exercise_timeout = 120.0", "exercise_timeout = 5.0")
