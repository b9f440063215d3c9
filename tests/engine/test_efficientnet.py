"""The efficientnet exercise: the reference against torchvision's published numbers and functional ops."""

from __future__ import annotations

import importlib.util
import sys
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from support import ROOT, corpus_text, grade_source

from grader import score

# torchvision.models.efficientnet_b0 ... b7: parameters, MBConv blocks, head width.
PUBLISHED = {
    "b0": (5_288_548, 16, 1280),
    "b1": (7_794_184, 23, 1280),
    "b2": (9_109_994, 23, 1408),
    "b3": (12_233_232, 26, 1536),
    "b4": (19_341_616, 32, 1792),
    "b5": (30_389_784, 39, 2048),
    "b6": (43_040_704, 45, 2304),
    "b7": (66_347_960, 55, 2560),
}


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():  # a suite's points/hint marks are registered by the grading plugin only
        warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def efficientnet():
    sys.path.insert(0, str(ROOT / "reference"))  # efficientnet imports scaling, as in the judge
    try:
        return _load(ROOT / "reference/efficientnet.py", "reference_efficientnet")
    finally:
        sys.path.remove(str(ROOT / "reference"))


@pytest.mark.parametrize("variant", sorted(PUBLISHED))
def test_reference_has_torchvisions_counts(efficientnet, variant):
    with torch.device("meta"):
        model = efficientnet.efficientnet(variant)
    parameters, blocks, head = PUBLISHED[variant]
    assert sum(p.numel() for p in model.parameters()) == parameters
    assert sum(isinstance(m, efficientnet.MBConv) for m in model.modules()) == blocks
    assert [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1].in_features == head


def _functional_mbconv(block, x, cin, cout, kernel, stride, expand):
    """MBConv computed with torch.nn.functional from the block's own weights, in state-dict order."""
    w = list(block.state_dict().values())

    def bn(y, i):  # weight, bias, running_mean, running_var, num_batches_tracked
        return F.batch_norm(y, w[i + 2], w[i + 3], w[i], w[i + 1], training=False)

    i, h = 0, x
    if expand != 1:
        h, i = F.silu(bn(F.conv2d(h, w[0]), 1)), 6
    c = cin * expand
    h = F.silu(bn(F.conv2d(h, w[i], stride=stride, padding=(kernel - 1) // 2, groups=c), i + 1))
    i += 6
    gate = torch.sigmoid(F.conv2d(F.silu(F.conv2d(h.mean((2, 3), keepdim=True), w[i], w[i + 1])), w[i + 2], w[i + 3]))
    h = bn(F.conv2d(h * gate, w[i + 4]), i + 5)
    return h + x if stride == 1 and cin == cout else h


@pytest.mark.parametrize("args", [(32, 16, 3, 1, 1), (16, 24, 3, 2, 6), (24, 24, 5, 1, 6), (12, 12, 5, 2, 4)])
def test_reference_mbconv_equals_functional_ops(efficientnet, args):
    torch.manual_seed(1)
    block = efficientnet.MBConv(*args)
    with torch.no_grad():
        for name, tensor in block.state_dict().items():
            if tensor.is_floating_point():
                tensor.copy_(torch.rand(tensor.shape) + (0.5 if "running_var" in name else -0.5))
    block.eval()
    x = torch.randn(2, args[0], 9, 8)
    with torch.no_grad():
        np.testing.assert_allclose(block(x).numpy(), _functional_mbconv(block, x, *args).numpy(), rtol=1e-5, atol=1e-5)


def test_mbconv_counts_add_up_by_hand(efficientnet):
    hidden = _load(ROOT / "tests/hidden/test_efficientnet.py", "hidden_test_efficientnet")
    for args in hidden.CONFIGS:
        cin, cout, kernel, _, expand = args
        assert sum(p.numel() for p in efficientnet.MBConv(*args).parameters()) == sum(
            hidden.mbconv_parts(cin, cout, kernel, expand).values()
        )


def test_each_named_variant_differs_from_the_reference(efficientnet):
    """A diagnosis only means something if the variant it names computes something else."""
    from grader.judging.architectures import run_by_position
    from grader.judging.models import array_difference, ask
    from grader.probes.models import model

    hidden = _load(ROOT / "tests/hidden/test_efficientnet.py", "hidden_test_efficientnet")
    spec, x = model("MBConv", 24, 24, 5, 1, 6), hidden.inputs((2, 24, 7, 7), 7)
    layout = ask(efficientnet, "describe", spec)["state"]
    expected = run_by_position(efficientnet, spec, layout, x, {"seed": 0})["output"]
    for description, change in hidden.MUTANTS.items():
        got = run_by_position(hidden.mutant(efficientnet, change), spec, layout, x, {"seed": 0})["output"]
        assert array_difference(got, expected) is not None, description


@pytest.mark.parametrize("scaling", ["buggy_repeats_rounded_to_nearest", "buggy_filters_rounded_down"])
def test_a_scaling_mistake_costs_nothing_in_efficientnet(course, tmp_path, scaling):
    """A wrong rounding rule is graded once, in the scaling exercise: a right efficientnet on top of it scores full."""
    result = grade_source(
        course,
        "efficientnet",
        ROOT / "reference/efficientnet.py",
        tmp_path,
        extra={"scaling.py": corpus_text(f"scaling/{scaling}")},
    )
    assert [(t.name, t.message) for t in result.tests if score.is_graded_here(t) and not t.passed] == []
    assert score.exercise_score(result) == course.exercise("efficientnet").points


def test_the_network_is_still_checked_against_the_students_scaling(course, tmp_path):
    """Rounding the repeats in efficientnet.py instead of through scale_stages is the network's own mistake."""
    result = grade_source(
        course,
        "efficientnet",
        corpus_text("efficientnet/buggy_repeats_rounded_here"),
        tmp_path,
        extra={"scaling.py": corpus_text("scaling/buggy_filters_rounded_down")},
    )
    counts = next(t for t in result.tests if t.name.startswith("efficientnet('b0') ... ('b7')"))
    text = "\n".join(counts.message)
    assert not counts.passed and "MBConv blocks" in text
