"""CORRECT: the solution the variants in variants.toml patch (a line or two each).
"""

import numpy as np


def _pair(value):
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _pool(x, kernel, stride, padding, fill, reduce):
    N, C, H, W = x.shape
    KH, KW = _pair(kernel)
    sh, sw = (KH, KW) if stride is None else _pair(stride)
    ph, pw = _pair(padding)
    if min(KH, KW, sh, sw) < 1:
        raise ValueError(f"kernel and stride must be at least 1, got {kernel}, {stride}")
    if ph < 0 or pw < 0 or ph > KH // 2 or pw > KW // 2:
        raise ValueError(f"padding must be between 0 and half the kernel, got {padding}")
    if KH > H + 2 * ph or KW > W + 2 * pw:
        raise ValueError("kernel larger than the padded input")
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    H_out = (H + 2 * ph - KH) // sh + 1
    W_out = (W + 2 * pw - KW) // sw + 1
    out = np.empty((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = reduce(x_pad[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW], axis=(2, 3))
    return out


def max_pool2d(x, kernel, stride=None, padding=0):
    return _pool(x, kernel, stride, padding, -np.inf, np.max)


def avg_pool2d(x, kernel, stride=None, padding=0):
    return _pool(x, kernel, stride, padding, 0.0, np.mean)


def global_avg_pool(x):
    return x.mean(axis=(2, 3))
