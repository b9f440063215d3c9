"""LeNet-5: the reference against independent oracles, the model probes, and feedback that names the layer."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from support import ROOT, corpus_text, grade_source

from grader.judging import models as judged
from grader.probes import models


@pytest.fixture(scope="module")
def lenet():
    spec = importlib.util.spec_from_file_location("reference_lenet", ROOT / "reference/lenet.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_has_the_published_parameter_count(lenet):
    def count(m):
        return sum(p.numel() for p in m.parameters())

    assert count(lenet.LeNet5()) == 61706
    assert count(lenet.LeNet5(num_classes=43)) == 61706 + 84 * 33 + 33


def test_reference_computes_the_tutorials_network(lenet):
    """Filled with the probes' weights, the reference equals conv/tanh/avg-pool/linear applied by hand."""
    net = lenet.LeNet5().eval()
    models.fill_state(net, seed=5)
    w = net.state_dict()
    x = torch.randn(3, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    h = F.avg_pool2d(torch.tanh(F.conv2d(x, w["conv1.weight"], w["conv1.bias"])), kernel_size=2, stride=2)
    h = F.avg_pool2d(torch.tanh(F.conv2d(h, w["conv2.weight"], w["conv2.bias"])), kernel_size=2, stride=2)
    h = torch.tanh(F.linear(h.reshape(3, 400), w["fc1.weight"], w["fc1.bias"]))
    h = torch.tanh(F.linear(h, w["fc2.weight"], w["fc2.bias"]))
    expected = F.linear(h, w["fc3.weight"], w["fc3.bias"])
    with torch.no_grad():
        torch.testing.assert_close(net(x), expected)


# -- the model probes, on LeNet-5 ------------------------------------------------------


def test_fill_values_depend_on_seed_key_and_shape_only():
    a = models.fill_values("fc1.weight", (120, 400), 0)
    assert torch.equal(a, models.fill_values("fc1.weight", (120, 400), 0))
    assert not torch.equal(a, models.fill_values("fc1.weight", (120, 400), 1))
    assert not torch.equal(a, models.fill_values("fc2.weight", (120, 400), 0))
    bound = (6 / 400) ** 0.5
    assert a.abs().max() <= bound and a.std() > bound / 3  # Kaiming-uniform scale


def test_forward_probe_is_reproducible_and_sees_every_layer(lenet):
    x = np.random.default_rng(0).standard_normal((2, 1, 32, 32)).astype(np.float32)
    options = {"record": ["conv1", "fc3"], "record_inputs": ["conv2"], "shapes": True}
    first = models.forward(lenet, models.model("LeNet5"), x, options)
    second = models.forward(lenet, models.model("LeNet5"), x, options)
    np.testing.assert_array_equal(first["outputs"][0], second["outputs"][0])
    assert [name for name, _ in first["shapes"]] == ["conv1", "pool1", "conv2", "pool2", "fc1", "fc2", "fc3"]
    assert dict(first["shapes"])["pool2"] == (2, 16, 5, 5)
    assert first["inputs"]["conv2"].shape == (2, 6, 14, 14)
    np.testing.assert_array_equal(first["records"]["fc3"], first["outputs"][0])


def test_describe_builds_on_the_meta_device_and_reports_hyper_parameters(lenet):
    described = models.describe(lenet, models.model("LeNet5", num_classes=3))
    assert described["parameters"] == 61706 - 7 * 85
    modules = {name: (kind, hyper) for name, kind, hyper, _ in described["modules"]}
    assert modules["pool1"] == (
        "AvgPool2d",
        {
            "kernel_size": (2, 2),
            "stride": (2, 2),
            "padding": (0, 0),
            "ceil_mode": False,
            "count_include_pad": True,
            "divisor_override": None,
        },
    )
    assert modules["fc3"][1] == {"in_features": 84, "out_features": 3, "bias": True}


def test_differences_are_described_in_words():
    expected = np.zeros((1, 4), np.float32)
    assert judged.array_difference(expected.copy(), expected) is None
    assert judged.array_difference(np.zeros((1, 5), np.float32), expected) == "has shape (1, 5), expected (1, 4)"
    assert judged.array_difference(None, expected) == "is None, not a tensor"
    assert judged.state_difference([("a", (1,))], [("a", (2,))]) == "'a' has shape (1,), expected (2,)"


# -- feedback ------------------------------------------------------------------------------


def test_max_pooling_is_blamed_on_pool1(course, tmp_path):
    result = grade_source(course, "lenet", corpus_text("lenet/buggy_max_pooling"), tmp_path)
    failing = {t.name: t for t in result.tests if not t.passed}
    behaviour = failing["with the reference's weights, the same scores as the reference (eval mode)"]
    assert behaviour.diagnosis == "max_pooling" and behaviour.message[0].startswith("Your code max-pools at pool1")
    assert behaviour.message[3].startswith("pool1's output has the right shape but different values")
    assert "the layers before it match (conv1)" in behaviour.message[4]
    assert "'pool1' is a MaxPool2d, expected AvgPool2d" in " ".join(
        failing["every layer has the reference's kind and hyper-parameters, and no extra weights"].message
    )


def test_softmax_after_fc3_is_blamed_on_the_return_value(course, tmp_path):
    result = grade_source(course, "lenet", corpus_text("lenet/buggy_softmax_output"), tmp_path)
    behaviour = next(t for t in result.tests if t.name.startswith("with the reference's weights"))
    assert behaviour.diagnosis == "activation_on_scores"
    assert "the layers that ran as modules match (conv1, pool1, conv2, pool2, fc1, fc2, fc3)" in behaviour.message[4]
    assert behaviour.hint is None  # the named mistake says why, and where to reread
