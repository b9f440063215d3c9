"""CORRECT: plain Python loops over every n, c, i, j; padding handled by index checks instead of np.pad."""

import math

import numpy as np


def _as_pair(value):
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _geometry(x, kernel, stride, padding):
    kh, kw = _as_pair(kernel)
    sh, sw = (kh, kw) if stride is None else _as_pair(stride)
    ph, pw = _as_pair(padding)
    if kh < 1 or kw < 1 or sh < 1 or sw < 1:
        raise ValueError("kernel and stride must be positive")
    if ph < 0 or pw < 0 or 2 * ph > kh or 2 * pw > kw:
        raise ValueError("padding must be between 0 and half the kernel")
    H, W = x.shape[2:]
    if H + 2 * ph < kh or W + 2 * pw < kw:
        raise ValueError("kernel larger than the padded input")
    return kh, kw, sh, sw, ph, pw, (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1


def _window_values(x, n, c, top, left, kh, kw):
    """The real values of one window (top, left may be negative: padding)."""
    H, W = x.shape[2:]
    return [x[n, c, r, s] for r in range(top, top + kh) for s in range(left, left + kw) if 0 <= r < H and 0 <= s < W]


def max_pool2d(x, kernel, stride=None, padding=0):
    kh, kw, sh, sw, ph, pw, Ho, Wo = _geometry(x, kernel, stride, padding)
    out = np.zeros((x.shape[0], x.shape[1], Ho, Wo), dtype=x.dtype)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(Ho):
                for j in range(Wo):
                    out[n, c, i, j] = max(_window_values(x, n, c, i * sh - ph, j * sw - pw, kh, kw))
    return out


def avg_pool2d(x, kernel, stride=None, padding=0):
    kh, kw, sh, sw, ph, pw, Ho, Wo = _geometry(x, kernel, stride, padding)
    out = np.zeros((x.shape[0], x.shape[1], Ho, Wo), dtype=x.dtype)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(Ho):
                for j in range(Wo):
                    values = _window_values(x, n, c, i * sh - ph, j * sw - pw, kh, kw)
                    out[n, c, i, j] = math.fsum(values) / (kh * kw)   # padded zeros add nothing but count
    return out


def global_avg_pool(x):
    N, C, H, W = x.shape
    out = np.zeros((N, C), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            out[n, c] = x[n, c].sum() / (H * W)
    return out
