"""What a student reads: each mistake named once with its tests, the rest located, at 80 columns.

The report is checked on results built here (no grading), except where the point is what
grading a real submission prints: a module the exercise imports that does not load, and the
README's sample, which must be the grader's own output.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from support import ROOT, corpus_text, grade_source

from grader.checks import Mismatch, expect_array
from grader.feedback import marker_hint_fits
from grader.reports import json_report, text_report
from grader.results import ExerciseResult, Finding, GradeReport, TestResult

FLIPPED = Finding(
    "flipped_kernel",
    (
        "Your output matches a kernel flipped left-right and up-down:",
        "  that is true convolution; PyTorch and this course compute cross-correlation, "
        "which slides the kernel as it is (tutorial: The Convolution Operation)",
    ),
)
NO_BIAS = Finding(
    "bias_dropped",
    (
        "Your output matches the convolution without its bias:",
        "  every output channel f adds its bias b[f] at every position (tutorial: The Convolution Operation)",
    ),
)
DIFFERENCE = (
    "call: conv2d_forward(x=float64 (2, 3, 7, 7) [0.5, -1.25, ...], weight=float64 (4, 3, 3, 3) "
    "[0.25, 0.5, ...], bias=float64 (4,) [1., 2., 3., 4.], stride=(2, 1), padding='same')",
    "the result has the right shape but wrong values at 12 of 96 positions",
    "  expected: 1.5 at index (0, 0, 0, 0)",
    "  got:      -0.5",
)


def _failed(name: str, *findings: Finding, points: float = 1, hint: str | None = None) -> TestResult:
    lines = tuple(line for f in findings for line in f.lines)
    return TestResult(
        "conv",
        f"tests/hidden/test_conv.py::{name}",
        name.replace("_", " "),
        "hidden",
        points,
        "failed",
        "mismatch",
        lines + DIFFERENCE,
        hint=hint,
        diagnosis=findings[0].name if findings else None,
        findings=findings,
    )


def _report(*tests: TestResult) -> GradeReport:
    passed = TestResult("conv", "t::passes", "passes", "public", 4, "passed")
    exercise = ExerciseResult("conv", "2D convolution, forward pass", "The Convolution Operation", 20, (passed, *tests))
    return GradeReport(
        "CNN Deep Dive: LeNet to ResNet to EfficientNet, a title longer than it should be in a terminal",
        "submission",
        (exercise,),
    )


def test_each_mistake_is_named_once_with_the_tests_it_explains_listed_under_it():
    report = _report(
        _failed("worked_by_hand", FLIPPED),
        _failed("bias_is_added", NO_BIAS),
        _failed("pairs_and_same", FLIPPED, NO_BIAS, points=2),
        _failed("not_explained", hint="padding may be (ph, pw)"),
    )
    text = text_report.render(report)
    assert text.count("kernel flipped left-right") == 1 and text.count("without its bias") == 1
    flipped, no_bias = text.index("kernel flipped"), text.index("without its bias")
    assert flipped < text.index("- worked by hand (0/1)") < no_bias < text.index("- bias is added (0/1)")
    assert text.count("- pairs and same (0/2)") == 2, "a test that shows both mistakes is listed under each"
    assert "it shows in 2 tests (3 points):" in text
    assert text.count("call: conv2d_forward") == 1, "only the unexplained test shows its located difference"
    assert "✗ not explained (wrong result, 0/1)" in text and "hint: padding may be (ph, pw)" in text


def test_every_line_fits_80_columns_and_wrapped_lines_keep_a_hanging_indent():
    report = _report(_failed("worked_by_hand", FLIPPED), _failed("not_explained_" + "x" * 90, hint="h " * 60))
    lines = text_report.render(report).splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[0].startswith("CNN Deep Dive") and not lines[1].startswith(" "), "the title is one line"
    start = next(n for n, line in enumerate(lines) if "call: conv2d_forward" in line)
    assert all(line.startswith(" " * 10) for line in lines[start + 1 : start + 3]), lines[start : start + 3]
    explanation = next(n for n, line in enumerate(lines) if "that is true convolution" in line)
    assert lines[explanation].startswith(" " * 6) and lines[explanation + 1].startswith(" " * 8)


def test_a_long_list_of_explained_tests_is_cut_to_a_few_names():
    tests = [_failed(f"case_{n}", FLIPPED) for n in range(12)]
    text = text_report.render(_report(*tests))
    assert "and 7 more tests" in text and "- case 5" not in text


def test_a_cut_test_name_keeps_its_case_id_and_points():
    test = _failed("the_block_layers_match_the_reference_with_a_projection_where_the_shapes_differ", FLIPPED)
    test = TestResult(**{**test.__dict__, "name": test.name + " [16-32-2]"})
    line = next(line for line in text_report.render(_report(test)).splitlines() if line.startswith("      - "))
    assert line.endswith("… [16-32-2] (0/1)") and len(line) <= 80


def test_json_keeps_every_tests_own_diagnosis_and_all_its_findings():
    report = _report(_failed("worked_by_hand", FLIPPED), _failed("pairs_and_same", FLIPPED, NO_BIAS))
    tests = {t["name"]: t for t in json.loads(json_report.render(report))["tests"]}
    both = tests["conv: pairs and same"]
    assert both["extra_data"]["diagnosis"] == "flipped_kernel"
    assert both["extra_data"]["diagnoses"] == ["flipped_kernel", "bias_dropped"]
    assert both["output"].startswith(FLIPPED.lines[0]) and NO_BIAS.lines[0] in both["output"]


# -- grading real submissions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "breakage, where",
    [
        (
            lambda text: text.replace("def round_filters(", "def round_filters(:", 1),
            r"scaling\.py, line \d+: invalid syntax",
        ),
        (lambda text: "from mathx import ceil\n" + text, r"No module named 'mathx' at scaling\.py, line 1"),
    ],
    ids=["syntax_error", "missing_import"],
)
def test_a_module_the_exercise_imports_that_does_not_load_is_named_on_every_test(course, tmp_path, breakage, where):
    """efficientnet.py imports the student's scaling.py: its error, with its file and line, never a grader error."""
    broken = tmp_path / "scaling.py"
    broken.write_text(breakage((ROOT / "reference/scaling.py").read_text()))
    result = grade_source(
        course, "efficientnet", ROOT / "reference/efficientnet.py", tmp_path, extra={"scaling.py": broken}
    )
    others = [(t.name, t.outcome, t.reason, t.message) for t in result.tests if t.reason != "import"]
    assert {(t.outcome, t.reason) for t in result.tests} == {("failed", "import")}, others
    assert all(re.search(where, "\n".join(t.message)) for t in result.tests), result.tests[0].message
    text = text_report.render(GradeReport("course", "s", (result,)))
    assert f"cannot be imported: every test fails ({len(result.tests)} tests" in text


def test_the_readmes_sample_feedback_is_what_the_grader_prints(flipped_kernel_graded_twice):
    """The README shows the report of a conv.py with a flipped kernel: the grader's own words."""
    readme = (ROOT / "README.md").read_text()
    sample = re.search(r"with a flipped kernel:\n\n```\n(.*?)```", readme, re.S)
    assert sample, "README.md has no sample report after 'with a flipped kernel'"
    [result] = flipped_kernel_graded_twice[0].exercises
    printed = "\n".join(text_report.exercise_text(result, width=80).splitlines()[1:]) + "\n"
    assert sample.group(1) == printed


def test_public_only_names_the_mistakes_it_sees(course, tmp_path):
    """The catalogues run in the judge, never in the student's process: a public run uses them too."""
    result = grade_source(course, "lenet", corpus_text("lenet/two_max_pooling_and_relu"), tmp_path, public_only=True)
    assert {t.kind for t in result.tests} == {"public"}
    assert {name for t in result.tests for name in t.diagnoses} == {"max_pooling", "relu_activation"}


def test_a_hint_written_for_one_kind_of_failure_is_shown_only_on_that_kind(course, tmp_path):
    """The float32 test's hint is about the dtype: on wrong values (a mistake no entry names) it would
    send the student the wrong way, so that test falls back to the tutorial section."""
    scaled = (
        (ROOT / "reference/conv.py")
        .read_text()
        .replace("return out.astype(x.dtype, copy=False)", "return (1.5 * out).astype(x.dtype, copy=False)")
    )
    result = grade_source(course, "conv", scaled, tmp_path)
    float32 = next(t for t in result.tests if t.name.startswith("float32 input gives a float32 output"))
    assert not float32.passed and float32.findings == ()
    assert "wrong values" in "\n".join(float32.message)
    assert float32.hint == "reread 'The Convolution Operation' in the tutorial"


def test_a_hint_marked_for_a_kind_fits_only_a_mismatch_of_that_kind():
    def raised(got):
        try:
            expect_array(got, np.zeros(3, dtype=np.float32))
        except Mismatch as error:
            return error

    wrong_dtype, wrong_values = raised(np.zeros(3)), raised(np.ones(3, dtype=np.float32))
    assert (wrong_dtype.kind, wrong_values.kind) == ("dtype", "values")
    assert marker_hint_fits("dtype", wrong_dtype) and not marker_hint_fits("dtype", wrong_values)
    assert marker_hint_fits(("values", "shape"), wrong_values) and marker_hint_fits(None, wrong_values)
    assert not marker_hint_fits("dtype", AssertionError("a plain assert says no kind"))
