"""CORRECT: numpy throughout: a meshgrid with masks and argmax, floor(v / d + 0.5) rounding, tuples of tuples."""

import math

import numpy as np


def compound_scaling(phi, alpha=1.2, beta=1.1, gamma=1.15):
    return tuple(float(np.exp(phi * np.log(base))) for base in (alpha, beta, gamma))


def flops_multiplier(phi, alpha=1.2, beta=1.1, gamma=1.15):
    depth, width, resolution = compound_scaling(phi, alpha, beta, gamma)
    return depth * width ** 2 * resolution ** 2


def grid_search(accuracy, grid, target=2.0, tolerance=0.1):
    values = np.asarray(grid, dtype=float)
    a, b, g = (axis.ravel() for axis in np.meshgrid(values, values, values, indexing="ij"))
    ok = (a >= 1) & (b >= 1) & (g >= 1) & (np.abs(a * b ** 2 * g ** 2 - target) <= tolerance)
    if not ok.any():
        raise ValueError("no candidate satisfies the constraint")
    a, b, g = a[ok], b[ok], g[ok]
    scores = np.array([accuracy(float(x), float(y), float(z)) for x, y, z in zip(a, b, g)])
    best = int(np.argmax(scores))
    return float(a[best]), float(b[best]), float(g[best])


def round_filters(channels, width_mult, divisor=8):
    v = channels * width_mult
    new = max(divisor, math.floor(v / divisor + 0.5) * divisor)
    return new + divisor if new < 0.9 * v else new


def round_repeats(repeats, depth_mult):
    return math.ceil(repeats * depth_mult)


B0_STAGES = (
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
)


def scale_stages(stages, width_mult, depth_mult):
    scaled = []
    for stage in stages:
        e, k, s, cin, cout, n = stage
        scaled.append((e, k, s, round_filters(cin, width_mult), round_filters(cout, width_mult),
                       round_repeats(n, depth_mult)))
    return scaled
