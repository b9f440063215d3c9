"""Conv-specific grading behaviour: forbidden calls, determinism, the reference against PyTorch."""

from __future__ import annotations

import json

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from support import ROOT, corpus_text, grade_source

from grader import score
from grader.reports import json_report
from grader.results import GradeReport


def test_calling_pytorch_is_reported_as_forbidden(course, tmp_path):
    result = grade_source(course, "conv", corpus_text("conv/buggy_calls_torch"), tmp_path)
    forbidden = [t for t in result.tests if t.reason == "forbidden"]
    assert forbidden and "torch.nn.functional.conv2d" in forbidden[0].message[-1]


def test_flipped_kernel_feedback_names_the_call_and_both_values(flipped_kernel_graded_twice):
    [result] = flipped_kernel_graded_twice[0].exercises
    by_hand = next(t for t in result.tests if "worked out by hand" in t.name)
    assert by_hand.diagnosis == "flipped_kernel"
    assert by_hand.message[0].startswith("Your output matches a kernel flipped left-right and up-down")
    assert by_hand.message[1].endswith("(tutorial: The Convolution Operation)")
    assert by_hand.message[2].startswith("call: conv2d_forward(x=float64 (1, 1, 3, 3)")
    assert "  expected: -4 at index (0, 0, 0, 0)" in by_hand.message
    assert "got:      4" in " ".join(by_hand.message)
    assert by_hand.hint is None  # the named mistake already says which section to reread


def test_grading_twice_gives_identical_reports(flipped_kernel_graded_twice):
    runs = flipped_kernel_graded_twice
    assert runs[0] is not runs[1]
    assert _without_timings(runs[0]) == _without_timings(runs[1])
    assert 0 < score.total_score(runs[0]) < score.total_max_score(runs[0])


def _without_timings(report: GradeReport) -> dict:
    data = json.loads(json_report.render(report))
    for test in data["tests"]:
        test["extra_data"].pop("duration")
    for exercise in data["exercises"]:
        exercise.pop("duration")
    return data


@st.composite
def _cases(draw):
    n, c, f = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    padding = draw(st.one_of(st.tuples(st.integers(0, 2), st.integers(0, 2)), st.just("valid"), st.just("same")))
    if padding == "same":
        stride = (1, 1)
    pad = (0, 0) if isinstance(padding, str) else padding
    h, w = draw(st.integers(max(kh - 2 * pad[0], 1), 8)), draw(st.integers(max(kw - 2 * pad[1], 1), 8))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    return (
        rng.standard_normal((n, c, h, w)),
        rng.standard_normal((f, c, kh, kw)),
        rng.standard_normal(f),
        stride,
        padding,
    )


@settings(max_examples=60, deadline=None, database=None)
@given(_cases())
def test_reference_agrees_with_pytorch(case):
    import importlib.util

    spec = importlib.util.spec_from_file_location("reference_conv", ROOT / "reference/conv.py")
    conv = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conv)
    x, w, b, stride, padding = case
    expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), stride=stride, padding=padding)
    np.testing.assert_allclose(
        conv.conv2d_forward(x, w, b, stride=stride, padding=padding), expected.numpy(), rtol=1e-10, atol=1e-12
    )
