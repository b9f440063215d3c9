"""2D convolution, forward pass, in plain numpy.

Tutorial: "The Convolution Operation", "Output Size Formula", "Padding and Stride".

Layout is NCHW: x has shape (N, C, H, W), weight has shape (F, C, HH, WW).
Like PyTorch, this is cross-correlation: the kernel is not flipped.
"""

import numbers

import numpy as np


def zero_pad(x, padding):
    """Pad the two spatial axes of x with zeros.

    Inputs:
    - x: array of shape (N, C, H, W)
    - padding: int p, or a pair (ph, pw): rows added above and below, columns left and right

    Returns:
    - array of shape (N, C, H + 2 * ph, W + 2 * pw), same dtype as x

    Raises ValueError for negative padding.
    """
    # YOUR CODE HERE
    raise NotImplementedError


def conv2d_forward(x, weight, bias=None, stride=1, padding=0):
    """Forward pass of a 2D convolution layer.

    y[n, f, i, j] = b[f] + sum_c sum_u sum_v x_pad[n, c, i*sh + u, j*sw + v] * w[f, c, u, v]

    Inputs:
    - x: input of shape (N, C, H, W)
    - weight: filters of shape (F, C, HH, WW)
    - bias: shape (F,), or None for no bias
    - stride: int s, or a pair (sh, sw)
    - padding: int p, a pair (ph, pw), "valid" (no padding) or "same"
      (output as large as the input; stride 1 only; for an even kernel the odd
      pixel goes after, as in PyTorch). No other string is accepted: "12" is
      not the number 12, it is refused

    Returns:
    - out: shape (N, F, H', W') with H' = 1 + (H + pad_top + pad_bottom - HH) // sh,
      same dtype as x

    Raises ValueError for mismatched shapes (weight's C against x's C, a bias
    that is not of shape (F,)), a stride below 1, negative padding, a padding
    string other than "valid" and "same" (such as "12"), "same" with a stride
    above 1, or a kernel larger than the padded input.
    """
    # YOUR CODE HERE
    raise NotImplementedError


def _pair(value, name):
    """An int or a pair of ints, as a pair (provided).

    Anything else is refused with ValueError: a string such as "12" is not
    turned into 12, and a float such as 1.5 is not cut down to 1.
    """
    items = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in items):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return int(items[0]), int(items[1])


def _padding_amounts(padding, kernel, stride):
    """((top, bottom), (left, right)) for an int, a pair, "valid" or "same"."""
    # YOUR CODE HERE
    raise NotImplementedError
