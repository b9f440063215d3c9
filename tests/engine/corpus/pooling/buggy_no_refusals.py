"""BUG: never refuses: padding over half the kernel, stride 0 and oversized kernels are pooled anyway."""

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
    sh, sw = max(sh, 1), max(sw, 1)
    ph, pw = abs(ph), abs(pw)
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    H_out = max((H + 2 * ph - KH) // sh + 1, 1)
    W_out = max((W + 2 * pw - KW) // sw + 1, 1)
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
