"""Public tests for exercises/residual.py: blocks, shortcuts, shapes, sizes, and what the skip does.

Run them with `grader grade residual --public-only`. Your models are built in a
separate process from descriptions such as `model("ResidualBlock", 64, 128, stride=2)`.
"""

import numpy as np
import pytest

from grader.suite import Mismatch, array_difference, ask, expect_equal, model, module_difference

CONV3 = {"kernel_size": (3, 3), "padding": (1, 1), "bias": False}


def block_layers(c_in, c_out, stride, projection):
    layers = [
        ("conv1", "Conv2d", {"in_channels": c_in, "out_channels": c_out, "stride": (stride, stride), **CONV3}),
        ("bn1", "BatchNorm2d", {"num_features": c_out}),
        ("conv2", "Conv2d", {"in_channels": c_out, "out_channels": c_out, "stride": (1, 1), **CONV3}),
        ("bn2", "BatchNorm2d", {"num_features": c_out}),
    ]
    if projection:
        layers += [
            (
                "shortcut.0",
                "Conv2d",
                {
                    "in_channels": c_in,
                    "out_channels": c_out,
                    "kernel_size": (1, 1),
                    "stride": (stride, stride),
                    "bias": False,
                },
            ),
            ("shortcut.1", "BatchNorm2d", {"num_features": c_out}),
        ]
    return [(name, kind, hyper, 0) for name, kind, hyper in layers]


@pytest.mark.points(1)
@pytest.mark.hint("conv1 and conv2 are 3x3, padding 1, bias=False, each followed by its BatchNorm2d")
def test_block_layers_and_identity_shortcut(student):
    """ResidualBlock(64, 64) has conv1, bn1, conv2, bn2 and an identity shortcut (no weights)"""
    described = ask(student, "describe", model("ResidualBlock", 64, 64))
    difference = module_difference(described["modules"], block_layers(64, 64, 1, projection=False))
    if difference:
        raise Mismatch(f"ResidualBlock(64, 64) {difference}")
    shortcut = [key for key, _ in described["state"] if key.startswith("shortcut")]
    if shortcut:
        raise Mismatch(
            "ResidualBlock(64, 64) has a projection shortcut, but the shapes already match",
            got=f"state-dict entries {', '.join(shortcut)}",
            hint="the shortcut is the identity (an empty nn.Sequential) when stride is 1 and channels stay",
        )


@pytest.mark.points(1)
@pytest.mark.hint("projection = nn.Sequential(Conv2d(in, out, 1, stride=stride, bias=False), BatchNorm2d(out))")
def test_block_with_projection_shortcut(student):
    """ResidualBlock(64, 128, stride=2) projects the shortcut: a 1x1 conv with stride 2, then BatchNorm2d"""
    described = ask(student, "describe", model("ResidualBlock", 64, 128, stride=2))
    difference = module_difference(described["modules"], block_layers(64, 128, 2, projection=True))
    if difference:
        raise Mismatch(f"ResidualBlock(64, 128, stride=2) {difference}")


@pytest.mark.points(1)
@pytest.mark.hint("stride 2 on conv1 (and on the shortcut's 1x1 conv) halves H and W")
def test_downsampling_block_halves_the_resolution(student):
    """ResidualBlock(64, 128, stride=2) maps (2, 64, 16, 16) to (2, 128, 8, 8)"""
    x = np.random.default_rng(0).standard_normal((2, 64, 16, 16)).astype(np.float32)
    output = ask(student, "forward", model("ResidualBlock", 64, 128, stride=2), x)["outputs"][0]
    expect_equal(getattr(output, "shape", None), (2, 128, 8, 8), what="the output's shape")


@pytest.mark.points(1)
@pytest.mark.hint("prep (1,856) + layer1 (147,968) + layer2 (525,568) + layer3 (2,099,712) + fc (2,570)")
def test_mini_resnet_has_2777674_parameters(student):
    """MiniResNet() has the tutorial's 2,777,674 parameters"""
    expect_equal(
        ask(student, "describe", model("MiniResNet"))["parameters"],
        2777674,
        what="the number of parameters of MiniResNet()",
    )


@pytest.mark.points(1)
@pytest.mark.hint("avg_pool gives (N, 256, 1, 1): flatten it to (N, 256) before fc")
def test_mini_resnet_scores_a_batch(student):
    """MiniResNet() maps four 3x32x32 images to scores of shape (4, 10), as in the tutorial"""
    x = np.random.default_rng(1).standard_normal((4, 3, 32, 32)).astype(np.float32)
    output = ask(student, "forward", model("MiniResNet", num_classes=10), x)["outputs"][0]
    expect_equal(getattr(output, "shape", None), (4, 10), what="the output's shape")


@pytest.mark.points(1)
@pytest.mark.hint("conv1 7x7/2, maxpool 3x3/2, four stages of two blocks (64, 128, 256, 512), fc 512 -> 1000")
def test_resnet18_has_11689512_parameters(student):
    """resnet18() has ResNet-18's 11,689,512 parameters"""
    expect_equal(
        ask(student, "describe", model("resnet18"))["parameters"],
        11689512,
        what="the number of parameters of resnet18()",
    )


@pytest.mark.points(2)
@pytest.mark.section("ResNet (2015)")
@pytest.mark.hint("y = relu(F(x) + x): the skip adds x itself, so dL/dx = dL/dy * (1 + dF/dx) where y > 0")
def test_the_skip_connection_carries_the_gradient(student):
    """with the residual branch switched off, the skip still carries the whole gradient; a plain block none

    Set bn2's weight and bias to 0 (eval mode): the residual branch F(x) is then 0
    whatever x is, so dF/dx = 0. A ResidualBlock computes y = relu(F(x) + x) = relu(x)
    and backpropagates dL/dx = dL/dy * (1 + dF/dx) = dL/dy wherever x > 0: the
    identity term "1" carries the gradient past a branch that has stopped learning.
    A PlainBlock computes y = relu(F(x)) = 0 and passes no gradient at all. Here
    L = sum(y * g) for a random g, so dL/dy = g.
    """
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 8, 6, 6)).astype(np.float32)
    g = rng.standard_normal((2, 8, 6, 6)).astype(np.float32)
    options = {"set": {"bn2.weight": 0.0, "bn2.bias": 0.0}, "direction": g}
    residual = ask(student, "gradients", model("ResidualBlock", 8, 8), x, options)
    expect_equal(getattr(residual["output"], "shape", None), x.shape, what="the shape of ResidualBlock(8, 8)'s output")
    difference = array_difference(residual["input_grad"], g * (x > 0))
    if difference:
        raise Mismatch(
            f"dL/dx of ResidualBlock(8, 8) with F switched off {difference}",
            expected="dL/dy where x > 0 and 0 elsewhere: relu(0 + x) passes the gradient of x through",
        )
    plain = ask(student, "gradients", model("PlainBlock", 8, 8), x, options)
    expect_equal(getattr(plain["output"], "shape", None), x.shape, what="the shape of PlainBlock(8, 8)'s output")
    difference = array_difference(plain["input_grad"], np.zeros_like(x))
    if difference:
        raise Mismatch(
            f"dL/dx of PlainBlock(8, 8) with F switched off {difference}",
            expected="0 everywhere: without a skip, relu(F(x)) = relu(0) does not depend on x",
        )
