"""Pooling-specific checks: the reference against PyTorch, forbidden calls, feedback in the student's terms."""

from __future__ import annotations

import importlib.util
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from support import ROOT, corpus_text, grade_source


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny tensors: one thread is much faster on a busy machine (restored afterwards)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _load_reference():
    spec = importlib.util.spec_from_file_location("reference_pooling", ROOT / "reference/pooling.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pooling = _load_reference()


def _sides(value):
    return (value, value) if isinstance(value, int) else value


@st.composite
def _cases(draw):
    side = st.integers(1, 4)
    kernel = draw(st.one_of(side, st.tuples(side, side)))
    kh, kw = _sides(kernel)
    padding = draw(
        st.one_of(st.integers(0, min(kh, kw) // 2), st.tuples(st.integers(0, kh // 2), st.integers(0, kw // 2)))
    )
    ph, pw = _sides(padding)
    stride = draw(st.one_of(st.none(), st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    shape = (
        draw(st.integers(1, 2)),
        draw(st.integers(1, 3)),
        draw(st.integers(max(kh - 2 * ph, 1), 8)),
        draw(st.integers(max(kw - 2 * pw, 1), 8)),
    )
    x = np.random.default_rng(draw(st.integers(0, 2**31))).standard_normal(shape)
    return x, kernel, stride, padding


@settings(max_examples=80, deadline=None, database=None)
@given(_cases())
def test_reference_agrees_with_pytorch(case):
    x, kernel, stride, padding = case
    t = torch.from_numpy(x)
    np.testing.assert_array_equal(
        pooling.max_pool2d(x, kernel, stride, padding), F.max_pool2d(t, kernel, stride, padding).numpy()
    )
    np.testing.assert_allclose(
        pooling.avg_pool2d(x, kernel, stride, padding),
        F.avg_pool2d(t, kernel, stride, padding).numpy(),
        rtol=1e-12,
        atol=1e-14,
    )
    np.testing.assert_allclose(
        pooling.global_avg_pool(x), F.adaptive_avg_pool2d(t, 1).numpy()[:, :, 0, 0], rtol=1e-12, atol=1e-14
    )


def test_reference_keeps_float32():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 5)).astype(np.float32)
    for function in (pooling.max_pool2d, pooling.avg_pool2d, pooling.global_avg_pool):
        args = (x,) if function is pooling.global_avg_pool else (x, 2, 1, 1)
        assert function(*args).dtype == np.float32


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
def test_reference_refuses_exactly_what_pytorch_refuses(name):
    x = np.zeros((1, 1, 4, 3))
    for kernel, stride, padding in itertools.product(range(1, 7), [None, 0, 1, 2, 3], range(-1, 4)):
        try:
            getattr(F, name)(torch.from_numpy(x), kernel, stride, padding)
            pytorch_refuses = False
        except RuntimeError:
            pytorch_refuses = True
        try:
            getattr(pooling, name)(x, kernel, stride, padding)
            we_refuse = False
        except ValueError:
            we_refuse = True
        assert we_refuse == pytorch_refuses, (kernel, stride, padding)


def test_calling_pytorch_pooling_is_reported_as_forbidden(course, tmp_path):
    result = grade_source(course, "pooling", corpus_text("pooling/buggy_calls_torch"), tmp_path, public_only=True)
    computing = [t for t in result.tests if "refuse" not in t.name]  # its own checks refuse before calling torch
    assert computing and all(t.reason == "forbidden" and not t.passed for t in computing)
    max_pool = next(t for t in result.tests if "largest value of each 2x2 block" in t.name)
    assert max_pool.message[0] == "call: max_pool2d(x=float64 (1, 1, 4, 4), kernel=2)"
    assert "torch.nn.functional.max_pool2d, which this exercise asks you to write yourself" in max_pool.message[-1]


def test_zero_padded_max_feedback_names_the_case(course, tmp_path):
    result = grade_source(
        course, "pooling", corpus_text("pooling/buggy_zero_padding_in_max"), tmp_path, public_only=True
    )
    test = next(t for t in result.tests if "padding is not a zero that wins" in t.name)
    assert test.message[0].startswith("Your output matches max pooling over a zero-padded input")  # named, public only
    call = next(line for line in test.message if line.startswith("call: "))
    assert call.startswith("call: max_pool2d(x=float64 (1, 1, 3, 3) [-1., -2.,")
    assert call.endswith("kernel=2, stride=1, padding=1)")
    assert "  expected: -1 at index (0, 0, 0, 0)" in test.message
    assert "  got:      0" in test.message
    assert test.hint is None  # the named mistake says why, and where to reread
