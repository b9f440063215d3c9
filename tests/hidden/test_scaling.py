"""Hidden suite for scaling: the closed forms, the official rounding rules and the published variants.

Oracles: the formulas themselves (computed here, not by the reference), the
published EfficientNet table (block totals, stem and head widths of B0..B7)
and the reference for everything else. `grid_search` is called in the
student's process with accuracy functions described below as data: each has
a unique best point under the constraint, and a higher-scoring point that
breaks it (too costly, a multiplier below 1, or just outside the tolerance).
"""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.suite import Call, Mismatch, describe_value, expect_equal, expect_raises


def read_b0_stages(student):
    """Your module's B0_STAGES, read in your process."""
    stages = student.probe("models.constant", "B0_STAGES")
    student.last_call = None  # reading a table is not a call: the messages below say what was read
    if stages == [] or stages == ():
        raise Mismatch("B0_STAGES is empty: not implemented yet (fill in the seven stages of Table 1)")
    return stages


# The published variants: (width, depth) multipliers, block totals, stem and head widths.
OFFICIAL = {
    "b0": (1.0, 1.0, 16, 32, 1280),
    "b1": (1.0, 1.1, 23, 32, 1280),
    "b2": (1.1, 1.2, 23, 32, 1408),
    "b3": (1.2, 1.4, 26, 40, 1536),
    "b4": (1.4, 1.8, 32, 48, 1792),
    "b5": (1.6, 2.2, 39, 48, 2048),
    "b6": (1.8, 2.6, 45, 56, 2304),
    "b7": (2.0, 3.1, 55, 64, 2560),
}

GRID = [0.9, 1.0, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.4]
# (what the student reads, accuracy as data, grid, target, tolerance); answers come from the reference.
SEARCHES = {
    "hill": (
        "a smooth hill whose top (1.4, 1.3, 1.3) costs 4x the FLOPs",
        {"kind": "quadratic", "center": (1.4, 1.3, 1.3), "weights": (1.0, 1.5, 0.7), "base": 0.8},
        GRID,
        2.0,
        0.1,
    ),
    "table": (
        "a table of five points, the three best of which break the constraint",
        {
            "kind": "table",
            "default": 0.5,
            "values": [
                ((1.0, 1.2, 1.2), 0.80),
                ((1.2, 1.1, 1.15), 0.77),
                ((1.3, 1.2, 1.2), 0.95),
                ((0.9, 1.2, 1.25), 0.90),
                ((1.25, 1.1, 1.2), 0.85),
            ],
        },
        GRID,
        2.0,
        0.1,
    ),
    "small": (
        "accuracy that prefers small multipliers (best unconstrained: (0.9, 0.9, 0.9))",
        {"kind": "linear", "weights": (-1.0, -0.5, -0.25), "base": 5.0},
        GRID,
        2.0,
        0.1,
    ),
    "target4": (
        "accuracy 0.5 alpha + 2 beta + gamma, target 4.0, tolerance 0.05, an unsorted grid",
        {"kind": "linear", "weights": (0.5, 2.0, 1.0), "base": 0.0},
        [1.6, 1.0, 1.2, 1.1, 1.3, 1.5, 1.4],
        4.0,
        0.05,
    ),
}


def run_grid_search(student, name):
    label, spec, grid, target, tolerance = SEARCHES[name]
    try:
        return student.probe("architectures.grid_search", spec, grid, target, tolerance)
    finally:
        student.last_call = Call(
            "grid_search",
            (),
            {},
            f"grid_search(accuracy=<{label}>, grid={grid}, target={target}, tolerance={tolerance})",
        )


def expect_search(student, reference, name):
    label, spec, grid, target, tolerance = SEARCHES[name]
    from grader.suite import make_accuracy

    accuracy = make_accuracy(spec)
    expected = reference.grid_search(accuracy, grid, target=target, tolerance=tolerance)
    reply = run_grid_search(student, name)
    got = reply["result"]
    if not isinstance(got, (tuple, list)) or len(got) != 3 or not all(isinstance(v, (int, float)) for v in got):
        raise Mismatch(
            "grid_search should return a tuple (alpha, beta, gamma)",
            expected=describe_value(expected),
            got=describe_value(got),
        )
    if tuple(got) == expected:
        return
    cost = got[0] * got[1] ** 2 * got[2] ** 2
    if min(got) < 1:
        why = f"{min(got)} is below 1: every multiplier must be >= 1 (a network is never scaled down)"
    elif abs(cost - target) > tolerance:
        why = f"its alpha * beta^2 * gamma^2 is {cost:.4g}, more than {tolerance} from the target {target}"
    elif tuple(expected) not in {tuple(t) for t in reply["evaluated"]}:
        why = (
            f"your search never called accuracy{tuple(expected)}: try every triple of the grid, "
            "repeats allowed (itertools.product(grid, repeat=3))"
        )
    else:
        why = (
            f"it scores {accuracy(*got):.4g} but {tuple(expected)} scores {accuracy(*expected):.4g}: "
            "keep the highest accuracy"
        )
    raise Mismatch(
        "grid_search picked the wrong triple",
        expected=describe_value(expected),
        got=describe_value(tuple(got)),
        details=(why,),
    )


@pytest.mark.points(1)
@pytest.mark.hint("(alpha ** phi, beta ** phi, gamma ** phi): depth first, then width, then resolution")
@given(phi=st.floats(0, 8), bases=st.tuples(*[st.floats(1.0, 2.0)] * 3))
def test_compound_scaling_closed_form(student, phi, bases):
    """compound_scaling(phi, alpha, beta, gamma) is (alpha^phi, beta^phi, gamma^phi) for any bases"""
    alpha, beta, gamma = bases
    expected = (math.pow(alpha, phi), math.pow(beta, phi), math.pow(gamma, phi))
    got = student.compound_scaling(phi, alpha, beta, gamma)
    if (
        not isinstance(got, (tuple, list))
        or len(got) != 3
        or not all(isinstance(g, (int, float)) and math.isclose(g, e, rel_tol=1e-9) for g, e in zip(got, expected))
    ):
        raise Mismatch(
            "(depth, width, resolution) is wrong", expected=describe_value(expected), got=describe_value(got)
        )


@pytest.mark.points(1)
@pytest.mark.hint("FLOPs grow with depth, width squared and resolution squared: (alpha * beta**2 * gamma**2) ** phi")
@given(phi=st.floats(0, 8), bases=st.tuples(*[st.floats(1.0, 2.0)] * 3))
def test_flops_multiplier_is_depth_times_width_and_resolution_squared(student, phi, bases):
    """flops_multiplier equals depth * width^2 * resolution^2 of compound_scaling's multipliers"""
    alpha, beta, gamma = bases
    depth, width, resolution = math.pow(alpha, phi), math.pow(beta, phi), math.pow(gamma, phi)
    expected = depth * width**2 * resolution**2
    got = student.flops_multiplier(phi, alpha, beta, gamma)
    if not isinstance(got, (int, float)) or not math.isclose(got, expected, rel_tol=1e-9):
        raise Mismatch("flops_multiplier is wrong", expected=describe_value(expected), got=describe_value(got))


@pytest.mark.points(2)
@pytest.mark.hint("keep only triples with all values >= 1 and |alpha * beta^2 * gamma^2 - target| <= tolerance")
@pytest.mark.parametrize("name", ["hill", "table"])
def test_grid_search_finds_the_best_triple_under_the_constraint(student, reference, name):
    """grid_search returns the best candidate that satisfies the FLOPs constraint, not the best overall"""
    expect_search(student, reference, name)


@pytest.mark.points(1)
@pytest.mark.hint("the constraint is two-sided (abs) and uses the target and tolerance you are given")
@pytest.mark.parametrize("name", ["small", "target4"])
def test_grid_search_uses_target_and_tolerance(student, reference, name):
    """grid_search with accuracy that prefers small models, and with target 4.0, tolerance 0.05"""
    expect_search(student, reference, name)


@pytest.mark.points(1)
@pytest.mark.hint("triples with a value below 1 are not candidates; with no candidate, raise ValueError")
def test_grid_search_refuses_when_only_multipliers_below_one_fit(student):
    """grid [0.9, 1.6]: (0.9, 1.6, 0.9) costs 1.87, but 0.9 < 1, so there is no candidate: ValueError"""
    spec = {"kind": "linear", "weights": (1.0, 1.0, 1.0), "base": 0.0}

    def search():
        try:
            return student.probe("architectures.grid_search", spec, [0.9, 1.6], 2.0, 0.15)["result"]
        finally:
            student.last_call = Call(
                "grid_search",
                (),
                {},
                "grid_search(accuracy=<alpha + beta + gamma>, grid=[0.9, 1.6], target=2.0, tolerance=0.15)",
            )

    expect_raises(ValueError, search)


def is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def official_rule(v, divisor):
    """torchvision's `_make_divisible(v, divisor)`, the oracle for round_filters."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _filters_cases():
    """(channels, width, divisor) cases whose answer does not hinge on the last bit of a float."""
    exact = {0.5, 0.75, 1.0, 1.5, 2.0, 2.5}  # channels * width is exact: ties are real ties
    widths = sorted(exact | {1.1, 1.2, 1.3, 1.4, 1.6, 1.8, 0.9, 0.6})
    cases = []
    for divisor, top in ((8, 330), (4, 60), (16, 120)):
        for width, channels in itertools.product(widths, range(1, top)):
            v = channels * width
            stable = {official_rule(v * f, divisor) for f in (1 - 1e-12, 1, 1 + 1e-12)}
            if width in exact or len(stable) == 1:
                cases.append((channels, width, divisor))
    return cases


def _why_filters(channels, width, divisor, got, expected):
    v = channels * width
    nearest = int(v + divisor / 2) // divisor * divisor
    if not is_int(got):
        return "round_filters returns an int (a channel count)"
    if got % divisor:
        return f"{got} is not a multiple of {divisor}"
    if got < divisor:
        return f"the result is at least divisor ({divisor}), however small channels * width_mult is"
    if got == nearest - divisor and (v / divisor) % 1 == 0.5:
        return f"{v:g} is exactly halfway: a tie rounds up, as int(v + divisor / 2) // divisor * divisor does"
    if got == max(nearest, divisor) and expected == got + divisor:
        return f"{got} is more than 10% below {v:g} (= {channels} x {width}): the official rule then adds one divisor"
    if got != max(nearest, divisor):
        return f"{v:g} (= {channels} x {width}) rounds to {max(nearest, divisor)}, the nearest multiple of {divisor}"
    return "round to the nearest multiple, at least divisor, plus one divisor if that lost more than 10%"


@pytest.mark.points(2)
@pytest.mark.hint(
    "v = channels * width_mult; max(divisor, int(v + divisor / 2) // divisor * divisor); "
    "add divisor if that is < 0.9 * v"
)
def test_round_filters_follows_the_official_rule(student, reference):
    """round_filters agrees with the official rule for channels 1..329, widths 0.5..2.5, divisors 4, 8 and 16"""
    cases = _filters_cases()
    reply = student.probe("architectures.call_many", "round_filters", cases)
    wrong = [
        (case, got, reference.round_filters(*case))
        for case, got in zip(cases, reply["results"])
        if not is_int(got) or got != reference.round_filters(*case)
    ]
    if wrong:
        # Show a case away from a tie first: it says more about the rule than a tie does.
        wrong.sort(key=lambda w: (w[0][0] * w[0][1] / w[0][2]) % 1 == 0.5)
        (channels, width, divisor), got, expected = wrong[0]
        student.last_call = Call(
            "round_filters",
            (channels, width, divisor),
            {},
            f"round_filters(channels={channels}, width_mult={width}, divisor={divisor})",
        )
        raise Mismatch(
            "round_filters is wrong",
            expected=describe_value(expected),
            got=describe_value(got),
            details=(
                _why_filters(channels, width, divisor, got, expected),
                f"({len(wrong)} of {len(cases)} cases are wrong)",
            ),
        )
    if reply["failed_at"] is not None:
        student.round_filters(*cases[reply["failed_at"]])  # repeat the call that raised, to show why


@pytest.mark.points(1)
@pytest.mark.hint("math.ceil(repeats * depth_mult): a stage never loses a block to rounding")
def test_round_repeats_rounds_up(student):
    """round_repeats is ceil(repeats * depth_mult) for repeats 1..8 and the official depths"""
    cases = [
        (r, d)
        for r in range(1, 9)
        for d in (1.0, 1.1, 1.2, 1.4, 1.8, 2.2, 2.6, 3.1, 0.5, 1.5)
        if abs(r * d - round(r * d)) > 1e-9 or r * d == round(r * d)
    ]
    reply = student.probe("architectures.call_many", "round_repeats", cases)
    for (repeats, depth), got in zip(cases, reply["results"]):
        expected = math.ceil(repeats * depth)
        if got != expected or not is_int(got):
            student.last_call = Call(
                "round_repeats", (repeats, depth), {}, f"round_repeats(repeats={repeats}, depth_mult={depth})"
            )
            detail = (
                f"{repeats} x {depth} = {repeats * depth:g}; rounding to the nearest or truncating "
                "drops blocks: round up"
                if is_int(got)
                else "return an int (a number of blocks)"
            )
            raise Mismatch("round_repeats is wrong", expected=str(expected), got=describe_value(got), details=(detail,))
    if reply["failed_at"] is not None:
        student.round_repeats(*cases[reply["failed_at"]])


def _stages(value, what):
    """A table of stages as a list of 6-tuples, or a Mismatch saying what it is instead."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(s, (list, tuple)) and len(s) == 6 for s in value):
        raise Mismatch(
            f"{what} should be a list of (expand, kernel, stride, in, out, repeats) tuples", got=describe_value(value)
        )
    return [tuple(stage) for stage in value]


def expect_stages(got, expected, what):
    got = _stages(got, what)
    if len(got) != len(expected):
        raise Mismatch(f"{what} has {len(got)} stages, expected {len(expected)}")
    fields = ("expand_ratio", "kernel", "stride", "in_channels", "out_channels", "repeats")
    for number, (g, e) in enumerate(zip(got, expected), start=1):
        if g != tuple(e):
            wrong = ", ".join(f"{f} {gv} (expected {ev})" for f, gv, ev in zip(fields, g, e) if gv != ev)
            raise Mismatch(
                f"{what}: stage {number} is wrong: {wrong}", expected=describe_value(tuple(e)), got=describe_value(g)
            )


@pytest.mark.points(1)
@pytest.mark.hint("Table 1 of the EfficientNet paper; kernel 3 or 5, stride 2 where the resolution halves")
def test_b0_stages_are_the_papers_table(student, reference):
    """B0_STAGES is B0's table: expand ratio, kernel, stride, channels and repeats of all seven stages"""
    expect_stages(read_b0_stages(student), reference.B0_STAGES, "B0_STAGES")


@pytest.mark.points(1)
@pytest.mark.hint(
    "round in_channels and out_channels with round_filters, repeats with round_repeats; "
    "expand_ratio, kernel and stride do not change"
)
@pytest.mark.parametrize("width, depth", [(1.2, 1.4), (2.0, 3.1), (0.5, 0.8)])
def test_scale_stages_scales_any_table(student, reference, width, depth):
    """scale_stages on a three-stage table that is not B0's"""
    stages = [(1, 3, 1, 24, 20, 1), (4, 5, 2, 20, 36, 3), (6, 3, 2, 36, 100, 2)]
    expected = reference.scale_stages(stages, width, depth)
    expect_stages(student.scale_stages(stages, width, depth), expected, f"scale_stages(stages, {width}, {depth})")


@pytest.mark.points(1)
@pytest.mark.hint(
    "the official B1..B7 use the published (width, depth) table, rounded with round_filters and round_repeats"
)
def test_official_variants_block_totals_and_widths(student, reference):
    """B0..B7 from the published table: 16, 23, 23, 26, 32, 39, 45, 55 blocks; stem and head widths"""
    for name, (width, depth, blocks, stem, head) in OFFICIAL.items():
        try:
            scaled = student.scale_stages(reference.B0_STAGES, width, depth)
        finally:
            student.last_call.description = f"scale_stages(B0's stages, width_mult={width}, depth_mult={depth})"
        stages = _stages(scaled, "scale_stages' result")
        expect_equal(
            sum(s[5] for s in stages), blocks, what=f"{name} (width {width}, depth {depth}): the number of blocks"
        )
        expect_equal(stages[0][3], stem, what=f"{name}: the stem's width (32 x {width}, rounded)")
        expect_equal(stages[-1][4], head // 4, what=f"{name}: the last stage's width (320 x {width}, rounded)")
