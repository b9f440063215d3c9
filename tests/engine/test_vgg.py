"""VGG: the reference against published counts and a functional forward pass; big-model probes; feedback."""

from __future__ import annotations

import importlib.util
import types

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from support import ROOT, corpus_text, grade_source
from torch import nn

from grader.probes import models

PUBLISHED = {  # torchvision's vgg11 ... vgg19_bn
    ("vgg11", False): 132863336,
    ("vgg13", False): 133047848,
    ("vgg16", False): 138357544,
    ("vgg19", False): 143667240,
    ("vgg11", True): 132868840,
    ("vgg13", True): 133053736,
    ("vgg16", True): 138365992,
    ("vgg19", True): 143678248,
}


@pytest.fixture(scope="module")
def vgg():
    spec = importlib.util.spec_from_file_location("reference_vgg", ROOT / "reference/vgg.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name, batch_norm", sorted(PUBLISHED))
def test_reference_counts_are_the_published_ones(vgg, name, batch_norm):
    with torch.device("meta"):
        built = vgg.vgg(name, batch_norm=batch_norm)
    assert vgg.count_parameters(built) == PUBLISHED[name, batch_norm]
    assert vgg.vgg_parameter_count(name, batch_norm=batch_norm) == PUBLISHED[name, batch_norm]
    assert sum(vgg.parameter_breakdown(built).values()) == PUBLISHED[name, batch_norm]
    assert (
        vgg.vgg_parameter_count(name, num_classes=7, batch_norm=batch_norm) == PUBLISHED[name, batch_norm] - 993 * 4097
    )


def test_reference_vgg16_split_is_the_tutorials_exercise(vgg):
    with torch.device("meta"):
        assert vgg.parameter_breakdown(vgg.vgg("vgg16")) == {"conv": 14714688, "fc": 123642856, "bn": 0}


def test_reference_keys_are_torchvisions(vgg):
    """torchvision's vgg16: convs at features 0, 2, 5, ... 28; classifier Linear layers at 0, 3, 6."""
    with torch.device("meta"):
        keys = list(vgg.vgg("vgg16").state_dict())
    convs = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
    expected = [f"features.{i}.{p}" for i in convs for p in ("weight", "bias")]
    expected += [f"classifier.{i}.{p}" for i in (0, 3, 6) for p in ("weight", "bias")]
    assert keys == expected


def test_reference_computes_vgg_with_functional_ops(vgg):
    """Filled with the probes' weights, vgg11 on 32x32 equals conv/relu/max-pool/adaptive-pool/linear by hand."""
    net = vgg.vgg("vgg11", num_classes=10).eval()
    models.fill_state(net, seed=3)
    w = net.state_dict()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    h, index = x, 0
    for v in vgg.VGG_CONFIGS["vgg11"]:
        if v == "M":
            h, index = F.max_pool2d(h, 2), index + 1
        else:
            h = F.relu(F.conv2d(h, w[f"features.{index}.weight"], w[f"features.{index}.bias"], padding=1))
            index += 2
    h = F.adaptive_avg_pool2d(h, 7).flatten(1)
    h = F.relu(F.linear(h, w["classifier.0.weight"], w["classifier.0.bias"]))
    h = F.relu(F.linear(h, w["classifier.3.weight"], w["classifier.3.bias"]))
    expected = F.linear(h, w["classifier.6.weight"], w["classifier.6.bias"])
    with torch.no_grad():
        torch.testing.assert_close(net(x), expected, rtol=1e-4, atol=1e-4)


# -- the model probes on big models ----------------------------------------------------


def test_describe_counts_vgg19_on_the_meta_device(vgg):
    described = models.describe(vgg, models.model("vgg", "vgg19", batch_norm=True))
    assert described["parameters"] == PUBLISHED["vgg19", True]
    assert dict(described["state"])["classifier.0.weight"] == (4096, 25088)


def test_large_entries_repeat_a_prime_period_with_distinct_rows():
    values = models.fill_values("classifier.0.weight", (4096, 25088), 0).view(-1)
    period = models.FILL_PERIOD
    assert torch.equal(values[:1000], values[period : period + 1000])
    rows = values.view(4096, 25088)
    assert not torch.equal(rows[0], rows[1]) and rows[0].unique().numel() > 25000  # float32 draws may collide


def test_filled_model_is_built_normally_when_it_holds_tensors_outside_its_state():
    """`to_empty` would leave a plain tensor attribute on the meta device: such models are built normally."""

    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)
            self.scale = torch.full((2,), 3.0)

        def forward(self, x):
            return self.fc(x) * self.scale

    namespace = types.SimpleNamespace(Scaled=Scaled)
    result = models.forward(namespace, models.model("Scaled"), np.ones((1, 2), np.float32))
    weight = models.fill_values("fc.weight", (2, 2), 0)
    bias = models.fill_values("fc.bias", (2,), 0)
    expected = (torch.ones(1, 2) @ weight.T + bias) * 3
    np.testing.assert_allclose(result["outputs"][0], expected.numpy(), rtol=1e-6)


# -- feedback --------------------------------------------------------------------------------


def test_average_pooling_is_located_at_the_first_max_pool(course, tmp_path):
    result = grade_source(course, "vgg", corpus_text("vgg/buggy_avg_pooling"), tmp_path)
    behaviour = next(t for t in result.tests if t.name.endswith("[vgg11_32x32]"))
    assert behaviour.diagnosis == "avg_pooling"
    assert behaviour.message[3].startswith("features.2 (MaxPool2d) output has the right shape but different values")
    assert behaviour.message[4].strip() == "everything before it matches (up to features.1)"
    assert behaviour.hint is None  # the named mistake says why, and where to reread


def test_missing_avgpool_shows_the_students_own_line(course, tmp_path):
    result = grade_source(course, "vgg", corpus_text("vgg/buggy_no_avgpool_in_forward"), tmp_path)
    shape = next(t for t in result.tests if "scores a batch of two 32x32 images" in t.name)
    assert shape.reason == "exception"
    assert any("return self.classifier(x)" in line for line in shape.message)
