"""Residual networks: the reference against published counts, a functional block, the gradient identity; feedback."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from support import ROOT, corpus_text, grade_source

from grader.probes import models


@pytest.fixture(scope="module")
def residual():
    spec = importlib.util.spec_from_file_location("reference_residual", ROOT / "reference/residual.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def count(model):
    return sum(p.numel() for p in model.parameters())


def test_reference_counts(residual):
    assert count(residual.MiniResNet()) == 2777674  # the tutorial's example prints it
    assert count(residual.MiniResNet(skip=False)) == 2777674 - (64 * 128 + 256) - (128 * 256 + 512)
    assert count(residual.resnet18()) == 11689512  # torchvision's resnet18
    assert count(residual.resnet18(num_classes=10)) == 11689512 - 990 * 513


def _batch_norm(h, w, prefix):
    return F.batch_norm(
        h,
        w[f"{prefix}.running_mean"],
        w[f"{prefix}.running_var"],
        w[f"{prefix}.weight"],
        w[f"{prefix}.bias"],
        training=False,
    )


@pytest.mark.parametrize("c_in, c_out, stride", [(8, 8, 1), (8, 16, 1), (8, 8, 2), (8, 16, 2)])
def test_reference_block_is_the_tutorials(residual, c_in, c_out, stride):
    """y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), the projection exactly when shapes change."""
    block = residual.ResidualBlock(c_in, c_out, stride).eval()
    models.fill_state(block, seed=2)
    w = block.state_dict()
    x = torch.randn(2, c_in, 6, 6, generator=torch.Generator().manual_seed(0))
    h = F.relu(_batch_norm(F.conv2d(x, w["conv1.weight"], stride=stride, padding=1), w, "bn1"))
    h = _batch_norm(F.conv2d(h, w["conv2.weight"], padding=1), w, "bn2")
    projected = stride != 1 or c_in != c_out
    assert ("shortcut.0.weight" in w) == projected and not any(k.endswith("conv1.bias") for k in w)
    skip = _batch_norm(F.conv2d(x, w["shortcut.0.weight"], stride=stride), w, "shortcut.1") if projected else x
    with torch.no_grad():
        torch.testing.assert_close(block(x), F.relu(h + skip))


def test_identity_term_of_the_gradient(residual):
    """With F switched off (bn2 = 0): dL/dx = dL/dy * (1 + 0) where x > 0 through the skip, 0 without it."""
    x = torch.randn(2, 4, 5, 5, generator=torch.Generator().manual_seed(3))
    g = np.random.default_rng(4).standard_normal((2, 4, 5, 5)).astype(np.float32)
    options = {"set": {"bn2.weight": 0.0, "bn2.bias": 0.0}, "direction": g}
    through_skip = models.gradients(residual, models.model("ResidualBlock", 4, 4), x.numpy(), options)
    np.testing.assert_array_equal(through_skip["input_grad"], g * (x.numpy() > 0))
    plain = models.gradients(residual, models.model("PlainBlock", 4, 4), x.numpy(), options)
    np.testing.assert_array_equal(plain["input_grad"], np.zeros_like(g))


def test_stage_order_follows_the_forward_pass(residual):
    shapes = models.forward(
        residual, models.model("MiniResNet"), np.zeros((1, 3, 32, 32), np.float32), {"shapes": True}
    )["shapes"]
    names = [name for name, _ in shapes]
    assert names.index("layer1.0.conv1") < names.index("layer1.0") < names.index("layer1.1.conv1")
    assert dict(shapes)["layer2"] == (1, 128, 16, 16)


# -- feedback -----------------------------------------------------------------------------


def test_stage_that_does_not_downsample_is_named(course, tmp_path):
    result = grade_source(course, "residual", corpus_text("residual/buggy_layer2_does_not_downsample"), tmp_path)
    stages = next(t for t in result.tests if t.name.startswith("MiniResNet's stages produce"))
    assert stages.diagnosis == "stage_does_not_downsample"
    assert stages.message[3] == (
        "layer2 output has shape (2, 128, 32, 32), expected (2, 128, 16, 16): "
        "the first block of layer2 should halve the resolution (stride 2), 128 channels"
    )


def test_relu_before_the_addition_is_blamed_on_the_block(course, tmp_path):
    result = grade_source(course, "residual", corpus_text("residual/buggy_relu_before_addition"), tmp_path)
    block = next(
        t
        for t in result.tests
        if t.name.startswith("ResidualBlock with the reference's weights") and t.name.endswith("[16-16-1]")
    )
    assert block.diagnosis == "relu_before_addition"
    assert block.message[3].startswith("ResidualBlock(16, 16, stride=1): the output has the right shape")
    assert block.message[4].strip() == "everything before it matches (up to shortcut)"
    assert block.hint is None  # the named mistake says why, and where to reread
    skip = next(t for t in result.tests if t.name.startswith("with the residual branch switched off"))
    assert not skip.passed
