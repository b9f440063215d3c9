"""Max, average and global average pooling, forward pass, in plain numpy.

Tutorial: "Pooling".

Layout is NCHW: x has shape (N, C, H, W), and every channel is pooled on its
own. As in PyTorch, a window of KH x KW moves by the stride (by default, the
kernel: windows side by side), the output size is H' = 1 + (H + 2 * ph - KH) // sh,
and the padding may be at most half the kernel.
"""

import numpy as np


def max_pool2d(x, kernel, stride=None, padding=0):
    """Max pooling: the strongest activation of each window.

    out[n, c, i, j] = max over u < KH, v < KW of x_pad[n, c, i*sh + u, j*sw + v]

    x_pad is x padded with -inf, as in PyTorch: the padding never wins, and a
    window that overlaps the border keeps the largest of its real values.

    Inputs:
    - x: float array of shape (N, C, H, W)
    - kernel: int k, or a pair (KH, KW)
    - stride: int s, a pair (sh, sw), or None for the kernel (non-overlapping windows)
    - padding: int p, or a pair (ph, pw), at most half the kernel (p <= k // 2)

    Returns:
    - out: shape (N, C, H', W') with H' = 1 + (H + 2 * ph - KH) // sh, same dtype as x

    Raises ValueError for a kernel or stride below 1, negative padding, padding
    over half the kernel, or a kernel larger than the padded input.
    """
    # YOUR CODE HERE
    raise NotImplementedError


def avg_pool2d(x, kernel, stride=None, padding=0):
    """Average pooling: the mean of each window.

    out[n, c, i, j] = 1 / (KH * KW) * sum over u < KH, v < KW of x_pad[n, c, i*sh + u, j*sw + v]

    x_pad is x padded with zeros, and the zeros count in the mean: every window
    is divided by KH * KW, as PyTorch's avg_pool2d does by default
    (count_include_pad=True).

    Inputs:
    - x: float array of shape (N, C, H, W)
    - kernel: int k, or a pair (KH, KW)
    - stride: int s, a pair (sh, sw), or None for the kernel (non-overlapping windows)
    - padding: int p, or a pair (ph, pw), at most half the kernel (p <= k // 2)

    Returns:
    - out: shape (N, C, H', W') with H' = 1 + (H + 2 * ph - KH) // sh, same dtype as x

    Raises ValueError for a kernel or stride below 1, negative padding, padding
    over half the kernel, or a kernel larger than the padded input.
    """
    # YOUR CODE HERE
    raise NotImplementedError


def global_avg_pool(x):
    """Global average pooling (GAP): each feature map becomes its mean.

    out[n, c] = 1 / (H * W) * sum over i, j of x[n, c, i, j]

    Inputs:
    - x: float array of shape (N, C, H, W)

    Returns:
    - out: shape (N, C), same dtype as x
    """
    # YOUR CODE HERE
    raise NotImplementedError


def _pool(x, kernel, stride, padding, fill, reduce):
    """The work both poolings share (a suggested helper): pad x with `fill` (-inf or 0),
    slide a KH x KW window by the stride, and `reduce` each window (np.max or np.mean)
    to one value. Returns shape (N, C, H', W'), same dtype as x.
    """
    # YOUR CODE HERE
    raise NotImplementedError


def _pair(value, name):
    """An int or a pair of ints, as a pair (provided)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair, got {value}")
        return int(value[0]), int(value[1])
    return int(value), int(value)
