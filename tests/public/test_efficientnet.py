"""Public tests for exercises/efficientnet.py: published parameter counts and the MBConv rules.

Run them with `grader grade efficientnet --public-only`. efficientnet.py imports
your scaling.py; the network is checked against the tables YOUR scaling.py gives
(a rounding mistake there is graded in the scaling exercise, not again here). With
the published B0 table the count is torchvision's 5,288,548. Your models are built
in a separate process.

Counting MBConv(16, 24, kernel 3, stride 2, expand 6) by hand (96 expanded channels,
squeeze to 16 // 4 = 4, every BatchNorm 2 x channels):
expansion 16 * 96 + 2 * 96 = 1728; depthwise 96 * 3 * 3 + 2 * 96 = 1056;
squeeze-and-excitation (96 * 4 + 4) + (4 * 96 + 96) = 868; projection 96 * 24 + 2 * 24 = 2352.
"""

import numpy as np
import pytest

from grader.suite import Mismatch, array_difference, ask, expect_equal, model, run_by_position


@pytest.mark.points(1)
@pytest.mark.hint(
    "expand_ratio 1: no expansion conv; depthwise 32*3*3 + BN, SE 32 -> 8 -> 32 with biases, projection 32*16 + BN"
)
def test_first_b0_block_without_expansion(student):
    """MBConv(32, 16, 3, 1, 1), B0's first block, has 1,448 parameters"""
    expect_equal(
        ask(student, "describe", model("MBConv", 32, 16, 3, 1, 1))["parameters"],
        1448,
        what="the number of parameters of MBConv(32, 16, 3, 1, 1)",
    )


@pytest.mark.points(1)
@pytest.mark.hint("1728 + 1056 + 868 + 2352: see this file's docstring")
def test_block_with_expansion(student):
    """MBConv(16, 24, 3, 2, 6) has 6,004 parameters"""
    expect_equal(
        ask(student, "describe", model("MBConv", 16, 24, 3, 2, 6))["parameters"],
        6004,
        what="the number of parameters of MBConv(16, 24, 3, 2, 6)",
    )


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
    for spec, expected in [
        (model("MBConv", 16, 16, 3, 1, 6), x),
        (model("MBConv", 16, 24, 3, 1, 6), np.zeros((1, 24, 6, 6), np.float32)),
    ]:
        layout = ask(student, "describe", spec)["state"]
        out = run_by_position(student, spec, layout, x, {"constant": 0.0})["output"]
        difference = array_difference(out, expected)
        if difference:
            what = "the input (identity skip)" if expected is x else "zeros (no skip: the channels change)"
            raise Mismatch(f"with every weight 0 the block should return {what}; its output {difference}")


def mbconv_count(cin, cout, kernel, expand):
    """MBConv's parameters by the formulas above (every BatchNorm 2 x channels)."""
    c, s = cin * expand, max(1, cin // 4)
    expansion = cin * c + 2 * c if expand != 1 else 0
    return expansion + (c * kernel * kernel + 2 * c) + (2 * c * s + s + c) + (c * cout + 2 * cout)


def network_count(stages, stem, head, classes=1000):
    """Stem conv + BN, every block of every stage, head conv + BN, Linear(head, classes)."""
    blocks = sum(
        mbconv_count(cin if i == 0 else cout, cout, kernel, expand)
        for expand, kernel, _, cin, cout, repeats in stages
        for i in range(repeats)
    )
    return 3 * 9 * stem + 2 * stem + blocks + stages[-1][4] * head + 2 * head + head * classes + classes


@pytest.mark.points(1)
@pytest.mark.hint(
    "efficientnet('b0') uses B0_STAGES unscaled: stem round_filters(32, 1.0), the stages' blocks, "
    "head round_filters(1280, 1.0)"
)
def test_b0_parameter_count(student):
    """efficientnet('b0') has the parameters its tables give: 5,288,548 (torchvision's) with the published B0"""
    tables = student.probe("architectures.scaled_stages", 1.0, 1.0)
    if "error" in tables:
        raise Mismatch(f"your scaling.py cannot scale B0 ({tables['error']}): finish the scaling exercise first")
    stages = [tuple(int(v) for v in stage) for stage in tables["stages"]]
    expected = network_count(stages, int(tables["stem"]), int(tables["head"]))
    expect_equal(
        ask(student, "describe", model("efficientnet", "b0"))["parameters"],
        expected,
        what="the number of parameters of efficientnet('b0') (from your scaling's B0 table)",
    )


@pytest.mark.points(1)
@pytest.mark.hint("global average pooling makes any input size work; flatten before the Linear layer")
def test_b0_scores_a_small_image(student):
    """efficientnet('b0') maps one 64x64 RGB image to 1000 scores"""
    x = np.random.default_rng(2).standard_normal((1, 3, 64, 64)).astype(np.float32)
    scores = ask(student, "forward", model("efficientnet", "b0"), x)["outputs"][0]
    expect_equal(getattr(scores, "shape", scores), (1, 1000), what="the shape of the scores")
