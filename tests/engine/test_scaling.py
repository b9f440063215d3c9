"""The scaling exercise: the reference against the official rules, and the hidden suite's own claims."""

from __future__ import annotations

import importlib.util
import itertools
import math
import warnings

import pytest
from support import ROOT, corpus_text, grade_source

from grader.probes.architectures import make_accuracy

# The published variants (width, depth) and what they give: blocks, stem width, head width.
PUBLISHED = {
    "b0": (1.0, 1.0, 16, 32, 1280),
    "b1": (1.0, 1.1, 23, 32, 1280),
    "b2": (1.1, 1.2, 23, 32, 1408),
    "b3": (1.2, 1.4, 26, 40, 1536),
    "b4": (1.4, 1.8, 32, 48, 1792),
    "b5": (1.6, 2.2, 39, 48, 2048),
    "b6": (1.8, 2.6, 45, 56, 2304),
    "b7": (2.0, 3.1, 55, 64, 2560),
}


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():  # a suite's points/hint marks are registered by the grading plugin only
        warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def scaling():
    return _load(ROOT / "reference/scaling.py", "reference_scaling")


@pytest.fixture(scope="module")
def hidden():
    return _load(ROOT / "tests/hidden/test_scaling.py", "hidden_test_scaling")


def _make_divisible(v, divisor, min_value=None):
    """torchvision.models._utils._make_divisible, verbatim (torchvision 0.20)."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    # Make sure that round down does not go down by more than 10%.
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def test_round_filters_is_torchvisions_make_divisible(scaling):
    for channels, width, divisor in itertools.product(
        range(1, 700), (0.25, 0.5, 0.9, 1.0, 1.1, 1.2, 1.4, 1.6, 1.8, 2.0, 3.1), (4, 8, 16)
    ):
        assert scaling.round_filters(channels, width, divisor) == _make_divisible(channels * width, divisor)


def test_round_repeats_is_ceil(scaling):
    for repeats, depth in itertools.product(range(1, 12), (0.5, 1.0, 1.1, 1.2, 1.4, 1.8, 2.2, 2.6, 3.1)):
        assert scaling.round_repeats(repeats, depth) == math.ceil(repeats * depth)


@pytest.mark.parametrize("variant", sorted(PUBLISHED))
def test_reference_reproduces_the_published_variants(scaling, variant):
    width, depth, blocks, stem, head = PUBLISHED[variant]
    stages = scaling.scale_stages(scaling.B0_STAGES, width, depth)
    assert sum(s[5] for s in stages) == blocks
    assert stages[0][3] == stem and 4 * stages[-1][4] == head
    assert all(stages[i][4] == stages[i + 1][3] for i in range(len(stages) - 1))


def test_official_variants_are_not_compound_scaling_of_phi(scaling):
    """The public suite teaches it: alpha^phi, beta^phi are not the published multipliers."""
    for phi, name in enumerate(sorted(PUBLISHED)):
        depth, width, _ = scaling.compound_scaling(phi)
        if phi:
            assert (round(width, 1), round(depth, 1)) != PUBLISHED[name][:2]
    assert math.isclose(scaling.flops_multiplier(1), 1.92027, rel_tol=1e-6)


def test_each_hidden_search_has_a_unique_answer_and_a_tempting_wrong_one(scaling, hidden):
    for name, (_, spec, grid, target, tolerance) in hidden.SEARCHES.items():
        accuracy = make_accuracy(spec)
        triples = list(itertools.product(grid, repeat=3))
        costs = {t: t[0] * t[1] ** 2 * t[2] ** 2 for t in triples}
        # Far from the boundary: no answer hinges on how a float product rounds.
        assert min(abs(abs(c - target) - tolerance) for c in costs.values()) > 1e-4, name
        valid = [t for t in triples if min(t) >= 1 and abs(costs[t] - target) <= tolerance]
        scores = sorted((accuracy(*t) for t in valid), reverse=True)
        assert scores[0] - scores[1] > 1e-3, f"{name}: the best candidate is not unique"
        best = scaling.grid_search(accuracy, grid, target=target, tolerance=tolerance)
        assert accuracy(*best) == scores[0]
        assert max(accuracy(*t) for t in triples) > scores[0], f"{name}: nothing outside the constraint tempts"


def test_round_filters_feedback_explains_the_ten_percent_rule(course, tmp_path):
    result = grade_source(course, "scaling", corpus_text("scaling/buggy_filters_without_ten_percent_rule"), tmp_path)
    test = next(t for t in result.tests if t.name.startswith("round_filters agrees"))
    assert "more than 10% below" in "\n".join(test.message)


def test_grid_search_feedback_says_which_triple_was_never_tried(course, tmp_path):
    result = grade_source(course, "scaling", corpus_text("scaling/buggy_grid_search_sorted_triples"), tmp_path)
    messages = ["\n".join(t.message) for t in result.tests if not t.passed]
    assert any("never called accuracy(1.3, 1.2, 1.05)" in m for m in messages)
