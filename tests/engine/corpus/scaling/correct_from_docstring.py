"""Correct, written only from exercises/scaling.py's docstrings and docs/course.md."""

import math
from itertools import product


def compound_scaling(phi, alpha=1.2, beta=1.1, gamma=1.15):
    return alpha ** phi, beta ** phi, gamma ** phi


def flops_multiplier(phi, alpha=1.2, beta=1.1, gamma=1.15):
    depth, width, resolution = compound_scaling(phi, alpha, beta, gamma)
    return depth * width ** 2 * resolution ** 2


def grid_search(accuracy, grid, target=2.0, tolerance=0.1):
    best, best_score = None, None
    for a, b, g in product(grid, repeat=3):
        if min(a, b, g) < 1 or abs(a * b * b * g * g - target) > tolerance:
            continue
        score = accuracy(a, b, g)
        if best_score is None or score > best_score:
            best, best_score = (a, b, g), score
    if best is None:
        raise ValueError(f"no triple of {list(grid)} has alpha * beta^2 * gamma^2 within {tolerance} of {target}")
    return best


def round_filters(channels, width_mult, divisor=8):
    v = channels * width_mult
    rounded = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * v:
        rounded += divisor
    return int(rounded)


def round_repeats(repeats, depth_mult):
    return int(math.ceil(repeats * depth_mult))


# EfficientNet-B0 (Tan & Le, Table 1): MBConv1 k3x3 16 x1, MBConv6 k3x3 24 x2, MBConv6 k5x5 40 x2,
# MBConv6 k3x3 80 x3, MBConv6 k5x5 112 x3, MBConv6 k5x5 192 x4, MBConv6 k3x3 320 x1; the stem gives 32.
B0_STAGES = []
_channels = 32
for _expand, _kernel, _stride, _out, _repeats in [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2),
                                                    (6, 3, 2, 80, 3), (6, 5, 1, 112, 3), (6, 5, 2, 192, 4),
                                                    (6, 3, 1, 320, 1)]:
    B0_STAGES.append((_expand, _kernel, _stride, _channels, _out, _repeats))
    _channels = _out


def scale_stages(stages, width_mult, depth_mult):
    return [(e, k, s, round_filters(cin, width_mult), round_filters(cout, width_mult), round_repeats(n, depth_mult))
            for e, k, s, cin, cout, n in stages]
