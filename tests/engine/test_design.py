"""The design exercise: the structure probe on small models whose answer is known, and the reference.

The probes run here directly (they are plain functions of a module), on tiny
models built for each case: what a skip connection, a global average pool or a
3x3 convolution looks like to the trace must not depend on how it is written.
"""

from __future__ import annotations

import importlib.util
import types

import pytest
import torch
import torch.nn.functional as F
from support import ROOT, grade_source
from torch import nn

from grader.probes import design


def facts_for(factory):
    """The structure probe's report on `factory(num_classes)` (small inputs are fine: shapes are read, not fixed)."""
    return design.structure(types.SimpleNamespace(build_model=factory), 5)


class Net(nn.Module):
    """conv3x3 -> `body` -> `head`, where body and head are functions of (self, x)."""

    def __init__(self, num_classes, body, head):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=4, padding=1)
        self.a = nn.Conv2d(8, 8, 3, padding=1)
        self.b = nn.Conv2d(8, 8, 3, padding=1)
        self.project = nn.Conv2d(8, 8, 1)
        self.fc = nn.Linear(8, num_classes)
        self.flat_fc = nn.Linear(8 * 25 * 25, num_classes)
        self.body, self.head = body, head

    def forward(self, x):
        return self.head(self, self.body(self, self.stem(x)))


def gap(self, x):
    return self.fc(x.mean(dim=(2, 3)))


def build(body, head=gap):
    return lambda num_classes: Net(num_classes, body, head)


def is_skip(facts):
    return any(min(j["depths"]) < max(j["depths"]) for j in facts["joins"])


@pytest.mark.parametrize(
    "body",
    [
        lambda self, x: x + self.b(F.relu(self.a(x))),  # identity shortcut
        lambda self, x: F.relu(self.b(self.a(x)) + self.project(x)),  # projection shortcut
        lambda self, x: torch.cat([x, self.a(x)], dim=1)[:, :8],  # dense connection
        lambda self, x: torch.add(self.a(x), x, alpha=0.5),  # torch.add, scaled
    ],
    ids=["identity", "projection", "concatenation", "torch.add"],
)
def test_skip_connections_are_found_however_written(body):
    assert is_skip(facts_for(build(body)))


def test_an_in_place_sum_is_a_skip():
    def body(self, x):
        out = self.b(F.relu(self.a(x)))
        out += x
        return out

    assert is_skip(facts_for(build(body)))


@pytest.mark.parametrize(
    "body",
    [
        lambda self, x: self.b(F.relu(self.a(x))),  # plain
        lambda self, x: self.a(x) + self.a(x),  # a branch added to itself
        lambda self, x: self.a(x) + self.b(x),  # two parallel convolutions
        lambda self, x: self.a(x) + self.fc.bias.sum(),  # a parameter, not a feature map
    ],
    ids=["plain", "doubled", "parallel", "bias"],
)
def test_no_skip_where_no_path_is_shorter(body):
    assert not is_skip(facts_for(build(body)))


def same(self, x):
    return self.a(x)


@pytest.mark.parametrize(
    "head",
    [
        gap,
        lambda self, x: self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1)),
        lambda self, x: self.fc(nn.AdaptiveAvgPool2d((1, 1))(x).view(x.shape[0], -1)),
        lambda self, x: self.fc(F.avg_pool2d(x, x.shape[2:]).squeeze(-1).squeeze(-1)),
        lambda self, x: self.fc(x.flatten(2).mean(-1)),
        lambda self, x: self.project(x).mean(dim=(-2, -1))[:, : self.fc.out_features],  # convolutional classifier
    ],
    ids=["mean", "functional", "module", "avg_pool2d", "flattened mean", "conv head"],
)
def test_global_average_pooling_is_found_however_written(head):
    facts = facts_for(build(same, head))
    assert facts["output_reachable"] and not facts["output_reachable_without_gap"]
    assert [p["kind"] for p in facts["global_pools"]] == ["avg"]


def test_a_flattened_map_and_a_global_max_are_not_global_average_pooling():
    flattened = facts_for(build(same, lambda self, x: self.flat_fc(x.flatten(1))))
    assert flattened["output_reachable_without_gap"] and flattened["flattened_maps"] == [(8, 25, 25)]
    maximum = facts_for(build(same, lambda self, x: self.fc(x.amax(dim=(2, 3)))))
    assert maximum["output_reachable_without_gap"] and [p["kind"] for p in maximum["global_pools"]] == ["max"]


def test_a_pooled_side_branch_does_not_count_as_the_classifier_s_pooling():
    """Squeeze-and-excitation averages the map for a gate, but the classifier still reads the whole map."""

    def head(self, x):
        gate = torch.sigmoid(x.mean(dim=(2, 3), keepdim=True))
        return self.flat_fc((x * gate).flatten(1))

    assert facts_for(build(same, head))["output_reachable_without_gap"]


def test_convolutions_are_named_by_their_weights_module_even_when_called_functionally():
    class Functional(nn.Module):
        def __init__(self, num_classes):
            super().__init__()
            self.filters = nn.Parameter(torch.randn(4, 3, 5, 5))
            self.fc = nn.Linear(4, num_classes)

        def forward(self, x):
            return self.fc(F.conv2d(x, self.filters * 2, stride=2).mean(dim=(2, 3)))

    facts = facts_for(Functional)
    assert facts["hooked_convs"] == []  # no nn.Conv2d ran: only the trace sees it
    assert [(c["name"], c["kernel"], c["in"], c["out"]) for c in facts["graph_convs"]] == [("filters", (5, 5), 3, 4)]


def test_data_dependent_control_flow_is_traced_as_it_ran():
    def body(self, x):
        if x.abs().max().item() > 0:
            return x + self.b(self.a(x))
        return self.a(x)

    facts = facts_for(build(body))
    assert facts["traced"] and is_skip(facts)


def test_an_untraceable_model_still_reports_its_convolution_modules(monkeypatch):
    def fail(model, x):
        raise RuntimeError("cannot trace this")

    monkeypatch.setattr(design, "_trace", fail)
    facts = facts_for(build(lambda self, x: x + self.a(x)))
    assert facts["traced"] is False and "cannot trace this" in facts["trace_error"]
    assert [(c["name"], c["kernel"]) for c in facts["hooked_convs"]] == [("stem", (3, 3)), ("a", (3, 3))]


def test_learning_probe_reports_cut_and_frozen_parameters():
    def detached(self, x):
        return self.a(x.detach())

    frozen = build(same)
    got = design.learning(types.SimpleNamespace(build_model=build(detached)), 5, 2, 2)
    assert got["error"] is None and got["cut"] == ["stem.weight", "stem.bias"] and got["frozen"] == []

    def build_frozen(num_classes):
        model = frozen(num_classes)
        model.stem.requires_grad_(False)
        return model

    got = design.learning(types.SimpleNamespace(build_model=build_frozen), 5, 2, 2)
    assert got["frozen"] == ["stem.weight", "stem.bias"] and got["cut"] == []


# -- the reference design ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference():
    spec = importlib.util.spec_from_file_location("reference_design", ROOT / "reference/design.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_parameter_count_from_its_layers(reference):
    """1,239,250 at 50 classes, counted layer by layer: what DESIGN_NOTES calls about 1.2M."""

    def conv(cin, cout, k):
        return cin * cout * k * k

    def block(cin, cout):
        projection = conv(cin, cout, 1) + 2 * cout if cin != cout else 0
        return conv(cin, cout, 3) + conv(cout, cout, 3) + 4 * cout + projection

    widths = (32, 64, 128, 256)
    expected = conv(3, 32, 3) + 2 * 32 + block(32, 32) + sum(block(a, b) for a, b in zip(widths, widths[1:]))
    expected += 256 * 50 + 50
    model = reference.build_model(50)
    assert sum(p.numel() for p in model.parameters()) == expected == 1_239_250


def test_reference_trace_agrees_with_its_modules(reference):
    facts = design.structure(reference, 50)
    graph = sorted((c["name"], c["kernel"], c["in"], c["out"], c["stride"]) for c in facts["graph_convs"])
    hooked = sorted((c["name"], c["kernel"], c["in"], c["out"], c["stride"]) for c in facts["hooked_convs"])
    assert graph == hooked and len(graph) == 12
    assert sum(1 for j in facts["joins"] if min(j["depths"]) < max(j["depths"])) == 4  # one per block
    assert [tuple(p["input"][1:]) for p in facts["global_pools"]] == [(256, 7, 7)]


def test_a_model_the_trace_cannot_follow_is_graded_on_what_can_be_established(course, tmp_path):
    """Convolution modules are still checked (through hooks); the skip and GAP items say why they were not."""
    source = (
        (ROOT / "reference/design.py")
        .read_text()
        .replace(
            "        return self.classifier(self.pool(self.stages(self.stem(x))))",
            "        x = self.stem(x)\n"
            "        x = torch.tensor([], dtype=x.dtype).set_(x.untyped_storage(), 0, x.shape, x.stride())\n"
            "        return self.classifier(self.pool(self.stages(x)))",
        )
    )
    result = grade_source(course, "design", source, tmp_path, public_only=True)
    by_name = {t.name: t for t in result.tests}
    assert by_name["every convolution is 3x3, or 1x1 as a projection"].passed
    for item in ("at least one skip connection", "the classifier sees each feature map averaged"):
        test = next(t for name, t in by_name.items() if name.startswith(item))
        assert not test.passed and "could not be checked: the forward pass could not be traced" in test.message[1]


def test_design_notes_state_true_numbers(reference):
    """The model answer's numbers hold: 627,250 for a Linear on the flattened 256x7x7 map at 50 classes,
    and a 95x95 receptive field (not the whole 100x100 image) along the deepest path."""
    assert 256 * 7 * 7 * 50 + 50 == 627_250 and "627,250" in reference.DESIGN_NOTES
    model = reference.build_model(50)
    deepest = [model.stem[0]] + [conv for block in model.stages for conv in (block.conv1, block.conv2)]
    r, jump = 1, 1
    for conv in deepest:
        r += (conv.kernel_size[0] - 1) * jump
        jump *= conv.stride[0]
    assert r == 95 and "95x95" in reference.DESIGN_NOTES and "whole image" not in reference.DESIGN_NOTES
