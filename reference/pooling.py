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
    ### BEGIN SOLUTION
    return _pool(x, kernel, stride, padding, fill=-np.inf, reduce=np.max)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    return _pool(x, kernel, stride, padding, fill=0, reduce=np.mean)
    ### END SOLUTION


def global_avg_pool(x):
    """Global average pooling (GAP): each feature map becomes its mean.

    out[n, c] = 1 / (H * W) * sum over i, j of x[n, c, i, j]

    Inputs:
    - x: float array of shape (N, C, H, W)

    Returns:
    - out: shape (N, C), same dtype as x
    """
    ### BEGIN SOLUTION
    return x.mean(axis=(2, 3))
    ### END SOLUTION


def _pool(x, kernel, stride, padding, fill, reduce):
    """The work both poolings share (a suggested helper): pad x with `fill` (-inf or 0),
    slide a KH x KW window by the stride, and `reduce` each window (np.max or np.mean)
    to one value. Returns shape (N, C, H', W'), same dtype as x.
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    KH, KW = _pair(kernel, "kernel")
    sh, sw = (KH, KW) if stride is None else _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    if min(KH, KW, sh, sw) < 1:
        raise ValueError(f"kernel and stride must be at least 1, got kernel={kernel}, stride={stride}")
    if ph < 0 or pw < 0:
        raise ValueError(f"padding must be non-negative, got {padding}")
    if ph > KH // 2 or pw > KW // 2:
        raise ValueError(f"padding {padding} is more than half the kernel {kernel}")
    if KH > H + 2 * ph or KW > W + 2 * pw:
        raise ValueError(f"kernel {KH}x{KW} is larger than the padded input {H + 2 * ph}x{W + 2 * pw}")

    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), mode="constant", constant_values=fill)
    H_out = 1 + (H + 2 * ph - KH) // sh
    W_out = 1 + (W + 2 * pw - KW) // sw
    out = np.empty((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW]   # (N, C, KH, KW)
            out[:, :, i, j] = reduce(window, axis=(2, 3))
    return out
    ### END SOLUTION


def _pair(value, name):
    """An int or a pair of ints, as a pair (provided)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair, got {value}")
        return int(value[0]), int(value[1])
    return int(value), int(value)
