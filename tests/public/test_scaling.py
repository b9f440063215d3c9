"""Public tests for exercises/scaling.py: values you can check with a calculator.

Run them with `grader grade scaling --public-only`. `student` is your module,
called in a separate process.

The published EfficientNet variants (width, depth, resolution) were rounded by
hand, so they are NOT compound_scaling(phi) for phi = 1..7; the network
exercise uses this table, not alpha^phi:

    B0 1.0 1.0 224   B1 1.0 1.1 240   B2 1.1 1.2 260   B3 1.2 1.4 300
    B4 1.4 1.8 380   B5 1.6 2.2 456   B6 1.8 2.6 528   B7 2.0 3.1 600
"""

import math

import pytest

from grader.suite import Call, Mismatch, describe_value, expect_equal, expect_raises

SUM = {"kind": "linear", "weights": (1.0, 1.0, 1.0), "base": 0.0}  # accuracy = alpha + beta + gamma


def grid_search(student, grid, target, tolerance):
    """Your grid_search, called in your process with accuracy = alpha + beta + gamma."""
    try:
        return student.probe("architectures.grid_search", SUM, grid, target, tolerance)["result"]
    finally:
        student.last_call = Call(
            "grid_search",
            (),
            {},
            f"grid_search(accuracy=alpha + beta + gamma, grid={grid}, target={target}, tolerance={tolerance})",
        )


def expect_floats(got, expected, *, what):
    """A tuple of floats close to `expected` (a list is accepted too)."""
    if not isinstance(got, (tuple, list)) or len(got) != len(expected):
        raise Mismatch(
            f"{what} should be a tuple of {len(expected)} floats",
            expected=describe_value(expected),
            got=describe_value(got),
        )
    if not all(isinstance(g, (int, float)) and math.isclose(g, e, rel_tol=1e-9) for g, e in zip(got, expected)):
        raise Mismatch(f"{what} is wrong", expected=describe_value(expected), got=describe_value(got))


def read_b0_stages(student):
    """Your module's B0_STAGES, read in your process."""
    stages = student.probe("models.constant", "B0_STAGES")
    student.last_call = None  # reading a table is not a call: the messages below say what was read
    if stages == [] or stages == ():
        raise Mismatch("B0_STAGES is empty: not implemented yet (fill in the seven stages of Table 1)")
    return stages


@pytest.mark.points(1)
@pytest.mark.hint("depth = alpha ** phi, width = beta ** phi, resolution = gamma ** phi, in that order")
def test_compound_scaling_at_phi_one_and_two(student):
    """compound_scaling(1) is (1.2, 1.1, 1.15); compound_scaling(2) squares each"""
    expect_floats(student.compound_scaling(1), (1.2, 1.1, 1.15), what="(depth, width, resolution)")
    expect_floats(student.compound_scaling(2), (1.44, 1.21, 1.3225), what="(depth, width, resolution)")


@pytest.mark.points(1)
@pytest.mark.hint("FLOPs ~ depth * width^2 * resolution^2: (alpha * beta**2 * gamma**2) ** phi")
def test_flops_roughly_double_per_step(student):
    """flops_multiplier(1, 1.2, 1.1, 1.15) is 1.2 * 1.1^2 * 1.15^2 = 1.92027, about 2"""
    got = student.flops_multiplier(1, 1.2, 1.1, 1.15)
    if not isinstance(got, (int, float)) or not math.isclose(got, 1.92027, rel_tol=1e-5):
        raise Mismatch("flops_multiplier is wrong", expected="1.92027", got=describe_value(got))
    got = student.flops_multiplier(3, 1.2, 1.1, 1.15)
    if not isinstance(got, (int, float)) or not math.isclose(got, 1.92027**3, rel_tol=1e-5):
        raise Mismatch("flops_multiplier at phi=3 is wrong", expected=f"{1.92027**3:.6g}", got=describe_value(got))


@pytest.mark.points(1)
@pytest.mark.hint("try every (alpha, beta, gamma) from grid x grid x grid; keep those >= 1 within tolerance of target")
def test_grid_search_on_a_small_grid(student):
    """grid_search with accuracy = alpha + beta + gamma picks the largest sum that satisfies the constraint"""
    # Candidates (all >= 1, |a * b^2 * g^2 - 2| <= 0.1): (1.0, 1.0, 1.4) 1.96, (1.0, 1.4, 1.0) 1.96,
    # (2.0, 1.0, 1.0) 2.0; the sums are 3.4, 3.4, 4.0. (1.4, 1.4, 1.4) has the largest sum but costs 7.5.
    got = grid_search(student, [1.0, 1.4, 2.0], 2.0, 0.1)
    expect_floats(got, (2.0, 1.0, 1.0), what="grid_search's (alpha, beta, gamma)")


@pytest.mark.points(1)
@pytest.mark.hint(
    "nearest multiple of divisor (ties up), at least divisor, plus one divisor if that lost more than 10%"
)
def test_round_filters_by_hand(student):
    """round_filters: 32 x 1.1 -> 32, 16 x 1.4 -> 24, 3 x 1.0 -> 8, 10 x 1.0 -> 16 (8 would lose 20%), 52 x 1.0 -> 56 (a tie goes up)"""
    for channels, width, expected in [(32, 1.1, 32), (16, 1.4, 24), (3, 1.0, 8), (10, 1.0, 16), (52, 1.0, 56)]:
        expect_equal(student.round_filters(channels, width), expected, what=f"round_filters({channels}, {width})")


@pytest.mark.points(1)
@pytest.mark.hint("repeats are rounded UP: math.ceil(repeats * depth_mult)")
def test_round_repeats_rounds_up(student):
    """round_repeats: 3 x 1.1 -> 4, 4 x 3.1 -> 13, 2 x 1.0 -> 2"""
    for repeats, depth, expected in [(3, 1.1, 4), (4, 3.1, 13), (2, 1.0, 2)]:
        expect_equal(student.round_repeats(repeats, depth), expected, what=f"round_repeats({repeats}, {depth})")


@pytest.mark.points(1)
@pytest.mark.hint(
    "Table 1 of the paper: 7 stages, 16 MBConv blocks, channels 32 -> 16 -> 24 -> 40 -> 80 -> 112 -> 192 -> 320"
)
def test_b0_stage_table_is_consistent(student):
    """B0_STAGES: 7 stages of 6 numbers, 16 blocks, each stage's input is the previous output, 32 in, 320 out"""
    stages = read_b0_stages(student)
    if not isinstance(stages, (list, tuple)) or not all(isinstance(s, (list, tuple)) and len(s) == 6 for s in stages):
        raise Mismatch(
            "B0_STAGES should be a list of (expand, kernel, stride, in, out, repeats) tuples",
            got=describe_value(stages),
        )
    expect_equal(len(stages), 7, what="the number of stages")
    expect_equal(sum(s[5] for s in stages), 16, what="the number of blocks (sum of repeats)")
    expect_equal([s[3] for s in stages][0], 32, what="the first stage's in_channels (the stem's output)")
    expect_equal([s[4] for s in stages][-1], 320, what="the last stage's out_channels")
    expect_equal([s[3] for s in stages][1:], [s[4] for s in stages][:-1], what="each stage's in_channels")


@pytest.mark.points(1)
@pytest.mark.hint("scale both channel counts with round_filters and the repeats with round_repeats; keep the rest")
def test_scale_stages_for_the_official_b4(student):
    """scale_stages on B0's first two stages with B4's multipliers (width 1.4, depth 1.8)"""
    stages = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2)]
    scaled = student.scale_stages(stages, 1.4, 1.8)
    if not isinstance(scaled, (list, tuple)) or not all(isinstance(s, (list, tuple)) and len(s) == 6 for s in scaled):
        raise Mismatch("scale_stages should return a list of 6-tuples", got=describe_value(scaled))
    # 32 x 1.4 = 44.8 -> 48, 16 x 1.4 = 22.4 -> 24, 24 x 1.4 = 33.6 -> 32; ceil(1.8) = 2, ceil(3.6) = 4
    expect_equal(
        [tuple(s) for s in scaled], [(1, 3, 1, 48, 24, 2), (6, 3, 2, 24, 32, 4)], what="scale_stages(stages, 1.4, 1.8)"
    )


@pytest.mark.points(1)
@pytest.mark.hint("raise ValueError when no triple satisfies the constraint")
def test_grid_search_refuses_an_impossible_constraint(student):
    """grid_search raises ValueError when no triple of the grid is within tolerance of the target"""
    expect_raises(ValueError, grid_search, student, [1.5, 2.0], 2.0, 0.1)
