"""CORRECT: the solution the variants in variants.toml patch (a line or two each).

Tutorial: "EfficientNet (2019)".

One coefficient phi scales the three dimensions of a network together:

    depth d = alpha^phi,   width w = beta^phi,   resolution r = gamma^phi
    subject to alpha * beta^2 * gamma^2 ~= 2,  alpha, beta, gamma >= 1

FLOPs grow with depth, with the square of width (channels in AND out) and with
the square of resolution (height AND width), so one step of phi about doubles
them. B0 uses alpha = 1.2, beta = 1.1, gamma = 1.15, found by a small grid search.

The published B1..B7 do not follow alpha^phi exactly: their multipliers were
rounded by hand (width, depth, resolution):

    B0 1.0 1.0 224   B1 1.0 1.1 240   B2 1.1 1.2 260   B3 1.2 1.4 300
    B4 1.4 1.8 380   B5 1.6 2.2 456   B6 1.8 2.6 528   B7 2.0 3.1 600

Multiplied channel and layer counts are fractional; real layers need whole
numbers, and channel counts that are multiples of 8 run fast on hardware:
`round_filters` and `round_repeats` are the official rules (torchvision's
`_make_divisible` and `math.ceil`).
"""

import itertools
import math


def compound_scaling(phi, alpha=1.2, beta=1.1, gamma=1.15):
    """The depth, width and resolution multipliers for compound coefficient phi.

    d = alpha^phi, w = beta^phi, r = gamma^phi

    Inputs:
    - phi: the compound coefficient (a float; 0 gives B0)
    - alpha, beta, gamma: the per-dimension bases (B0's by default)

    Returns:
    - (depth, width, resolution): a tuple of three floats
    """
    return alpha ** phi, beta ** phi, gamma ** phi


def flops_multiplier(phi, alpha=1.2, beta=1.1, gamma=1.15):
    """How much the FLOPs grow when depth, width and resolution are scaled by phi.

    FLOPs ~ depth * width^2 * resolution^2, so they grow by (alpha * beta^2 * gamma^2)^phi.

    Inputs:
    - phi, alpha, beta, gamma: as in `compound_scaling`

    Returns:
    - the multiplier, a float (about 2^phi when alpha * beta^2 * gamma^2 ~= 2)
    """
    return (alpha * beta ** 2 * gamma ** 2) ** phi


def grid_search(accuracy, grid, target=2.0, tolerance=0.1):
    """The paper's step 1: the best (alpha, beta, gamma) under the FLOPs constraint.

    Every triple of values from `grid` (with repetition: grid x grid x grid) is a
    candidate when all three are >= 1 and |alpha * beta^2 * gamma^2 - target| <= tolerance.

    Inputs:
    - accuracy: a function accuracy(alpha, beta, gamma) -> float (higher is better)
    - grid: a sequence of candidate values
    - target: the FLOPs factor one step of phi should cost (2.0 in the paper)
    - tolerance: how far alpha * beta^2 * gamma^2 may be from target

    Returns:
    - (alpha, beta, gamma): the candidate with the highest accuracy

    Raises ValueError when no triple satisfies the constraint.
    """
    best, best_accuracy = None, -math.inf
    for alpha, beta, gamma in itertools.product(grid, repeat=3):
        if min(alpha, beta, gamma) < 1:
            continue
        if abs(alpha * beta ** 2 * gamma ** 2 - target) > tolerance:
            continue
        score = accuracy(alpha, beta, gamma)
        if best is None or score > best_accuracy:
            best, best_accuracy = (alpha, beta, gamma), score
    if best is None:
        raise ValueError(f"no (alpha, beta, gamma) from the grid has alpha * beta^2 * gamma^2 "
                         f"within {tolerance} of {target} with all three >= 1")
    return best


def round_filters(channels, width_mult, divisor=8):
    """A channel count scaled by width_mult, rounded the official way.

    v = channels * width_mult, rounded to the nearest multiple of divisor (a tie
    rounds up: int(v + divisor / 2) // divisor * divisor), at least divisor, and
    one divisor more if rounding went down by more than 10% of v.

    Inputs:
    - channels: the B0 channel count (int)
    - width_mult: the width multiplier w
    - divisor: channel counts are multiples of this (8)

    Returns:
    - the new channel count, an int
    """
    v = channels * width_mult
    rounded = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * v:          # never lose more than 10% of the channels
        rounded += divisor
    return rounded


def round_repeats(repeats, depth_mult):
    """A stage's number of blocks scaled by depth_mult, rounded up.

    repeats' = ceil(repeats * depth_mult)

    Inputs:
    - repeats: the B0 number of blocks in the stage (int)
    - depth_mult: the depth multiplier d

    Returns:
    - the new number of blocks, an int
    """
    return int(math.ceil(repeats * depth_mult))


# EfficientNet-B0's seven stages of MBConv blocks, from the paper's Table 1:
# (expand_ratio, kernel, stride, in_channels, out_channels, repeats).
# The first block of a stage has the stride and the in_channels; the stage's
# other blocks have stride 1 and out_channels in and out.
B0_STAGES = [
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
]


def scale_stages(stages, width_mult, depth_mult):
    """A stage table scaled for another variant.

    Inputs:
    - stages: list of (expand_ratio, kernel, stride, in_channels, out_channels, repeats)
    - width_mult: channels are scaled with `round_filters`
    - depth_mult: repeats are scaled with `round_repeats`

    Returns:
    - a new list of tuples of the same form; expand_ratio, kernel and stride are kept
    """
    return [
        (expand, kernel, stride, round_filters(c_in, width_mult), round_filters(c_out, width_mult),
         round_repeats(repeats, depth_mult))
        for expand, kernel, stride, c_in, c_out, repeats in stages
    ]
