"""Known mistakes in 2D convolution, each imitated on the reference.

Gathered from the mistakes the classic assignments' tests and forum threads keep
meeting (CS231n conv_forward_naive, "why is my convolution flipped", "same padding
off by one"), and from our corpus (tests/engine/corpus/conv/). Each imitation takes the
reference module and the failing call's arguments and returns what the mistaken code
returns; the judge compares that with what the student's code returned.
"""

import numpy as np

from grader.suite import misconception

CONV = "The Convolution Operation"
PADDING = "Padding and Stride"


@misconception(
    "flipped_kernel",
    imitates="conv2d_forward",
    section=CONV,
    summary="a kernel flipped left-right and up-down",
    explanation="that is true convolution; PyTorch and this course compute cross-correlation, "
    "which slides the kernel as it is",
)
def flipped_kernel(reference, x, weight, bias=None, stride=1, padding=0):
    return reference.conv2d_forward(x, np.ascontiguousarray(weight[:, :, ::-1, ::-1]), bias, stride, padding)


@misconception(
    "bias_dropped",
    imitates="conv2d_forward",
    section=CONV,
    summary="the convolution without its bias",
    explanation="every output channel f adds its bias b[f] at every position",
)
def bias_dropped(reference, x, weight, bias=None, stride=1, padding=0):
    return reference.conv2d_forward(x, weight, None, stride, padding)


@misconception(
    "one_input_channel",
    imitates="conv2d_forward",
    section=CONV,
    summary="a sum over the first input channel only",
    explanation="each filter spans all input channels: sum over c as well as over the window",
)
def one_input_channel(reference, x, weight, bias=None, stride=1, padding=0):
    return reference.conv2d_forward(x[:, :1], np.ascontiguousarray(weight[:, :1]), bias, stride, padding)


@misconception(
    "stride_pair_first_only",
    imitates="conv2d_forward",
    section=PADDING,
    summary="a stride pair (sh, sw) read as sh for both axes",
    explanation="stride=(sh, sw) moves sh rows down and sw columns right",
)
def stride_pair_first_only(reference, x, weight, bias=None, stride=1, padding=0):
    if isinstance(stride, int) or stride[0] == stride[1]:
        raise ValueError("not distinguishable from the right answer")
    return reference.conv2d_forward(x, weight, bias, (stride[0], stride[0]), padding)


@misconception(
    "padding_one_side",
    imitates="conv2d_forward",
    section=PADDING,
    summary="all the padding put before the input (top and left), none after",
    explanation="padding p adds p rows above and p below, p columns left and p right",
)
def padding_one_side(reference, x, weight, bias=None, stride=1, padding=0):
    if isinstance(padding, str):
        raise ValueError("only int and pair padding")
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    if ph == pw == 0:
        raise ValueError("no padding, no mistake")
    shifted = np.pad(x, ((0, 0), (0, 0), (2 * ph, 0), (2 * pw, 0)))
    return reference.conv2d_forward(shifted, weight, bias, stride, 0)


@misconception(
    "same_odd_pixel_before",
    imitates="conv2d_forward",
    section=PADDING,
    summary="'same' padding with the odd pixel before the input",
    explanation="for an even kernel 'same' pads K - 1 in total; PyTorch puts the extra pixel after (bottom and right)",
)
def same_odd_pixel_before(reference, x, weight, bias=None, stride=1, padding=0):
    if padding != "same" or (weight.shape[2] % 2 and weight.shape[3] % 2):
        raise ValueError("only 'same' with an even kernel side")
    HH, WW = weight.shape[2:]
    before = ((HH - 1) - (HH - 1) // 2, (WW - 1) - (WW - 1) // 2)
    after = ((HH - 1) // 2, (WW - 1) // 2)
    padded = np.pad(x, ((0, 0), (0, 0), (before[0], after[0]), (before[1], after[1])))
    return reference.conv2d_forward(padded, weight, bias, 1, 0)


@misconception(
    "float64_output",
    imitates="conv2d_forward",
    section=CONV,
    summary="the right values in float64 for a float32 input",
    explanation="np.zeros defaults to float64: allocate the output with x.dtype",
)
def float64_output(reference, x, weight, bias=None, stride=1, padding=0):
    if x.dtype == np.float64:
        raise ValueError("not distinguishable")
    return reference.conv2d_forward(x, weight, bias, stride, padding).astype(np.float64)


@misconception(
    "accepts_same_with_stride",
    imitates="conv2d_forward",
    section=PADDING,
    summary="'same' padding applied at a stride above 1",
    explanation="'same' only keeps the size at stride 1; PyTorch refuses it otherwise: raise ValueError",
)
def accepts_same_with_stride(reference, x, weight, bias=None, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    if padding != "same" or (sh, sw) == (1, 1):
        raise ValueError("only 'same' with a stride above 1")
    HH, WW = weight.shape[2:]
    pads = ((HH - 1) // 2, HH - 1 - (HH - 1) // 2), ((WW - 1) // 2, WW - 1 - (WW - 1) // 2)
    padded = np.pad(x, ((0, 0), (0, 0), *pads))
    return reference.conv2d_forward(padded, weight, bias, stride, 0)
