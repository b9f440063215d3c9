"""Hidden suite for shapes: the submission against PyTorch itself.

Sizes and shapes are checked against what PyTorch computes when it runs the
layers: a convolution or pooling on a zero tensor, a generated stack of real
layers on a zero batch. Receptive fields are checked against the reference and
against an impulse experiment (which input pixels reach one output value).
Hypothesis builds random valid layer stacks, tracking the shape by running each
layer, and shrinks a failing stack to a short one for the feedback.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given
from hypothesis import strategies as st

from grader.suite import (
    Mismatch,
    StudentRaised,
    build,
    call_on_layers,
    describe,
    describe_value,
    expect_equal,
    expect_raises,
    type_name,
)

# Tiny tensors: one thread is fastest, and keeps this judge from fighting others for the cores.
torch.set_num_threads(1)

ACTIVATIONS = [
    ("ReLU", {}),
    ("LeakyReLU", {"negative_slope": 0.1}),
    ("Tanh", {}),
    ("Sigmoid", {}),
    ("SiLU", {}),
    ("GELU", {}),
    ("Dropout", {"p": 0.5}),
]


# -- PyTorch as the oracle -------------------------------------------------------
def torch_shapes(layers, input_shape):
    """The shape after each top-level layer, from running the layers on a zero batch of one."""
    shapes, x = [], torch.zeros(1, *input_shape)
    with torch.no_grad():
        for layer in build(layers):
            x = layer.eval()(x)  # eval: BatchNorm on a batch of one 1x1 map is fine
            shapes.append(tuple(x.shape[1:]))
    return shapes


def torch_conv_size(size, kernel, stride, padding, dilation):
    x, w = torch.zeros(1, 1, size, 1), torch.zeros(1, 1, kernel, 1)
    return F.conv2d(x, w, stride=(stride, 1), padding=(padding, 0), dilation=(dilation, 1)).shape[2]


def torch_pool_size(size, kernel, stride, padding, ceil_mode):
    stride = kernel if stride is None else stride
    x = torch.zeros(1, 1, size, 1)
    return F.max_pool2d(x, (kernel, 1), (stride, 1), (padding, 0), ceil_mode=ceil_mode).shape[2]


def impulse_receptive_field(layers):
    """How far apart the input pixels that reach the first output value lie, along one axis.

    Every layer with a kernel becomes a 1D convolution with an all-ones kernel
    of the same size, stride and dilation (pooling sees the same pixels as
    such a kernel), so no contribution cancels: the input positions with a
    non-zero gradient are exactly those the output sees, from 0 to r - 1
    (with gaps between them when a kernel is dilated).
    """
    kernels = [
        _square_geometry(layer) for layer in _unnested(layers) if layer[0] in ("Conv2d", "MaxPool2d", "AvgPool2d")
    ]
    length = 1 + sum(d * k for k, s, d in kernels) * math.prod(s for k, s, d in kernels)
    x = torch.ones(1, 1, length, dtype=torch.float64, requires_grad=True)
    y = x
    for k, s, d in kernels:
        y = F.conv1d(y, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
    y[0, 0, 0].backward()
    return int(torch.nonzero(x.grad[0, 0]).max()) + 1


def _unnested(layers):
    for name, options in layers:
        if name == "Sequential":
            yield from _unnested(options)
        else:
            yield name, options


def _square_geometry(layer):
    """(kernel, stride, dilation) of a square layer, with PyTorch's defaults (a pool's stride is its kernel)."""
    name, options = layer
    side = [
        v[0] if isinstance(v, tuple) else v
        for v in (options["kernel_size"], options.get("stride"), options.get("dilation", 1))
    ]
    kernel, stride, dilation = side
    if stride is None:
        stride = 1 if name == "Conv2d" else kernel
    return kernel, stride, dilation


# -- calling the student -----------------------------------------------------------
def check_output_shape(student, layers, input_shape):
    """output_shape(layers, input_shape) must equal PyTorch's shape, without running the layers."""
    expected_after = torch_shapes(layers, input_shape)
    got, ran = call_on_layers(student, "output_shape", layers, input_shape)
    expected = expected_after[-1]
    if ran:
        raise Mismatch(
            f"output_shape ran the layers ({', '.join(ran)}): compute the shape from their "
            "hyper-parameters (kernel_size, stride, padding, ...) instead"
        )
    if type(got) is not tuple or not all(_is_int(size) for size in got):
        raise Mismatch(
            "the output shape should be a tuple of ints",
            expected=describe_value(expected),
            got=f"{type_name(got)} {describe_value(got)}",
        )
    if got != expected:
        raise Mismatch(
            "the output shape is wrong",
            expected=describe_value(expected),
            got=describe_value(got),
            details=_first_wrong_layer(student, layers, input_shape, expected_after),
        )


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _first_wrong_layer(student, layers, input_shape, expected_after):
    """Which layer the student's shapes first go wrong at, asked layer by layer (top level)."""
    full_call = student.last_call
    try:
        for k in range(1, len(layers)):
            try:
                got, _ = call_on_layers(student, "output_shape", layers[:k], input_shape)
            except StudentRaised:
                return ()
            if got != expected_after[k - 1]:
                return (
                    f"first wrong after layer {k}, {describe(layers[k - 1 : k])[1:-1]}: "
                    f"expected {describe_value(expected_after[k - 1])}, got {describe_value(got)}",
                )
        if len(layers) > 1:
            return (
                f"the shapes after layers 1 to {len(layers) - 1} are right; the last layer, "
                f"{describe(layers[-1:])[1:-1]}, goes wrong",
            )
        return ()
    finally:
        student.last_call = full_call


# -- strategies --------------------------------------------------------------------
def int_or_pair(low, high):
    return st.one_of(st.integers(low, high), st.tuples(st.integers(low, high), st.integers(low, high)))


def _as_written(draw, a, b):
    """An int when both sides agree (sometimes the pair anyway), else the pair."""
    return a if a == b and draw(st.booleans()) else (a, b)


@st.composite
def conv_layer(draw, shape, *, square=False):
    C, H, W = shape
    dh = dw = draw(st.sampled_from([1, 1, 2]))
    if not square and draw(st.booleans()):
        dw = draw(st.integers(1, 2))
    form = draw(st.sampled_from(["int", "pair", "valid", "same"] if not square else ["int", "valid", "same"]))
    ph = pw = draw(st.integers(0, 2)) if form in ("int", "pair") else 0
    if form == "pair":
        pw = draw(st.integers(0, 2))
    roomy = form == "same" or square  # "same" pads whatever the kernel; square stacks have no input
    KH = draw(st.integers(1, 5 if roomy else min(5, (H + 2 * ph - 1) // dh + 1)))
    KW = KH if square else draw(st.integers(1, 5 if roomy else min(5, (W + 2 * pw - 1) // dw + 1)))
    options = {"in_channels": C, "out_channels": draw(st.integers(1, 8)), "kernel_size": _as_written(draw, KH, KW)}
    if form != "same":
        stride = draw(st.integers(1, 2)) if square else draw(int_or_pair(1, 3))
        if stride != 1 or draw(st.booleans()):
            options["stride"] = stride
    options["padding"] = {"int": ph, "pair": (ph, pw), "valid": "valid", "same": "same"}[form]
    if (dh, dw) != (1, 1) or draw(st.booleans()):
        options["dilation"] = _as_written(draw, dh, dw)
    return ("Conv2d", options)


@st.composite
def pool_layer(draw, shape, *, square=False):
    C, H, W = shape
    name = draw(st.sampled_from(["MaxPool2d", "AvgPool2d"]))
    KH = draw(st.integers(1, 3 if square else min(4, H)))
    KW = KH if square else draw(st.integers(1, min(4, W)))
    options = {"kernel_size": _as_written(draw, KH, KW)}
    stride = draw(st.one_of(st.none(), st.integers(1, 2) if square else int_or_pair(1, 3)))
    if stride is not None:
        options["stride"] = stride
    ph, pw = draw(st.integers(0, KH // 2)), draw(st.integers(0, KW // 2))
    if square:
        ph = pw = min(ph, pw)
    if (ph, pw) != (0, 0):
        options["padding"] = _as_written(draw, ph, pw)
    if draw(st.booleans()):
        options["ceil_mode"] = True
    return (name, options)


@st.composite
def elementwise_layer(draw, shape):
    if draw(st.integers(0, 3)) == 0:
        return ("BatchNorm2d", {"num_features": shape[0]})
    return draw(st.sampled_from(ACTIVATIONS))


@st.composite
def feature_stack(draw, shape, *, max_layers=4, nested=True, square=False):
    """Layers valid for `shape`, and the shape after them (found by running them)."""
    layers = []
    for _ in range(draw(st.integers(1, max_layers))):
        kind = draw(st.sampled_from(["conv", "conv", "pool", "elementwise"] + (["block"] if nested else [])))
        if kind == "block":
            block, shape = draw(feature_stack(shape, max_layers=3, nested=False, square=square))
            layers.append(("Sequential", block))
            continue
        layer = draw(
            {
                "conv": conv_layer(shape, square=square),
                "pool": pool_layer(shape, square=square),
                "elementwise": elementwise_layer(shape),
            }[kind]
        )
        layers.append(layer)
        if square:  # no input to run: only the channels are tracked, so the stack is consistent
            shape = (layer[1].get("out_channels", shape[0]),) + shape[1:]
        else:
            shape = torch_shapes([layer], shape)[-1]
    return layers, shape


@st.composite
def input_shapes(draw):
    return draw(st.integers(1, 4)), draw(st.integers(1, 24)), draw(st.integers(1, 24))


@st.composite
def feature_cases(draw):
    input_shape = draw(input_shapes())
    layers, _ = draw(feature_stack(input_shape))
    return layers, input_shape


@st.composite
def classifier_cases(draw):
    """Features, then a head: AdaptiveAvgPool2d and/or Flatten, Linear layers, maybe in a Sequential."""
    input_shape = draw(input_shapes())
    layers, (C, H, W) = draw(feature_stack(input_shape, max_layers=3))
    head = []
    if draw(st.booleans()):
        size = draw(st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4))))
        head.append(("AdaptiveAvgPool2d", {"output_size": size}))
        H, W = (size, size) if isinstance(size, int) else size
    if not head or draw(st.booleans()):
        features = C * H * W
        head.append(("Flatten", {}))
        for _ in range(draw(st.integers(0, 2))):
            out = draw(st.integers(1, 16))
            head += [("Linear", {"in_features": features, "out_features": out}), draw(st.sampled_from(ACTIVATIONS))]
            features = out
        if draw(st.booleans()):
            head.append(("Linear", {"in_features": features, "out_features": draw(st.integers(1, 10))}))
    return layers + ([("Sequential", head)] if draw(st.booleans()) else head), input_shape


# -- sizes ---------------------------------------------------------------------------
@st.composite
def conv_size_cases(draw):
    kernel, dilation, padding, stride = (
        draw(st.integers(1, 7)),
        draw(st.integers(1, 3)),
        draw(st.integers(0, 3)),
        draw(st.integers(1, 4)),
    )
    span = dilation * (kernel - 1) + 1
    return draw(st.integers(max(span - 2 * padding, 1), 40)), kernel, stride, padding, dilation


@st.composite
def pool_size_cases(draw, *, ceil_mode):
    kernel = draw(st.integers(1, 6))
    padding = draw(st.integers(0, kernel // 2))
    stride = draw(st.one_of(st.none(), st.integers(1, 4)))
    return draw(st.integers(max(kernel - 2 * padding, 1), 40)), kernel, stride, padding, ceil_mode


def call_pool_output_size(student, case):
    size, kernel, stride, padding, ceil_mode = case
    options = {} if stride is None else {"stride": stride}
    return student.pool_output_size(size, kernel, **options, padding=padding, ceil_mode=ceil_mode)


@pytest.mark.points(2)
@pytest.mark.hint("floor((size + 2P - D * (K - 1) - 1) / S) + 1: a dilated kernel spans D * (K - 1) + 1 pixels")
@given(conv_size_cases())
def test_conv_output_size_agrees_with_pytorch(student, case):
    """conv_output_size agrees with PyTorch's conv2d for random sizes, kernels, strides, paddings and dilations"""
    size, kernel, stride, padding, dilation = case
    got = student.conv_output_size(size, kernel, stride=stride, padding=padding, dilation=dilation)
    expect_equal(got, torch_conv_size(*case), what="the output size")


@pytest.mark.points(1)
@pytest.mark.hint("floor((size + 2P - K) / S) + 1; without a stride the stride is the kernel")
@given(pool_size_cases(ceil_mode=False))
def test_pool_output_size_agrees_with_pytorch(student, case):
    """pool_output_size agrees with PyTorch's max_pool2d for random sizes, kernels, strides and paddings"""
    expect_equal(call_pool_output_size(student, case), torch_pool_size(*case), what="the output size")


@pytest.mark.points(1)
@pytest.mark.hint("ceil mode rounds up, then drops a last window that would start in the right padding")
@given(pool_size_cases(ceil_mode=True))
@example(case=(5, 2, 2, 1, True))
@example(case=(9, 3, 4, 1, True))
def test_pool_output_size_ceil_mode_agrees_with_pytorch(student, case):
    """pool_output_size with ceil_mode=True agrees with PyTorch, the last-window rule included"""
    expect_equal(call_pool_output_size(student, case), torch_pool_size(*case), what="the output size")


@pytest.mark.points(1)
@pytest.mark.section("Padding and Stride")
@pytest.mark.hint("total D * (K - 1), before = total // 2, after = total - before (PyTorch puts the odd pixel after)")
@given(st.integers(1, 8), st.integers(1, 3))
def test_same_padding_agrees_with_pytorch(student, kernel, dilation):
    """same_padding splits the padding as Conv2d(padding='same') does, even kernels and dilation included"""
    got = student.same_padding(kernel, dilation=dilation)
    rng = np.random.default_rng(kernel * 10 + dilation)
    x = torch.from_numpy(rng.standard_normal((1, 1, 9, 1)))
    w = torch.from_numpy(rng.standard_normal((1, 1, kernel, 1)))
    same = F.conv2d(x, w, padding="same", dilation=(dilation, 1))
    total = dilation * (kernel - 1)
    splits = [
        (before, total - before)
        for before in range(total + 1)
        if torch.allclose(F.conv2d(F.pad(x, (0, 0, before, total - before)), w, dilation=(dilation, 1)), same)
    ]
    expect_equal(got, splits[0], what="the (before, after) padding")


@pytest.mark.points(1)
@pytest.mark.hint("out_ch * in_ch * KH * KW weights, plus out_ch biases when bias=True")
@given(st.integers(1, 16), st.integers(1, 16), int_or_pair(1, 5), st.booleans())
def test_conv_params_agrees_with_pytorch(student, in_ch, out_ch, kernel, bias):
    """conv_params equals the parameter count of torch.nn.Conv2d(in_ch, out_ch, kernel, bias=bias)"""
    layer = torch.nn.Conv2d(in_ch, out_ch, kernel, bias=bias)
    expected = sum(p.numel() for p in layer.parameters())
    expect_equal(student.conv_params(in_ch, out_ch, kernel, bias=bias), expected, what="the parameter count")


# -- output shapes -----------------------------------------------------------------
@pytest.mark.points(2)
@pytest.mark.hint(
    "Conv2d: padding int, pair, 'valid' or 'same', any dilation; pooling: stride None is the kernel, ceil_mode"
)
@given(feature_cases())
def test_output_shape_of_random_feature_stacks(student, case):
    """output_shape of random Conv2d / pooling / BatchNorm2d / activation stacks, nested Sequential blocks included"""
    check_output_shape(student, *case)


@pytest.mark.points(2)
@pytest.mark.hint("AdaptiveAvgPool2d(s) gives (C, s, s); Flatten gives (C * H * W,); Linear changes the last size")
@given(classifier_cases())
def test_output_shape_with_classifier_heads(student, case):
    """output_shape through AdaptiveAvgPool2d, Flatten and Linear heads, as in VGG and ResNet"""
    check_output_shape(student, *case)


@pytest.mark.points(2)
@pytest.mark.section("VGGNet (2014)")
@pytest.mark.hint("r = 1 + sum (d_i * (k_i - 1)) * (product of the strides before layer i)")
@given(feature_stack((1, 1, 1), square=True))
def test_receptive_field_of_random_stacks(student, reference, stack):
    """receptive_field of random stacks of square convolutions and poolings, with strides and dilations"""
    layers, _ = stack
    expected = impulse_receptive_field(layers)
    if reference.receptive_field(build(layers)) != expected:
        raise RuntimeError(f"the reference and the impulse oracle disagree on {describe(layers)}")
    got, ran = call_on_layers(student, "receptive_field", layers)
    if ran:
        raise Mismatch(f"receptive_field ran the layers ({', '.join(ran)}): compute it from their kernels and strides")
    expect_equal(got, expected, what="the receptive field")


# -- refusals --------------------------------------------------------------------------
@pytest.mark.points(1)
@pytest.mark.hint("refuse what PyTorch refuses: raise ValueError with a message")
def test_sizes_refuse_invalid_arguments(student):
    """a kernel larger than the padded input, negative padding, stride 0, pool padding over half the kernel"""
    expect_raises(ValueError, student.conv_output_size, 3, 5)
    expect_raises(ValueError, student.conv_output_size, 4, 3, dilation=2)
    expect_raises(ValueError, student.conv_output_size, 8, 3, padding=-1)
    expect_raises(ValueError, student.conv_output_size, 8, 3, stride=0)
    expect_raises(ValueError, student.pool_output_size, 8, 3, padding=2)
    expect_raises(ValueError, student.pool_output_size, 8, 2, stride=0)
    expect_raises(ValueError, student.pool_output_size, 2, 5, padding=1)


@pytest.mark.points(1)
@pytest.mark.hint("check that each layer fits its input: channels, in_features, the kernel against the feature map")
def test_output_shape_refuses_layers_that_do_not_fit(student):
    """output_shape raises ValueError for a channel mismatch, a kernel larger than the map, a Linear of the wrong size"""

    def output_shape(layers, input_shape):
        return call_on_layers(student, "output_shape", layers, input_shape)[0]

    conv = {"in_channels": 8, "out_channels": 16, "kernel_size": 3}
    expect_raises(ValueError, output_shape, [("Conv2d", conv), ("Conv2d", conv)], (8, 8, 8))
    expect_raises(ValueError, output_shape, [("Conv2d", conv), ("Conv2d", conv | {"in_channels": 16})], (8, 4, 4))
    expect_raises(
        ValueError,
        output_shape,
        [("Conv2d", conv), ("Flatten", {}), ("Linear", {"in_features": 100, "out_features": 10})],
        (8, 4, 4),
    )
