"""CORRECT: plain Python loops over every output element, as a first attempt often looks."""

import numpy as np


def zero_pad(x, padding):
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    if ph < 0 or pw < 0:
        raise ValueError("negative padding")
    N, C, H, W = x.shape
    out = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=x.dtype)
    out[:, :, ph:ph + H, pw:pw + W] = x
    return out


def conv2d_forward(x, weight, bias=None, stride=1, padding=0):
    N, C, H, W = x.shape
    F, C2, HH, WW = weight.shape
    if C2 != C:
        raise ValueError("channel mismatch")
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    if sh < 1 or sw < 1:
        raise ValueError("stride must be positive")
    if padding == "valid":
        top = bottom = left = right = 0
    elif padding == "same":
        if (sh, sw) != (1, 1):
            raise ValueError("'same' padding needs stride 1")
        top, left = (HH - 1) // 2, (WW - 1) // 2
        bottom, right = HH - 1 - top, WW - 1 - left
    elif isinstance(padding, str):
        raise ValueError(f"unknown padding {padding!r}")
    else:
        ph, pw = (padding, padding) if isinstance(padding, int) else padding
        if ph < 0 or pw < 0:
            raise ValueError("negative padding")
        top = bottom = ph
        left = right = pw
    Hp, Wp = H + top + bottom, W + left + right
    if HH > Hp or WW > Wp:
        raise ValueError("kernel larger than the padded input")
    xp = np.zeros((N, C, Hp, Wp), dtype=x.dtype)
    xp[:, :, top:top + H, left:left + W] = x
    H_out = (Hp - HH) // sh + 1
    W_out = (Wp - WW) // sw + 1
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    total = 0.0 if bias is None else bias[f]
                    for c in range(C):
                        for u in range(HH):
                            for v in range(WW):
                                total += xp[n, c, i * sh + u, j * sw + v] * weight[f, c, u, v]
                    out[n, f, i, j] = total
    return out
