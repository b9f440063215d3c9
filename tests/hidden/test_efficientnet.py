"""Hidden suite for efficientnet: MBConv's rules, and B0..B7 built from the student's own scaling.

Oracles: the reference for behaviour, torchvision's published numbers for the reference. The
student may name MBConv's parts freely, so weights are given by position (`forward_by_position`):
the i-th state-dict entry gets the reference's i-th values. A behaviour difference is explained
by the variant of the reference it matches (ReLU for SiLU, no skip, ...). Big variants are built
on the meta device (counting only); behaviour is checked on single blocks and on b0 at 64x64.

Grading the network once, not the scaling twice. efficientnet.py imports the student's
scaling.py, so a rounding mistake there would change every network and cost points here as
well as in the scaling exercise. Instead, the network tests ask the student's process what its
scaling gives (`architectures.scaled_stages`: the scaled B0 table, round_filters(32, w) and
round_filters(1280, w), plain data) and build the REFERENCE network from those same tables
(`build_efficientnet`, in this process): a scaling mistake then changes the expected network
exactly as it changes the student's, and only the network's own mistakes are charged here. The
other direction was ruled out: handing the student's process correct tables or a correct
scaling module would put reference code (or a stand-in for it) into the jailed process, which
only ever receives plain data. When the student's scaling cannot give a table at all (not
written yet, or not a table of whole numbers) the published tables are used, and the feedback
says so.
"""

import types

import numpy as np
import pytest
from torch import nn

from grader.suite import (
    Mismatch,
    array_difference,
    ask,
    describe_model,
    expect_equal,
    layout_difference,
    model,
    run_by_position,
)

PUBLISHED = {  # torchvision: parameters, blocks, head width; (width, depth) multipliers
    "b0": (5_288_548, 16, 1280, 1.0, 1.0),
    "b1": (7_794_184, 23, 1280, 1.0, 1.1),
    "b2": (9_109_994, 23, 1408, 1.1, 1.2),
    "b3": (12_233_232, 26, 1536, 1.2, 1.4),
    "b4": (19_341_616, 32, 1792, 1.4, 1.8),
    "b5": (30_389_784, 39, 2048, 1.6, 2.2),
    "b6": (43_040_704, 45, 2304, 1.8, 2.6),
    "b7": (66_347_960, 55, 2560, 2.0, 3.1),
}
DROPOUT = {"b0": 0.2, "b1": 0.2, "b2": 0.3, "b3": 0.3, "b4": 0.4, "b5": 0.4, "b6": 0.5, "b7": 0.5}
# (in_channels, out_channels, kernel, stride, expand_ratio)
CONFIGS = [
    (32, 16, 3, 1, 1),
    (16, 24, 3, 2, 6),
    (24, 24, 5, 1, 6),
    (40, 80, 3, 1, 6),
    (12, 12, 5, 2, 4),
    (8, 8, 3, 1, 1),
    (4, 8, 3, 1, 2),
]
SEED = 0


def inputs(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def mbconv_parts(cin, cout, kernel, expand):
    """Parameter counts of MBConv's four parts, by the formulas in the docstring."""
    c = cin * expand
    s = max(1, cin // 4)
    return {
        "expansion": (cin * c + 2 * c) if expand != 1 else 0,
        "depthwise": c * kernel * kernel + 2 * c,
        "squeeze-and-excitation": 2 * c * s + s + c,
        "projection": c * cout + 2 * cout,
    }


def explain_count(cin, cout, kernel, stride, expand, got):
    """What a parameter count that is off by a known amount most likely means."""
    parts, c, s = mbconv_parts(cin, cout, kernel, expand), cin * expand, max(1, cin // 4)
    known = [
        (-parts["expansion"], "the 1x1 expansion conv + BN is missing"),
        (cin * c + 2 * c if expand == 1 else None, "an expansion conv is there although expand_ratio is 1"),
        (-parts["squeeze-and-excitation"], "the squeeze-and-excitation is missing"),
        (
            2 * c * (max(1, c // 4) - s) + max(1, c // 4) - s,
            "the squeeze uses expanded // 4 channels; it is max(1, in_channels // 4)",
        ),
        (-(s + c), "the squeeze-and-excitation convs have no bias"),
        (c * c * kernel * kernel - c * kernel * kernel, "the depthwise conv is a full conv: use groups=channels"),
        (cin * cout + 2 * cout, "the skip has a projection conv: EfficientNet only uses an identity skip"),
        ((c if expand != 1 else 0) + c + cout, "the convolutions have biases (BatchNorm follows each: bias=False)"),
    ]
    expected = sum(parts.values())
    reasons = [reason for delta, reason in known if delta == got - expected]
    if reasons:
        return " or ".join(reasons)
    return "expected parts: " + ", ".join(f"{name} {count:,}" for name, count in parts.items() if count)


# -- variants of the reference, to name what a different output matches ---------------------------


def _swap(module, old, new):
    for name, child in module.named_children():
        if isinstance(child, old):
            setattr(module, name, new())
        else:
            _swap(child, old, new)


def _se(block):
    return next(m for m in block.modules() if hasattr(m, "fc2"))


MUTANTS = {
    "ReLU where EfficientNet uses SiLU, x * sigmoid(x)": lambda b: _swap(b, nn.SiLU, nn.ReLU),
    "ReLU between the squeeze-and-excitation's two convs (EfficientNet uses SiLU there too)": lambda b: setattr(
        _se(b), "act", nn.ReLU()
    ),
    "no sigmoid on the gate (the gate is sigmoid(...), in (0, 1))": lambda b: setattr(_se(b), "gate", nn.Identity()),
    "SiLU after the projection (the projection is linear: conv + BN only)": lambda b: b.block[-1].append(nn.SiLU()),
    "no identity skip (add the input when stride is 1 and the channels are equal)": lambda b: setattr(
        b, "use_skip", False
    ),
}


def mutant(reference, change):
    def factory(*args):
        block = reference.MBConv(*args)
        change(block)
        return block

    return types.SimpleNamespace(MBConv=factory)


def expect_loadable(student, reference, spec):
    """The reference's weights fit the student's model by position; return the reference's layout."""
    expected = ask(reference, "describe", spec)["state"]
    difference = layout_difference(ask(student, "describe", spec)["state"], expected)
    if difference:
        raise Mismatch(
            f"{describe_model(spec)} cannot take the reference's weights: {difference}",
            hint="create the layers in the order they run (expansion, depthwise, squeeze-and-excitation, "
            "projection), each conv without bias and followed by BatchNorm2d",
        )
    return expected


def expect_block_behaviour(student, reference, args, x, options=None, *, what="the block's output"):
    spec = model("MBConv", *args)
    layout = expect_loadable(student, reference, spec)
    options = {"seed": SEED, **(options or {})}
    expected = run_by_position(reference, spec, layout, x, options)["output"]
    got = run_by_position(student, spec, layout, x, options)["output"]
    difference = array_difference(got, expected)
    if difference is None:
        return
    for description, change in MUTANTS.items():
        variant = run_by_position(mutant(reference, change), spec, layout, x, options)["output"]
        if array_difference(got, variant) is None:
            raise Mismatch(f"{what} {difference}", details=(f"it matches an MBConv with {description}",))
    raise Mismatch(f"{what} {difference}, with the reference's weights")


# -- MBConv ------------------------------------------------------------------------------------------


@pytest.mark.points(1)
@pytest.mark.hint(
    "expansion (unless ratio 1), depthwise (groups = channels), SE squeezed to max(1, in // 4), "
    "projection; convs without bias, each followed by BatchNorm2d"
)
@pytest.mark.parametrize("args", CONFIGS, ids=lambda a: "-".join(map(str, a)))
def test_mbconv_parameter_count(student, reference, args):
    """MBConv's parameter count equals the reference's"""
    spec = model("MBConv", *args)
    got = ask(student, "describe", spec)["parameters"]
    expected = ask(reference, "describe", spec)["parameters"]
    if got != expected:
        raise Mismatch(
            f"{describe_model(spec)} has the wrong number of parameters",
            expected=f"{expected:,}",
            got=f"{got:,}",
            details=(explain_count(*args, got),),
        )


@pytest.mark.points(1)
@pytest.mark.hint("the depthwise conv carries the stride and pads (k - 1) // 2; the projection sets the channels")
def test_mbconv_output_shapes(student):
    """MBConv's output has out_channels channels and (H - 1) // stride + 1 rows, for odd and even sizes"""
    for args, shape in [
        ((16, 24, 5, 2, 6), (2, 16, 9, 9)),
        ((12, 12, 3, 2, 4), (1, 12, 8, 7)),
        ((8, 16, 5, 1, 1), (1, 8, 5, 6)),
    ]:
        x = inputs(shape, 3)
        out = ask(student, "forward", model("MBConv", *args), x)["outputs"][0]
        expected = (shape[0], args[1], (shape[2] - 1) // args[3] + 1, (shape[3] - 1) // args[3] + 1)
        expect_equal(getattr(out, "shape", out), expected, what=f"the shape of MBConv{args}'s output on {shape}")


@pytest.mark.points(2)
@pytest.mark.hint("the skip is the identity, used exactly when stride == 1 and in_channels == out_channels")
def test_skip_only_when_stride_one_and_channels_equal(student):
    """with every weight 0 the block outputs its input when stride is 1 and channels are equal, else zeros"""
    for args, shape in [
        ((24, 24, 5, 1, 6), (1, 24, 6, 6)),
        ((8, 8, 3, 1, 1), (2, 8, 5, 5)),
        ((40, 80, 3, 1, 6), (1, 40, 4, 4)),
        ((12, 12, 5, 2, 4), (1, 12, 6, 6)),
    ]:
        spec, x = model("MBConv", *args), inputs(shape, 4)
        layout = ask(student, "describe", spec)["state"]
        got = run_by_position(student, spec, layout, x, {"constant": 0.0})["output"]
        skip = args[3] == 1 and args[0] == args[1]
        rows, cols = ((n - 1) // args[3] + 1 for n in shape[2:])
        expected = x if skip else np.zeros((shape[0], args[1], rows, cols), np.float32)
        difference = array_difference(got, expected)
        if difference:
            rule = (
                "stride 1 and equal channels: the input comes through the skip"
                if skip
                else "no skip here (stride 2 or the channels change): the output is all zeros"
            )
            raise Mismatch(f"with every weight 0 the output {difference}", details=(rule,))


def _se_bias_key(layout):
    return next(key for key, _ in layout if key.endswith("fc2.bias"))


def per_channel_constant(y):
    """Whether every channel of every image of `y` holds one value (up to rounding)."""
    scale = max(float(np.abs(y).max(initial=0.0)), 1.0)
    return bool(np.allclose(y, y.mean(axis=(2, 3), keepdims=True), rtol=0, atol=1e-4 * scale))


@pytest.mark.points(1)
@pytest.mark.hint(
    "squeeze-and-excitation: x * sigmoid(fc2(SiLU(fc1(GAP(x))))), applied to the depthwise output, "
    "before the projection"
)
@pytest.mark.parametrize("args", [(16, 24, 3, 1, 6), (24, 24, 5, 1, 6)], ids=["no-skip", "skip"])
def test_squeeze_and_excitation_gates_the_channels(student, reference, args):
    """with the excitation's bias at -30 every gate is ~0: what reaches the projection is 0, so each channel is constant"""
    spec, x = model("MBConv", *args), inputs((1, args[0], 6, 6), 5)
    layout = expect_loadable(student, reference, spec)
    got = run_by_position(student, spec, layout, x, {"seed": SEED, "set": {_se_bias_key(layout): -30.0}})["output"]
    skip = args[0] == args[1]
    rows = (1, args[1], 6, 6)
    if not isinstance(got, np.ndarray) or got.shape != rows:
        raise Mismatch(
            "the block's output has the wrong shape", expected=str(rows), got=str(getattr(got, "shape", got))
        )
    if per_channel_constant(got - x if skip else got):
        return
    if skip and per_channel_constant(got):
        raise Mismatch(
            "with every gate closed each channel is constant, but the input is not added back",
            details=("stride 1 and equal channels: the identity skip adds the input",),
        )
    raise Mismatch(
        "with every gate closed (sigmoid(-30) ~ 0) the output still varies over positions",
        details=("the gate should multiply the depthwise output, which the projection then sees",),
    )


@pytest.mark.points(2)
@pytest.mark.hint(
    "SiLU(x) = x * sigmoid(x) (nn.SiLU) after the expansion and the depthwise BN; none after the projection"
)
def test_silu_activations(student, reference):
    """with the gate held open, MBConv(32, 16, 3, 1, 1) is depthwise, BN, SiLU, projection, BN: the reference's output"""
    args = (32, 16, 3, 1, 1)
    layout = expect_loadable(student, reference, model("MBConv", *args))
    expect_block_behaviour(
        student, reference, args, inputs((2, 32, 5, 5), 6), {"set": {_se_bias_key(layout): 30.0}}, what="the output"
    )


@pytest.mark.points(1)
@pytest.mark.hint("expansion -> BN -> SiLU, depthwise -> BN -> SiLU, x * SE gate, projection -> BN, + input if skip")
@pytest.mark.parametrize("args", CONFIGS[1:5], ids=lambda a: "-".join(map(str, a)))
def test_mbconv_computes_what_the_reference_does(student, reference, args):
    """with the reference's weights, MBConv gives the reference's output"""
    expect_block_behaviour(student, reference, args, inputs((2, args[0], 7, 7), 7))


# -- the network -------------------------------------------------------------------------------------


def their_tables(student, reference, variant):
    """(stages, stem, head, note): the tables the student's efficientnet(variant) should be built from.

    They are what the student's scaling.py gives for the variant's (width, depth); `note` says
    when that differs from the published tables (then this suite follows the student's scaling),
    or why the published tables were used instead.
    """
    width, depth = PUBLISHED[variant][3:]
    published = (
        [tuple(s) for s in reference.scale_stages(reference.B0_STAGES, width, depth)],
        reference.round_filters(32, width),
        reference.round_filters(1280, width),
    )
    call = student.last_call
    try:
        theirs = student.probe("architectures.scaled_stages", width, depth)
    finally:
        student.last_call = call
    tables = _whole_numbers(theirs)
    if tables is None:
        reason = theirs.get("error") or "its tables are not whole numbers"
        return (*published, f"your scaling.py cannot scale B0 ({reason}): the published tables were used")
    if tables == published:
        return (*published, None)
    note = (
        f"your scaling.py scales B0 differently from the published {variant} (that is graded in the "
        "scaling exercise): this test follows your scaling's tables"
    )
    return (*tables, note)


def _whole_numbers(theirs):
    """(stages, stem, head) as ints from the probe's answer, or None if it is not such a table."""
    try:
        stages = [tuple(int(v) for v in stage) for stage in theirs["stages"]]
        if not stages or any(
            len(s) != 6 or list(s) != [float(v) for v in raw] or min(s) < 1 for s, raw in zip(stages, theirs["stages"])
        ):
            return None
        stem, head = int(theirs["stem"]), int(theirs["head"])
        return (
            (stages, stem, head) if stem == theirs["stem"] and head == theirs["head"] and min(stem, head) >= 1 else None
        )
    except (KeyError, TypeError, ValueError):
        return None


def reference_like(stages, stem, head, variant):
    """The model spec of the reference network built from these tables (`build_efficientnet`)."""
    return model("build_efficientnet", [list(s) for s in stages], stem, head, DROPOUT[variant])


def explain_variant(student, stages, stem, head, variant):
    """Why efficientnet(variant)'s count is off, given the tables it should follow."""
    built = ask(student, "describe", model("efficientnet", variant))
    kinds = [kind for _, kind, _, _ in built["modules"]]
    blocks = sum(stage[5] for stage in stages)
    if kinds.count("MBConv") != blocks:
        return f"it has {kinds.count('MBConv')} MBConv blocks, expected {blocks}: each stage has `repeats` blocks"
    linears = [hyper for _, kind, hyper, _ in built["modules"] if kind == "Linear"]
    if linears and linears[-1].get("in_features") != head:
        return (
            f"the classifier takes {linears[-1].get('in_features')} features, expected {head} "
            "(the head conv has round_filters(1280, w) channels)"
        )
    return (
        f"the blocks and the head are right: compare the stem (round_filters(32, w) = {stem} channels, "
        "3x3 stride 2) with the docstring"
    )


@pytest.mark.points(3)
@pytest.mark.hint(
    "scale B0_STAGES with VARIANTS' (width, depth) through scale_stages; stem round_filters(32, w), "
    "head round_filters(1280, w)"
)
def test_every_variant_has_the_parameter_count_of_its_tables(student, reference):
    """efficientnet('b0') ... ('b7') have the reference's parameter counts for the tables your scaling.py gives"""
    for variant in PUBLISHED:
        stages, stem, head, note = their_tables(student, reference, variant)
        expected = ask(reference, "describe", reference_like(stages, stem, head, variant))["parameters"]
        got = ask(student, "describe", model("efficientnet", variant))["parameters"]
        if got != expected:
            call = student.last_call
            why = explain_variant(student, stages, stem, head, variant)
            student.last_call = call
            raise Mismatch(
                f"efficientnet({variant!r}) has the wrong number of parameters",
                expected=f"{expected:,}",
                got=f"{got:,}",
                details=tuple(line for line in (why, note) if line),
            )


@pytest.mark.points(1)
@pytest.mark.hint("repeats come from round_repeats (ceil); the head conv has round_filters(1280, w) channels")
def test_block_totals_and_head_width(student, reference):
    """b0 ... b7 have as many MBConv blocks as their tables' repeats add up to, and heads of round_filters(1280, w)"""
    for variant in PUBLISHED:
        stages, _, head, note = their_tables(student, reference, variant)
        built = ask(student, "describe", model("efficientnet", variant))
        kinds = [kind for _, kind, _, _ in built["modules"]]
        linears = [hyper for _, kind, hyper, _ in built["modules"] if kind == "Linear"]
        got = (kinds.count("MBConv"), linears[-1].get("in_features") if linears else None)
        expected = (sum(stage[5] for stage in stages), head)
        if got != expected:
            raise Mismatch(
                f"efficientnet({variant!r}) has the wrong number of blocks or head width",
                expected=f"{expected[0]} MBConv blocks, a head of {expected[1]}",
                got=f"{got[0]} MBConv blocks, a head of {got[1]}",
                details=(note,) if note else (),
            )


@pytest.mark.points(2)
@pytest.mark.hint(
    "stem conv 3x3 stride 2 + BN + SiLU, the blocks in order, head conv 1x1 + BN + SiLU, global "
    "average pool, flatten, Dropout, Linear"
)
def test_b0_computes_what_the_reference_does(student, reference):
    """with the reference's weights, efficientnet('b0') gives the reference's scores on a 64x64 image (eval mode)"""
    spec, x = model("efficientnet", "b0"), inputs((1, 3, 64, 64), 8)
    stages, stem, head, note = their_tables(student, reference, "b0")
    reference_spec = reference_like(stages, stem, head, "b0")
    expected_layout = ask(reference, "describe", reference_spec)["state"]
    difference = layout_difference(ask(student, "describe", spec)["state"], expected_layout)
    if difference:
        raise Mismatch(
            f"efficientnet('b0') cannot take the reference's weights: {difference}",
            hint="create the layers in the order they run: stem, blocks, head conv, classifier",
            details=(note,) if note else (),
        )
    options = {"seed": SEED, "record_types": ["MBConv"]}
    expected = run_by_position(reference, reference_spec, expected_layout, x, options)
    got = run_by_position(student, spec, expected_layout, x, options)
    difference = array_difference(got["output"], expected["output"])
    if difference is None:
        return
    if len(got["records"]) != len(expected["records"]):
        raise Mismatch(
            f"the scores {difference}: {len(got['records'])} MBConv blocks ran, expected {len(expected['records'])}",
            details=("build every block of every stage from MBConv",),
        )
    for index, ((_, want), (_, have)) in enumerate(zip(expected["records"], got["records"]), start=1):
        block_difference = array_difference(have, want)
        if block_difference:
            raise Mismatch(
                f"the output of MBConv block {index} (of {len(expected['records'])}) {block_difference}",
                details=(
                    "the blocks before it agree"
                    if index > 1
                    else "check the stem: conv 3x3 stride 2 padding 1, BN, SiLU",
                ),
            )
    raise Mismatch(
        f"the scores {difference}, but every MBConv block agrees",
        details=("look at the head: conv 1x1 + BN + SiLU, pool, flatten, Dropout, Linear",),
    )
