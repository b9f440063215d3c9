"""Known mistakes in EfficientNet's compound scaling and its rounding rules.

Where they come from: readings of the EfficientNet paper (Tan & Le, 2019) that swap the
roles of alpha and beta, multiply by phi instead of raising to it, forget that FLOPs grow
with the SQUARE of width and resolution, or take "FLOPs about double" as exactly 2^phi;
re-implementations of torchvision's `_make_divisible` and the official `round_filters` /
`round_repeats` (GitHub issues on "channels not divisible by 8", "B1 has fewer blocks than the
paper" from round() or int() instead of math.ceil, Python 3's round-half-to-even); grid
searches that drop abs() from the constraint, read the tolerance as relative, admit
multipliers below 1 or only try sorted triples; and our corpus (tests/engine/corpus/scaling/).

compound_scaling, flops_multiplier and scale_stages are called directly, so their entries
imitate the failing call on the reference. round_filters and round_repeats are checked in
bulk and grid_search with an accuracy function that lives in the student's process: their
entries are detectors that ask the student's function about a few telling cases and compare
with what the mistaken rule gives there. Where two catalogued mistakes give the same answer
to a call, neither is named.
"""

import itertools
import math

from grader.suite import make_accuracy, misconception, same_result

SECTION = "EfficientNet (2019)"


# -- compound_scaling and flops_multiplier: imitations ----------------------------------------
def _only(name, mistakes):
    """What mistake `name` gives, unless another mistake gives the same answer here (then none is named)."""
    mine = mistakes[name]
    if any(same_result(mine, other) for key, other in mistakes.items() if key != name):
        raise ValueError("two mistakes give this answer")
    return mine


def _compound_mistakes(reference, phi, alpha=1.2, beta=1.1, gamma=1.15):
    depth, width, resolution = reference.compound_scaling(phi, alpha, beta, gamma)
    return {
        "compound_width_first": (width, depth, resolution),
        "phi_multiplies": (alpha * phi, beta * phi, gamma * phi),
    }


def _flops_mistakes(reference, phi, alpha=1.2, beta=1.1, gamma=1.15):
    reference.flops_multiplier(phi, alpha, beta, gamma)
    return {"flops_without_squares": (alpha * beta * gamma) ** phi, "flops_two_to_the_phi": 2**phi}


@misconception(
    "compound_width_first",
    imitates="compound_scaling",
    section=SECTION,
    summary="(width, depth, resolution): beta^phi first",
    explanation="alpha scales depth, beta width, gamma resolution; return them in the order "
    "(depth, width, resolution) = (alpha^phi, beta^phi, gamma^phi)",
)
def compound_width_first(reference, *args, **kwargs):
    return _only("compound_width_first", _compound_mistakes(reference, *args, **kwargs))


@misconception(
    "phi_multiplies",
    imitates="compound_scaling",
    section=SECTION,
    summary="(alpha * phi, beta * phi, gamma * phi): phi as a factor",
    explanation="phi is an exponent: d = alpha^phi, so each step of phi multiplies depth by alpha "
    "(and phi = 0 gives B0's 1.0, not 0)",
)
def phi_multiplies(reference, *args, **kwargs):
    return _only("phi_multiplies", _compound_mistakes(reference, *args, **kwargs))


@misconception(
    "flops_without_squares",
    imitates="flops_multiplier",
    section=SECTION,
    summary="(alpha * beta * gamma)^phi, width and resolution counted once",
    explanation="a convolution's FLOPs grow with the square of the width (channels in AND out) and "
    "of the resolution (height AND width): (alpha * beta^2 * gamma^2)^phi",
)
def flops_without_squares(reference, *args, **kwargs):
    return _only("flops_without_squares", _flops_mistakes(reference, *args, **kwargs))


@misconception(
    "flops_two_to_the_phi",
    imitates="flops_multiplier",
    section=SECTION,
    summary="2^phi, the paper's rule of thumb",
    explanation="FLOPs grow by (alpha * beta^2 * gamma^2)^phi; that is only about 2^phi when the "
    "bases satisfy the constraint alpha * beta^2 * gamma^2 ~= 2",
)
def flops_two_to_the_phi(reference, *args, **kwargs):
    return _only("flops_two_to_the_phi", _flops_mistakes(reference, *args, **kwargs))


# -- scale_stages: imitation -----------------------------------------------------------------------
@misconception(
    "stages_keep_in_channels",
    imitates="scale_stages",
    section=SECTION,
    summary="scaled out_channels with B0's in_channels kept",
    explanation="both channel counts of a stage are scaled with round_filters; otherwise a stage's "
    "input no longer matches the previous stage's output",
)
def stages_keep_in_channels(reference, stages, width_mult, depth_mult):
    scaled = reference.scale_stages(stages, width_mult, depth_mult)
    return [(e, k, s, original[3], c_out, r) for (e, k, s, _, c_out, r), original in zip(scaled, stages)]


# -- round_filters and round_repeats: detectors on telling cases ------------------------------------
def _rule_shows(student, reference, function, cases, mistaken):
    """Whether the student's `function` gives the mistaken answer on every case (and that is wrong somewhere)."""
    reply = student.probe("architectures.call_many", function, cases)
    got = reply["results"]
    wrong = [mistaken(*case) for case in cases]
    right = [getattr(reference, function)(*case) for case in cases]
    return (
        reply["failed_at"] is None and wrong != right and all(type(g) is type(w) and g == w for g, w in zip(got, wrong))
    )


FILTER_CASES = [(10, 1.0), (11, 1.0), (52, 1.0), (68, 1.0), (60, 1.0), (100, 1.0), (32, 1.4), (16, 1.4)]


def _filters(channels, width_mult, divisor=8, *, to_multiple, ten_percent=True):
    v = channels * width_mult
    rounded = max(divisor, to_multiple(v, divisor))
    if ten_percent and rounded < 0.9 * v:
        rounded += divisor
    return rounded


def _nearest(v, divisor):
    return int(v + divisor / 2) // divisor * divisor


def _stages_differ(call, column, official):
    """Whether a scale_stages call returned stages whose `column`s (3, 4: channels; 5: repeats) are
    not what the official rounding gives: a mistake in that rounding shows there."""
    stages, width_mult, depth_mult = (
        list(call.args) + [call.kwargs.get(k) for k in ("stages", "width_mult", "depth_mult")]
    )[:3]
    got = [tuple(stage) for stage in call.result or ()]
    return (
        call.returned
        and len(got) == len(stages)
        and any(
            len(row) == 6 and row[c] != official(stage[c], width_mult, depth_mult)
            for row, stage in zip(got, stages)
            for c in column
        )
    )


def _shows_filters(call):
    """A failing round_filters call, or scale_stages whose channel counts are off."""
    return (
        call.function == "round_filters"
        or call.function == "scale_stages"
        and _stages_differ(call, (3, 4), lambda channels, width, depth: _filters(channels, width, to_multiple=_nearest))
    )


def _shows_repeats(call):
    """A failing round_repeats call, or scale_stages whose numbers of blocks are off."""
    return (
        call.function == "round_repeats"
        or call.function == "scale_stages"
        and _stages_differ(call, (5,), lambda repeats, width, depth: int(math.ceil(repeats * depth)))
    )


@misconception(
    "filters_rounded_down",
    explains=_shows_filters,
    section=SECTION,
    summary="rounds channel counts down to a multiple of the divisor",
    explanation="round_filters rounds to the NEAREST multiple: int(v + divisor / 2) // divisor * divisor "
    "(60 channels give 64, not 56)",
)
def filters_rounded_down(student, reference):
    return _rule_shows(
        student,
        reference,
        "round_filters",
        FILTER_CASES,
        lambda c, w: _filters(c, w, to_multiple=lambda v, d: int(v) // d * d),
    )


@misconception(
    "filters_round_half_even",
    explains=_shows_filters,
    section=SECTION,
    summary="rounds channel counts with round(), which sends ties to the even multiple",
    explanation="Python 3's round(6.5) is 6, so 52 channels would give 48; the official rule rounds "
    "a tie up: int(v + divisor / 2) // divisor * divisor gives 56",
)
def filters_round_half_even(student, reference):
    return _rule_shows(
        student,
        reference,
        "round_filters",
        FILTER_CASES,
        lambda c, w: _filters(c, w, to_multiple=lambda v, d: round(v / d) * d),
    )


@misconception(
    "filters_without_ten_percent_rule",
    explains=_shows_filters,
    section=SECTION,
    summary="rounds channel counts to the nearest multiple but never adds the divisor back",
    explanation="when rounding loses more than 10% of v (10 channels -> 8), the official rule adds one "
    "divisor (16), so a layer never shrinks much",
)
def filters_without_ten_percent_rule(student, reference):
    return _rule_shows(
        student,
        reference,
        "round_filters",
        FILTER_CASES,
        lambda c, w: _filters(c, w, to_multiple=_nearest, ten_percent=False),
    )


REPEAT_CASES = [(3, 1.1), (2, 1.8), (4, 3.1), (1, 2.6), (2, 1.0)]


@misconception(
    "repeats_rounded_to_nearest",
    explains=_shows_repeats,
    section=SECTION,
    summary="rounds the number of blocks to the nearest int",
    explanation="repeats are rounded UP, math.ceil(repeats * depth_mult): 3 x 1.1 = 3.3 gives 4 blocks, "
    "so a deeper variant never loses a block to rounding",
)
def repeats_rounded_to_nearest(student, reference):
    return _rule_shows(student, reference, "round_repeats", REPEAT_CASES, lambda r, d: int(round(r * d)))


@misconception(
    "repeats_truncated",
    explains=_shows_repeats,
    section=SECTION,
    summary="truncates the number of blocks with int()",
    explanation="int() rounds down; repeats are rounded UP, math.ceil(repeats * depth_mult)",
)
def repeats_truncated(student, reference):
    return _rule_shows(student, reference, "round_repeats", REPEAT_CASES, lambda r, d: int(r * d))


# -- grid_search: detectors with accuracy functions the student never sees ---------------------------
GRID = [0.9, 1.0, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.4]
SEARCHES = {
    "hill": ({"kind": "quadratic", "center": (1.4, 1.3, 1.3), "weights": (1.0, 1.5, 0.7), "base": 0.8}, GRID, 2.0, 0.1),
    "table": (
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
    "small": ({"kind": "linear", "weights": (-1.0, -0.5, -0.25), "base": 5.0}, GRID, 2.0, 0.1),
    "gamma": ({"kind": "linear", "weights": (0.2, 0.5, 3.0), "base": 0.0}, GRID, 2.0, 0.1),
    "target4": (
        {"kind": "linear", "weights": (0.5, 2.0, 1.0), "base": 0.0},
        [1.6, 1.0, 1.2, 1.1, 1.3, 1.5, 1.4],
        4.0,
        0.05,
    ),
}


def _mistaken_search(
    accuracy, grid, target, tolerance, *, below_one=False, one_sided=False, relative=False, sorted_only=False
):
    """The paper's grid search with one mistake switched on."""
    best, best_accuracy = None, -math.inf
    triples = (
        itertools.combinations_with_replacement(sorted(grid), 3) if sorted_only else itertools.product(grid, repeat=3)
    )
    for alpha, beta, gamma in triples:
        if not below_one and min(alpha, beta, gamma) < 1:
            continue
        cost = alpha * beta**2 * gamma**2
        off = cost / target - 1 if relative else cost - target
        if (off if one_sided else abs(off)) > tolerance:
            continue
        score = accuracy(alpha, beta, gamma)
        if best is None or score > best_accuracy:
            best, best_accuracy = (alpha, beta, gamma), score
    return best


def _search_shows(student, reference, names, **mistake):
    """Whether the student's grid_search picks the mistaken triple on every search (and that is wrong somewhere)."""
    differs = False
    for name in names:
        spec, grid, target, tolerance = SEARCHES[name]
        accuracy = make_accuracy(spec)
        wrong = _mistaken_search(accuracy, grid, target, tolerance, **mistake)
        right = reference.grid_search(accuracy, grid, target=target, tolerance=tolerance)
        got = student.probe("architectures.grid_search", spec, grid, target, tolerance)["result"]
        if not isinstance(got, (tuple, list)) or tuple(got) != wrong:
            return False
        differs = differs or wrong != right
    return differs


@misconception(
    "grid_allows_below_one",
    explains="grid_search",
    section=SECTION,
    summary="lets grid_search pick a multiplier below 1",
    explanation="the paper requires alpha, beta, gamma >= 1: scaling up never shrinks a dimension, "
    "so skip triples with a value below 1",
)
def grid_allows_below_one(student, reference):
    return _search_shows(student, reference, ["table", "small"], below_one=True)


@misconception(
    "grid_one_sided_constraint",
    explains="grid_search",
    section=SECTION,
    summary="lets grid_search pick any triple cheaper than target + tolerance",
    explanation="the constraint is two-sided, |alpha * beta^2 * gamma^2 - target| <= tolerance: "
    "a much cheaper network does not spend the FLOPs one step of phi should",
)
def grid_one_sided_constraint(student, reference):
    return _search_shows(student, reference, ["small", "hill"], one_sided=True)


@misconception(
    "grid_relative_tolerance",
    explains="grid_search",
    section=SECTION,
    summary="reads grid_search's tolerance as relative, |cost / target - 1| <= tolerance",
    explanation="the tolerance is absolute: |alpha * beta^2 * gamma^2 - target| <= tolerance",
)
def grid_relative_tolerance(student, reference):
    return _search_shows(student, reference, ["hill", "target4"], relative=True)


@misconception(
    "grid_sorted_triples",
    explains="grid_search",
    section=SECTION,
    summary="tries only sorted triples (alpha <= beta <= gamma) in grid_search",
    explanation="alpha, beta and gamma are chosen independently: try every triple, repeats allowed "
    "(itertools.product(grid, repeat=3))",
)
def grid_sorted_triples(student, reference):
    return _search_shows(student, reference, ["hill", "gamma"], sorted_only=True)
