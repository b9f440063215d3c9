"""CORRECT: the solution the variants in variants.toml patch (a line or two each).

Tutorial: "The Convolution Operation", "Output Size Formula", "Padding and Stride".

Layout is NCHW: x has shape (N, C, H, W), weight has shape (F, C, HH, WW).
Like PyTorch, this is cross-correlation: the kernel is not flipped.
"""

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
    ph, pw = _pair(padding, "padding")
    if ph < 0 or pw < 0:
        raise ValueError(f"padding must be non-negative, got {padding}")
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), mode="constant")
    

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
      pixel goes after, as in PyTorch)

    Returns:
    - out: shape (N, F, H', W') with H' = 1 + (H + pad_top + pad_bottom - HH) // sh,
      same dtype as x

    Raises ValueError for mismatched shapes, a stride below 1, negative padding,
    "same" with a stride above 1, or a kernel larger than the padded input.
    """
    N, C, H, W = x.shape
    F, C_w, HH, WW = weight.shape
    if C_w != C:
        raise ValueError(f"weight expects {C_w} input channels, x has {C}")
    if bias is not None and bias.shape != (F,):
        raise ValueError(f"bias must have shape ({F},), got {bias.shape}")
    sh, sw = _pair(stride, "stride")
    if sh < 1 or sw < 1:
        raise ValueError(f"stride must be at least 1, got {stride}")
    (top, bottom), (left, right) = _padding_amounts(padding, (HH, WW), (sh, sw))

    x_pad = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), mode="constant")
    H_pad, W_pad = x_pad.shape[2:]
    if HH > H_pad or WW > W_pad:
        raise ValueError(f"kernel {HH}x{WW} is larger than the padded input {H_pad}x{W_pad}")
    H_out = 1 + (H_pad - HH) // sh
    W_out = 1 + (W_pad - WW) // sw

    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, weight))
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * sh:i * sh + HH, j * sw:j * sw + WW]   # (N, C, HH, WW)
            out[:, :, i, j] = np.tensordot(window, weight, axes=([1, 2, 3], [1, 2, 3]))
    if bias is not None:
        out += bias.reshape(1, F, 1, 1)
    return out.astype(x.dtype, copy=False)
    

def _pair(value, name):
    """An int or a pair of ints, as a pair (provided)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair, got {value}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _padding_amounts(padding, kernel, stride):
    """((top, bottom), (left, right)) for an int, a pair, "valid" or "same"."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        if stride != (1, 1):
            raise ValueError("padding='same' needs stride 1")
        amounts = []
        for k in kernel:
            total = k - 1                      # keeps H' = H at stride 1
            amounts.append((total // 2, total - total // 2))   # odd pixel after
        return tuple(amounts)
    if isinstance(padding, str):
        raise ValueError(f"padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    ph, pw = _pair(padding, "padding")
    if ph < 0 or pw < 0:
        raise ValueError(f"padding must be non-negative, got {padding}")
    return (ph, ph), (pw, pw)
    