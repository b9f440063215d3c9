"""Correct, written only from exercises/pooling.py's docstrings and docs/course.md.

Windows are gathered tap by tap (u, v) into a stack and reduced at once.
"""

import numpy as np


def _two(value, name):
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2:
        raise ValueError(f"{name} must be an int or a pair, not {value!r}")
    return int(pair[0]), int(pair[1])


def _windows(x, kernel, stride, padding, fill):
    KH, KW = _two(kernel, "kernel")
    sh, sw = _two(kernel if stride is None else stride, "stride")
    ph, pw = _two(padding, "padding")
    if min(KH, KW) < 1 or min(sh, sw) < 1:
        raise ValueError("kernel and stride must be at least 1")
    if min(ph, pw) < 0:
        raise ValueError("negative padding")
    if ph > KH // 2 or pw > KW // 2:
        raise ValueError("padding must be at most half the kernel")
    N, C, H, W = x.shape
    if KH > H + 2 * ph or KW > W + 2 * pw:
        raise ValueError("the kernel is larger than the padded input")
    padded = np.full((N, C, H + 2 * ph, W + 2 * pw), fill, dtype=x.dtype)
    padded[:, :, ph:ph + H, pw:pw + W] = x
    Ho, Wo = (H + 2 * ph - KH) // sh + 1, (W + 2 * pw - KW) // sw + 1
    taps = [padded[:, :, u:u + sh * (Ho - 1) + 1:sh, v:v + sw * (Wo - 1) + 1:sw]
            for u in range(KH) for v in range(KW)]
    return np.stack(taps)          # (KH * KW, N, C, Ho, Wo)


def max_pool2d(x, kernel, stride=None, padding=0):
    return _windows(x, kernel, stride, padding, -np.inf).max(axis=0).astype(x.dtype)


def avg_pool2d(x, kernel, stride=None, padding=0):
    stack = _windows(x, kernel, stride, padding, 0)
    return (stack.sum(axis=0) / stack.shape[0]).astype(x.dtype)


def global_avg_pool(x):
    N, C, H, W = x.shape
    return (x.reshape(N, C, H * W).sum(axis=2) / (H * W)).astype(x.dtype)
