"""The alexnet exercise: the reference against torchvision's published numbers and against running the layers."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from support import ROOT, corpus_text, grade_source

# torchvision.models.alexnet: (out_channels, kernel, stride, padding) of each conv, pools 3x3 stride 2.
CONVS = [(64, 11, 4, 2), (192, 5, 1, 2), (384, 3, 1, 1), (256, 3, 1, 1), (256, 3, 1, 1)]
POOL_AFTER = {0, 1, 4}


@pytest.fixture(scope="module")
def alexnet():
    spec = importlib.util.spec_from_file_location("reference_alexnet", ROOT / "reference/alexnet.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_parameter_count_is_the_published_one_and_adds_up_by_hand(alexnet):
    with torch.device("meta"):
        model = alexnet.AlexNet()
    by_hand, channels = 0, 3
    for out, kernel, _, _ in CONVS:
        by_hand += out * (channels * kernel * kernel + 1)
        channels = out
    by_hand += 4096 * (256 * 6 * 6 + 1) + 4096 * (4096 + 1) + 1000 * (4096 + 1)
    assert sum(p.numel() for p in model.parameters()) == by_hand == 61_100_840


def _by_formula(size):
    expected = []
    for index, (out, kernel, stride, padding) in enumerate(CONVS):
        size = (size - kernel + 2 * padding) // stride + 1
        expected += [(out, size, size)] * 2  # the conv, then its ReLU
        if index in POOL_AFTER:
            size = (size - 3) // 2 + 1
            expected.append((out, size, size))
    return expected


def test_alexnet_shapes_follow_the_output_size_formula(alexnet):
    expected = _by_formula(224)
    assert alexnet.alexnet_shapes() == expected
    assert expected[0] == (64, 55, 55) and expected[-1] == (256, 6, 6)


@pytest.mark.parametrize("size", [63, 100, 227, 320])
def test_alexnet_shapes_take_any_image_size(alexnet, size):
    assert alexnet.alexnet_shapes(size) == _by_formula(size)


def test_reference_equals_the_layers_run_with_functional_ops(alexnet):
    torch.manual_seed(0)
    model = alexnet.AlexNet(num_classes=10).eval()
    x = torch.randn(2, 3, 127, 127)
    state = model.state_dict()
    y = x
    for index, (key, (_, _, stride, padding)) in enumerate(zip((0, 3, 6, 8, 10), CONVS)):
        y = F.relu(F.conv2d(y, state[f"features.{key}.weight"], state[f"features.{key}.bias"], stride, padding))
        if index in POOL_AFTER:
            y = F.max_pool2d(y, 3, 2)
    y = F.adaptive_avg_pool2d(y, 6).flatten(1)
    y = F.relu(F.linear(y, state["classifier.1.weight"], state["classifier.1.bias"]))
    y = F.relu(F.linear(y, state["classifier.4.weight"], state["classifier.4.bias"]))
    y = F.linear(y, state["classifier.6.weight"], state["classifier.6.bias"])
    with torch.no_grad():
        np.testing.assert_allclose(model(x).numpy(), y.numpy(), rtol=1e-5, atol=1e-5)


def test_dropout_is_active_in_train_mode_only(alexnet):
    model = alexnet.AlexNet(num_classes=3, dropout=0.3)
    assert [m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)] == [0.3, 0.3]
    assert math.isclose(model.classifier[0].p, 0.3)


def test_unpadded_first_conv_is_located_at_features_0(course, tmp_path):
    result = grade_source(course, "alexnet", corpus_text("alexnet/buggy_first_conv_unpadded"), tmp_path)
    scores = next(t for t in result.tests if t.name.startswith("with the reference's weights"))
    assert "features.0's output has shape (2, 64, 54, 54), expected (2, 64, 55, 55)" in "\n".join(scores.message)


def test_tanh_is_named_by_the_relu_check(course, tmp_path):
    result = grade_source(course, "alexnet", corpus_text("alexnet/buggy_tanh_activations"), tmp_path)
    relu = next(t for t in result.tests if t.name.startswith("each convolution and hidden"))
    assert not relu.passed and "is Tanh, expected ReLU" in "\n".join(relu.message)
