"""FORBIDDEN: hands the work to torch.nn.functional's pooling (right answers, but not the exercise)."""

import torch
import torch.nn.functional as F


def _check(kernel, padding):
    kernel = (kernel, kernel) if isinstance(kernel, int) else kernel
    padding = (padding, padding) if isinstance(padding, int) else padding
    if any(p < 0 or p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError("padding must be between 0 and half the kernel")


def max_pool2d(x, kernel, stride=None, padding=0):
    _check(kernel, padding)
    return F.max_pool2d(torch.from_numpy(x), kernel, stride, padding).numpy()


def avg_pool2d(x, kernel, stride=None, padding=0):
    _check(kernel, padding)
    return F.avg_pool2d(torch.from_numpy(x), kernel, stride, padding).numpy()


def global_avg_pool(x):
    return F.adaptive_avg_pool2d(torch.from_numpy(x), 1).numpy()[:, :, 0, 0]
