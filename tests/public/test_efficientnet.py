"""Public tests for exercises/efficientnet.py: published parameter counts and the MBConv rules.

Run them with `grader grade efficientnet --public-only`. efficientnet.py imports
your scaling.py: a wrong rounding rule there shows up here as a wrong
parameter count. Your models are built in a separate process.

Counting MBConv(16, 24, kernel 3, stride 2, expand 6) by hand (96 expanded channels,
squeeze to 16 // 4 = 4, every BatchNorm 2 x channels):
expansion 16 * 96 + 2 * 96 = 1728; depthwise 96 * 3 * 3 + 2 * 96 = 1056;
squeeze-and-excitation (96 * 4 + 4) + (4 * 96 + 96) = 868; projection 96 * 24 + 2 * 24 = 2352.
"""

import numpy as np
import pytest

from grader.checks import Mismatch, expect_equal
from grader.probes.architectures import run_by_position
from grader.probes.models import array_difference, ask, model


@pytest.mark.points(1)
@pytest.mark.hint("expand_ratio 1: no expansion conv; depthwise 32*3*3 + BN, SE 32 -> 8 -> 32 with biases, "
                  "projection 32*16 + BN")
def test_first_b0_block_without_expansion(student):
    """MBConv(32, 16, 3, 1, 1), B0's first block, has 1,448 parameters"""
    expect_equal(ask(student, "describe", model("MBConv", 32, 16, 3, 1, 1))["parameters"], 1448,
                 what="the number of parameters of MBConv(32, 16, 3, 1, 1)")


@pytest.mark.points(1)
@pytest.mark.hint("1728 + 1056 + 868 + 2352: see this file's docstring")
def test_block_with_expansion(student):
    """MBConv(16, 24, 3, 2, 6) has 6,004 parameters"""
    expect_equal(ask(student, "describe", model("MBConv", 16, 24, 3, 2, 6))["parameters"], 6004,
                 what="the number of parameters of MBConv(16, 24, 3, 2, 6)")


@pytest.mark.points(1)
@pytest.mark.hint("depthwise conv with padding (k - 1) // 2 and the block's stride; projection to out_channels")
def test_stride_two_halves_the_resolution(student):
    """MBConv(16, 24, 5, 2, 6) maps (2, 16, 9, 9) to (2, 24, 5, 5)"""
    x = np.random.default_rng(0).standard_normal((2, 16, 9, 9)).astype(np.float32)
    out = ask(student, "forward", model("MBConv", 16, 24, 5, 2, 6), x)["outputs"][0]
    expect_equal(getattr(out, "shape", out), (2, 24, 5, 5), what="the output's shape")


@pytest.mark.points(1)
@pytest.mark.hint("add the input only when stride == 1 and in_channels == out_channels")
def test_identity_skip_with_all_weights_zero(student):
    """with every weight 0, MBConv(16, 16, 3, 1, 6) returns its input (the skip) and MBConv(16, 24, 3, 1, 6) zeros"""
    x = np.random.default_rng(1).standard_normal((1, 16, 6, 6)).astype(np.float32)
    for spec, expected in [(model("MBConv", 16, 16, 3, 1, 6), x),
                           (model("MBConv", 16, 24, 3, 1, 6), np.zeros((1, 24, 6, 6), np.float32))]:
        layout = ask(student, "describe", spec)["state"]
        out = run_by_position(student, spec, layout, x, {"constant": 0.0})["output"]
        difference = array_difference(out, expected)
        if difference:
            what = "the input (identity skip)" if expected is x else "zeros (no skip: the channels change)"
            raise Mismatch(f"with every weight 0 the block should return {what}; its output {difference}")


@pytest.mark.points(1)
@pytest.mark.hint("efficientnet('b0') uses B0_STAGES unscaled: stem 32, 16 MBConv blocks, head 1280")
def test_b0_parameter_count(student):
    """efficientnet('b0') has 5,288,548 parameters, as torchvision's"""
    expect_equal(ask(student, "describe", model("efficientnet", "b0"))["parameters"], 5_288_548,
                 what="the number of parameters of efficientnet('b0')")


@pytest.mark.points(1)
@pytest.mark.hint("global average pooling makes any input size work; flatten before the Linear layer")
def test_b0_scores_a_small_image(student):
    """efficientnet('b0') maps one 64x64 RGB image to 1000 scores"""
    x = np.random.default_rng(2).standard_normal((1, 3, 64, 64)).astype(np.float32)
    scores = ask(student, "forward", model("efficientnet", "b0"), x)["outputs"][0]
    expect_equal(getattr(scores, "shape", scores), (1, 1000), what="the shape of the scores")
