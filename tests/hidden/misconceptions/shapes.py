"""Known mistakes in output sizes, padding, parameter counts and receptive fields.

Where they come from: CS231n's "Output size = (W - F + 2P) / S + 1" exercises (true
division, rounding up, P counted once), PyTorch forum threads ("Conv2d output size with
dilation", "MaxPool2d ceil_mode gives one more than I computed", "padding='same' with an
even kernel is asymmetric", "why does Flatten give (N, C*H*W)"), Stack Exchange answers on
receptive fields that forget the jump (the product of the earlier strides) or multiply by a
layer's own stride, parameter counts that forget the bias or the input channels, and our
corpus (tests/engine/corpus/shapes/).

The size, padding and parameter functions are called directly, so their entries imitate the
failing call on the reference. `output_shape` and `receptive_field` take real layers, which
only exist in the student's process: their entries are detectors that ask the student's
function about a few small stacks and compare with what the mistaken rule gives there.
Where two catalogued mistakes give the same answer to a call, neither is named.
"""

import math

from grader.suite import build, misconception, same_result

FORMULA = "Output Size Formula"
PADDING = "Padding and Stride"
POOLING = "Pooling"
CONV = "The Convolution Operation"
RECEPTIVE = "VGGNet (2014)"


# -- conv_output_size and pool_output_size: imitations -------------------------------------------
def _only(name, mistakes):
    """What mistake `name` gives, unless another mistake gives the same answer here (then none is named)."""
    mine = mistakes[name]
    if mine is None:
        raise ValueError(f"{name} does not apply to these arguments")
    if any(other is not None and same_result(mine, other) for key, other in mistakes.items() if key != name):
        raise ValueError("two mistakes give this answer")
    return mine


def _conv_mistakes(reference, size, kernel, stride=1, padding=0, dilation=1):
    """Every catalogued mistake's answer for this conv_output_size call (None where it does not apply)."""
    reference.conv_output_size(size, kernel, stride, padding, dilation)  # raises where the call is invalid
    free = size + 2 * padding - dilation * (kernel - 1) - 1
    return {
        "conv_ignores_dilation": (size + 2 * padding - kernel) // stride + 1 if dilation != 1 else None,
        "conv_size_true_division": free / stride + 1,
        "conv_size_rounded_up": math.ceil(free / stride) + 1,
        "padding_counted_once": (free - padding) // stride + 1 if padding else None,
    }


@misconception(
    "conv_ignores_dilation",
    imitates="conv_output_size",
    section=FORMULA,
    summary="the output size of an undilated kernel",
    explanation="a kernel dilated by D spans D * (K - 1) + 1 input pixels: "
    "floor((size + 2P - D * (K - 1) - 1) / S) + 1",
)
def conv_ignores_dilation(reference, *args, **kwargs):
    return _only("conv_ignores_dilation", _conv_mistakes(reference, *args, **kwargs))


@misconception(
    "conv_size_true_division",
    imitates="conv_output_size",
    section=FORMULA,
    summary="(size + 2P - K) / S + 1 with true division, a float",
    explanation="a size is a whole number of window positions: floor division, "
    "(size + 2P - K) // S + 1, which drops a window that does not fit",
)
def conv_size_true_division(reference, *args, **kwargs):
    return _only("conv_size_true_division", _conv_mistakes(reference, *args, **kwargs))


@misconception(
    "conv_size_rounded_up",
    imitates="conv_output_size",
    section=FORMULA,
    summary="(size + 2P - K) / S rounded up, plus 1",
    explanation="the formula floors: a last window that would hang over the padded input "
    "is not computed, so size 6 with K=3, S=2 gives 2, not 3",
)
def conv_size_rounded_up(reference, *args, **kwargs):
    return _only("conv_size_rounded_up", _conv_mistakes(reference, *args, **kwargs))


@misconception(
    "padding_counted_once",
    imitates="conv_output_size",
    section=FORMULA,
    summary="(size + P - K) // S + 1, the padding counted on one side only",
    explanation="padding P adds P pixels on each side, 2P in all: (size + 2P - K) // S + 1",
)
def padding_counted_once(reference, *args, **kwargs):
    return _only("padding_counted_once", _conv_mistakes(reference, *args, **kwargs))


def _pool_mistakes(reference, size, kernel, stride=None, padding=0, ceil_mode=False):
    """Every catalogued mistake's answer for this pool_output_size call (None where it does not apply)."""
    reference.pool_output_size(size, kernel, stride, padding, ceil_mode)
    step = kernel if stride is None else stride
    return {
        "pool_ceil_mode_ignored": reference.pool_output_size(size, kernel, stride, padding) if ceil_mode else None,
        "pool_ceil_keeps_last_window": -(-(size + 2 * padding - kernel) // step) + 1 if ceil_mode else None,
        "pool_default_stride_one": reference.pool_output_size(size, kernel, 1, padding, ceil_mode)
        if stride is None
        else None,
    }


@misconception(
    "pool_ceil_mode_ignored",
    imitates="pool_output_size",
    section=POOLING,
    summary="the floor-mode size where ceil_mode=True",
    explanation="ceil_mode=True rounds (size + 2P - K) / S up: a last, partial window "
    "is kept, as torch.nn.MaxPool2d(ceil_mode=True) does",
)
def pool_ceil_mode_ignored(reference, *args, **kwargs):
    return _only("pool_ceil_mode_ignored", _pool_mistakes(reference, *args, **kwargs))


@misconception(
    "pool_ceil_keeps_last_window",
    imitates="pool_output_size",
    section=POOLING,
    summary="ceil((size + 2P - K) / S) + 1 without PyTorch's last-window rule",
    explanation="in ceil mode PyTorch drops a last window that would start in the right padding "
    "(size 5, K=2, S=2, P=1 gives 3, not 4)",
)
def pool_ceil_keeps_last_window(reference, *args, **kwargs):
    return _only("pool_ceil_keeps_last_window", _pool_mistakes(reference, *args, **kwargs))


@misconception(
    "pool_default_stride_one",
    imitates="pool_output_size",
    section=POOLING,
    summary="the size at stride 1 where no stride is given",
    explanation="a pooling layer's stride defaults to its kernel (stride=None): windows side by "
    "side, so MaxPool2d(2) halves the size",
)
def pool_default_stride_one(reference, *args, **kwargs):
    return _only("pool_default_stride_one", _pool_mistakes(reference, *args, **kwargs))


# -- same_padding and conv_params ---------------------------------------------------------------
@misconception(
    "same_odd_pixel_before",
    imitates="same_padding",
    section=PADDING,
    summary="the odd pixel of 'same' padding put before (top, left)",
    explanation="PyTorch's padding='same' puts total // 2 before and the rest after: "
    "(before, after) = (total // 2, total - total // 2)",
)
def same_odd_pixel_before(reference, kernel, dilation=1):
    before, after = reference.same_padding(kernel, dilation)
    return after, before


def _params_mistakes(reference, in_ch, out_ch, kernel, bias=True):
    """Every catalogued mistake's answer for this conv_params call (None where it does not apply)."""
    return {
        "conv_params_without_bias": reference.conv_params(in_ch, out_ch, kernel, False) if bias else None,
        "conv_params_without_input_channels": reference.conv_params(1, out_ch, kernel, bias) if in_ch != 1 else None,
    }


@misconception(
    "conv_params_without_bias",
    imitates="conv_params",
    section=CONV,
    summary="the weights alone, without the biases",
    explanation="with bias=True every output channel has one bias too: add out_ch",
)
def conv_params_without_bias(reference, *args, **kwargs):
    return _only("conv_params_without_bias", _params_mistakes(reference, *args, **kwargs))


@misconception(
    "conv_params_without_input_channels",
    imitates="conv_params",
    section=CONV,
    summary="out_ch * KH * KW weights, as if each filter saw one input channel",
    explanation="each filter spans all input channels: out_ch * in_ch * KH * KW weights (plus out_ch biases)",
)
def conv_params_without_input_channels(reference, *args, **kwargs):
    return _only("conv_params_without_input_channels", _params_mistakes(reference, *args, **kwargs))


# -- receptive_field: detectors on small stacks of square layers ---------------------------------
def _conv(kernel, **options):
    return ("Conv2d", {"in_channels": 1, "out_channels": 1, "kernel_size": kernel, **options})


def _mistaken_rf(layers, *, strides=True, own_stride=False, dilation=True):
    """r = 1 + sum (d_i * (k_i - 1)) * jump_i, with the mistake switched on."""
    r, jump = 1, 1
    for name, options in layers:
        k = options["kernel_size"]
        s = options.get("stride") or (1 if name == "Conv2d" else k)
        d = options.get("dilation", 1) if dilation else 1
        if own_stride:
            jump *= s
        r += d * (k - 1) * (jump if strides else 1)
        if not own_stride:
            jump *= s
    return r


def _rf_shows(student, reference, stacks, **mistake):
    for layers in stacks:
        wrong, right = _mistaken_rf(layers, **mistake), reference.receptive_field(build(layers))
        got = student.probe("layers.receptive_field", layers)["value"]
        if wrong == right or not same_result(got, wrong):
            return False
    return True


STRIDED = [[_conv(3, stride=2), _conv(3)], [_conv(3, stride=2), ("MaxPool2d", {"kernel_size": 2}), _conv(3)]]
DILATED = [[_conv(3, dilation=2), _conv(3)], [_conv(3, dilation=3, stride=2), _conv(3)]]


@misconception(
    "rf_ignores_strides",
    explains="receptive_field",
    section=RECEPTIVE,
    summary="adds k - 1 per layer to the receptive field, as if every stride were 1",
    explanation="after a stride-2 layer, neighbouring values are 2 input pixels apart: layer i "
    "adds (k_i - 1) times the product of the strides before it",
)
def rf_ignores_strides(student, reference):
    return _rf_shows(student, reference, STRIDED, strides=False)


@misconception(
    "rf_counts_own_stride",
    explains="receptive_field",
    section=RECEPTIVE,
    summary="multiplies a layer's k - 1 by its own stride too",
    explanation="the jump of layer i is the product of the strides BEFORE it (j < i): "
    "a layer's own stride only spreads the layers after it",
)
def rf_counts_own_stride(student, reference):
    return _rf_shows(student, reference, STRIDED, own_stride=True)


@misconception(
    "rf_ignores_dilation",
    explains="receptive_field",
    section=RECEPTIVE,
    summary="counts a dilated kernel as K pixels wide in the receptive field",
    explanation="a kernel dilated by d spans d * (k - 1) + 1 pixels, so it adds d * (k - 1) times the jump",
)
def rf_ignores_dilation(student, reference):
    return _rf_shows(student, reference, DILATED, dilation=False)


# -- output_shape: detectors on small stacks ------------------------------------------------------
def _shape_shows(student, reference, cases):
    """Whether output_shape gives the mistaken shape on every (layers, input_shape, mistaken) case."""
    for layers, input_shape, wrong in cases:
        right = reference.output_shape(build(layers), input_shape)
        got = student.probe("layers.output_shape", layers, input_shape)["value"]
        if wrong == right or not same_result(got, wrong):
            return False
    return True


def _conv_c(c_in, c_out, kernel, **options):
    return ("Conv2d", {"in_channels": c_in, "out_channels": c_out, "kernel_size": kernel, **options})


@misconception(
    "adaptive_pool_keeps_size",
    explains="output_shape",
    section=POOLING,
    summary="passes AdaptiveAvgPool2d through output_shape without changing the size",
    explanation="AdaptiveAvgPool2d(s) outputs (C, s, s) whatever the input size "
    "(output_size=(sh, sw) gives (C, sh, sw)): that is what makes the head fit any input",
)
def adaptive_pool_keeps_size(student, reference):
    return _shape_shows(
        student,
        reference,
        [
            ([_conv_c(3, 4, 3), ("AdaptiveAvgPool2d", {"output_size": 2})], (3, 10, 10), (4, 8, 8)),
            ([("AdaptiveAvgPool2d", {"output_size": (1, 3)})], (2, 6, 7), (2, 6, 7)),
        ],
    )


@misconception(
    "flatten_keeps_channels",
    explains="output_shape",
    section=FORMULA,
    summary="flattens (C, H, W) to (C, H * W) in output_shape",
    explanation="Flatten() starts at dim 1 (after the batch axis) and merges everything: "
    "(C, H, W) becomes (C * H * W,), the in_features of the next Linear",
)
def flatten_keeps_channels(student, reference):
    return _shape_shows(
        student,
        reference,
        [
            ([("Flatten", {})], (2, 3, 4), (2, 12)),
            ([("MaxPool2d", {"kernel_size": 2}), ("Flatten", {})], (3, 6, 8), (3, 12)),
        ],
    )


@misconception(
    "nested_sequential_skipped",
    explains="output_shape",
    section=FORMULA,
    summary="passes a nested nn.Sequential through output_shape unchanged",
    explanation="a Sequential block is layers too: compute its output shape (call output_shape "
    "on the block) before the next layer",
)
def nested_sequential_skipped(student, reference):
    return _shape_shows(
        student,
        reference,
        [
            ([("Sequential", [_conv_c(3, 4, 3)]), ("ReLU", {})], (3, 8, 8), (3, 8, 8)),
            ([_conv_c(3, 4, 3), ("Sequential", [("MaxPool2d", {"kernel_size": 2})])], (3, 10, 10), (4, 8, 8)),
        ],
    )


@misconception(
    "same_padding_read_as_zero",
    explains="output_shape",
    section=PADDING,
    summary="treats Conv2d(padding='same') like padding 0 in output_shape",
    explanation="padding='same' keeps H and W at stride 1: the output is (out_channels, H, W)",
)
def same_padding_read_as_zero(student, reference):
    return _shape_shows(
        student,
        reference,
        [
            ([_conv_c(2, 3, 3, padding="same")], (2, 8, 8), (3, 6, 6)),
            ([_conv_c(2, 3, 5, padding="same")], (2, 7, 9), (3, 3, 5)),
        ],
    )
