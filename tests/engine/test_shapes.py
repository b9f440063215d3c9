"""Shapes-specific checks: the reference against PyTorch, the layer probes, and the hidden suite's machinery.

The reference's sizes are compared with PyTorch on exhaustive small grids
(refusals included), its shapes with running the layer stacks the hidden suite
generates, its receptive fields with the suite's impulse oracle. The suite's
`check_output_shape` is exercised on a fake student that runs the probes in
this process, so its diagnosis is tested without a grading run.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
import types
import warnings

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given, settings
from support import ROOT, corpus_text, grade_source

from grader import probes
from grader.checks import Mismatch
from grader.engine import wire
from grader.engine.student import Call
from grader.judging.layers import describe
from grader.probes.layers import build


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny tensors: one thread is much faster on a busy machine (restored afterwards)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


shapes = _load("reference_shapes", ROOT / "reference/shapes.py")
_threads = torch.get_num_threads()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)  # points/hint/section: the grading plugin's marks
    suite = _load("hidden_test_shapes", ROOT / "tests/hidden/test_shapes.py")
torch.set_num_threads(_threads)  # the suite sets one thread for its judge process, not for this one

PRACTICE = [
    ("Conv2d", {"in_channels": 3, "out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3}),
    ("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
    ("Conv2d", {"in_channels": 64, "out_channels": 128, "kernel_size": 3, "stride": 1, "padding": 1}),
]


def _outcome(function, *args, **kwargs):
    """The result, or "refused" for the reference's ValueError and PyTorch's RuntimeError."""
    try:
        return function(*args, **kwargs)
    except (ValueError, RuntimeError):
        return "refused"


# -- sizes ---------------------------------------------------------------------------
def test_conv_output_size_agrees_with_pytorch_on_a_grid():
    for size, kernel, stride, padding, dilation in itertools.product(
        range(1, 10), range(1, 6), range(0, 4), range(-1, 3), range(1, 4)
    ):
        expected = _outcome(suite.torch_conv_size, size, kernel, stride, padding, dilation)
        got = _outcome(shapes.conv_output_size, size, kernel, stride, padding, dilation)
        assert got == expected, (size, kernel, stride, padding, dilation)


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool_output_size_agrees_with_pytorch_on_a_grid(ceil_mode):
    for size, kernel, stride, padding in itertools.product(
        range(1, 12), range(1, 7), [None, 0, 1, 2, 3, 4], range(-1, 4)
    ):
        expected = _outcome(suite.torch_pool_size, size, kernel, stride, padding, ceil_mode)
        got = _outcome(shapes.pool_output_size, size, kernel, stride, padding, ceil_mode)
        assert got == expected, (size, kernel, stride, padding, ceil_mode)


def test_pool_output_size_ceil_mode_edge_of_the_issue():
    assert shapes.pool_output_size(5, 2, 2, 1, ceil_mode=True) == 3
    assert shapes.pool_output_size(5, 2, 2, 1) == 3
    assert shapes.pool_output_size(7, 2, ceil_mode=True) == 4


@pytest.mark.parametrize("kernel", range(1, 9))
@pytest.mark.parametrize("dilation", [1, 2, 3])
def test_same_padding_reproduces_pytorch_same_convolution(kernel, dilation):
    before, after = shapes.same_padding(kernel, dilation)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((1, 2, 7, 6)))
    w = torch.from_numpy(rng.standard_normal((3, 2, kernel, kernel)))
    explicit = F.conv2d(F.pad(x, (before, after, before, after)), w, dilation=dilation)
    torch.testing.assert_close(explicit, F.conv2d(x, w, padding="same", dilation=dilation))


def test_conv_params_agrees_with_pytorch():
    for in_ch, out_ch, kernel, bias in itertools.product([1, 3, 16], [1, 8], [1, 3, (1, 5), (7, 2)], [True, False]):
        layer = nn.Conv2d(in_ch, out_ch, kernel, bias=bias)
        assert shapes.conv_params(in_ch, out_ch, kernel, bias) == sum(p.numel() for p in layer.parameters())


# -- stacks ---------------------------------------------------------------------------
def test_practice_exercise_1():
    layers = build(PRACTICE)
    assert shapes.output_shape(layers, (3, 224, 224)) == (128, 56, 56)
    assert shapes.receptive_field(layers) == 19
    assert suite.impulse_receptive_field(PRACTICE) == 19


def test_stacked_3x3_see_2n_plus_1_as_the_tutorial_says():
    for n in range(1, 6):
        layers = [nn.Conv2d(8, 8, 3, padding=1) for _ in range(n)]
        assert shapes.receptive_field(layers) == 2 * n + 1
        assert shapes.conv_params(8, 8, 3, bias=False) * n == 9 * n * 8**2  # 9 n C^2


@settings(max_examples=150, deadline=None, database=None)
@given(suite.feature_cases())
def test_reference_output_shape_matches_running_generated_feature_stacks(case):
    layers, input_shape = case
    assert shapes.output_shape(build(layers), input_shape) == suite.torch_shapes(layers, input_shape)[-1]


@settings(max_examples=150, deadline=None, database=None)
@given(suite.classifier_cases())
def test_reference_output_shape_matches_running_generated_classifiers(case):
    layers, input_shape = case
    assert shapes.output_shape(build(layers), input_shape) == suite.torch_shapes(layers, input_shape)[-1]


@settings(max_examples=150, deadline=None, database=None)
@given(suite.feature_stack((1, 1, 1), square=True))
def test_reference_receptive_field_matches_the_impulse_oracle(stack):
    layers, _ = stack
    assert shapes.receptive_field(build(layers)) == suite.impulse_receptive_field(layers)


def test_reference_output_shape_handles_every_conv_padding_form_and_flatten_dims():
    cases = [
        ([nn.Conv2d(3, 4, (2, 5), padding="same", dilation=(3, 1))], (3, 9, 8)),
        ([nn.Conv2d(3, 4, 3, padding="valid", stride=(2, 1))], (3, 9, 8)),
        ([nn.Conv2d(3, 4, (3, 1), padding=(2, 0), dilation=2)], (3, 9, 8)),
        ([nn.MaxPool2d(3, 2, 1, dilation=2, ceil_mode=True)], (3, 9, 8)),
        ([nn.AdaptiveAvgPool2d((None, 3))], (3, 9, 8)),
        ([nn.Flatten(2)], (3, 9, 8)),
        ([nn.Flatten(1, 2), nn.Linear(8, 5)], (3, 9, 8)),
    ]
    for layers, input_shape in cases:
        with torch.no_grad():
            expected = tuple(nn.Sequential(*layers)(torch.zeros(1, *input_shape)).shape[1:])
        assert shapes.output_shape(layers, input_shape) == expected, layers


def test_reference_refuses_stacks_pytorch_cannot_run():
    assert _outcome(shapes.output_shape, [nn.Conv2d(8, 4, 3), nn.Conv2d(8, 4, 3)], (8, 8, 8)) == "refused"
    assert _outcome(shapes.output_shape, [nn.Conv2d(8, 4, 3), nn.Conv2d(4, 4, 3)], (8, 4, 4)) == "refused"
    assert _outcome(shapes.output_shape, [nn.Flatten(), nn.Linear(10, 2)], (2, 2, 2)) == "refused"
    assert _outcome(shapes.output_shape, [nn.BatchNorm2d(3)], (4, 2, 2)) == "refused"
    assert _outcome(shapes.receptive_field, [nn.Conv2d(1, 1, (1, 3))]) == "refused"


# -- the probes and the suite's checks ---------------------------------------------
def test_describe_writes_layers_as_the_tutorial_does():
    assert describe(PRACTICE) == (
        "[Conv2d(3, 64, 7, stride=2, padding=3), MaxPool2d(3, stride=2, padding=1), "
        "Conv2d(64, 128, 3, stride=1, padding=1)]"
    )
    assert (
        describe([("Sequential", [("Flatten", {}), ("Linear", {"in_features": 4, "out_features": 2})])])
        == "[Sequential(Flatten(), Linear(4, 2))]"
    )


def test_build_refuses_names_outside_torch_nn_layers():
    with pytest.raises(ValueError):
        build([("Module", {})])


class FakeStudent:
    """Runs the probes on a module in this process, as the sandbox would, with data crossing as plain data."""

    def __init__(self, module):
        self.module = module
        self.last_call = None

    def probe(self, name, *args):
        self.last_call = Call(name, args, {}, name)
        value = probes.find(name)(self.module, *[wire.decode(wire.encode(a)) for a in args])
        return wire.decode(wire.encode(value))


def _corpus_module(name):
    module = sys.modules[f"corpus_shapes_{name}"] = types.ModuleType(f"corpus_shapes_{name}")
    exec(compile(corpus_text(f"shapes/{name}"), f"corpus/shapes/{name}.py", "exec"), module.__dict__)
    return module


def test_check_output_shape_names_the_first_wrong_layer():
    student = FakeStudent(_corpus_module("buggy_conv_forgets_dilation"))
    layers = PRACTICE[:2] + [("Conv2d", {"in_channels": 64, "out_channels": 8, "kernel_size": 3, "dilation": 2})]
    with pytest.raises(Mismatch) as raised:
        suite.check_output_shape(student, layers, (3, 64, 64))
    assert raised.value.lines() == [
        "the output shape is wrong",
        "  expected: (8, 12, 12)",
        "  got:      (8, 14, 14)",
        "  the shapes after layers 1 to 2 are right; the last layer, Conv2d(64, 8, 3, dilation=2), goes wrong",
    ]
    assert student.last_call.description == (
        "output_shape([Conv2d(3, 64, 7, stride=2, padding=3), MaxPool2d(3, stride=2, padding=1), "
        "Conv2d(64, 8, 3, dilation=2)], input_shape=(3, 64, 64))"
    )

    layers = [layers[2], ("ReLU", {})] + PRACTICE[1:2]
    with pytest.raises(Mismatch) as raised:
        suite.check_output_shape(student, layers, (64, 9, 9))
    assert raised.value.details == (
        "first wrong after layer 1, Conv2d(64, 8, 3, dilation=2): expected (8, 5, 5), got (8, 7, 7)",
    )


def test_check_output_shape_refuses_a_submission_that_runs_the_layers():
    student = FakeStudent(_corpus_module("buggy_output_shape_runs_layers"))
    with pytest.raises(Mismatch, match=r"output_shape ran the layers \(Sequential, Conv2d, MaxPool2d\)"):
        suite.check_output_shape(student, PRACTICE, (3, 32, 32))
    assert suite.check_output_shape(FakeStudent(shapes), PRACTICE, (3, 32, 32)) is None


def test_running_the_layers_costs_the_output_shape_points(course, tmp_path):
    result = grade_source(
        course, "shapes", corpus_text("shapes/buggy_output_shape_runs_layers"), tmp_path, public_only=True
    )
    failed = {t.name for t in result.tests if not t.passed}
    assert failed == {t.name for t in result.tests if t.name.startswith("output_shape")}
    practice = next(t for t in result.tests if "practice exercise 1" in t.name and not t.passed)
    assert practice.message[0] == (
        "call: output_shape([Conv2d(3, 64, 7, stride=2, padding=3), MaxPool2d(3, stride=2, "
        "padding=1), Conv2d(64, 128, 3, stride=1, padding=1)], input_shape=(3, 224, 224))"
    )
