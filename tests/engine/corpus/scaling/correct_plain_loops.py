"""CORRECT: three nested loops, the constraint checked with multiplications, ceil by negated floor division."""


def compound_scaling(phi, alpha=1.2, beta=1.1, gamma=1.15):
    return (alpha ** phi, beta ** phi, gamma ** phi)


def flops_multiplier(phi, alpha=1.2, beta=1.1, gamma=1.15):
    return (alpha * beta * beta * gamma * gamma) ** phi


def grid_search(accuracy, grid, target=2.0, tolerance=0.1):
    best = None
    for a in grid:
        for b in grid:
            for g in grid:
                if a < 1 or b < 1 or g < 1:
                    continue
                if not target - tolerance <= a * b ** 2 * g ** 2 <= target + tolerance:
                    continue
                score = accuracy(a, b, g)
                if best is None or score > best[0]:
                    best = (score, (a, b, g))
    if best is None:
        raise ValueError(f"nothing within {tolerance} of {target}")
    return best[1]


def round_filters(channels, width_mult, divisor=8):
    v = channels * width_mult
    new = int(v + divisor / 2) // divisor * divisor
    if new < divisor:
        new = divisor
    if new < 0.9 * v:
        new += divisor
    return new


def round_repeats(repeats, depth_mult):
    return int(-(-repeats * depth_mult // 1))


B0_STAGES = [
    (1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1),
]


def scale_stages(stages, width_mult, depth_mult):
    return [(e, k, s, round_filters(i, width_mult), round_filters(o, width_mult), round_repeats(n, depth_mult))
            for e, k, s, i, o, n in stages]
