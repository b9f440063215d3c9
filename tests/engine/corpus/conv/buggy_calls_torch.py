"""FORBIDDEN: hands the work to torch.nn.functional.conv2d (right answers, but not the exercise)."""

import numpy as np
import torch
import torch.nn.functional as F


def zero_pad(x, padding):
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    if ph < 0 or pw < 0:
        raise ValueError("negative padding")
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def conv2d_forward(x, weight, bias=None, stride=1, padding=0):
    b = None if bias is None else torch.from_numpy(bias)
    try:
        return F.conv2d(torch.from_numpy(x), torch.from_numpy(weight), b, stride=stride, padding=padding).numpy()
    except RuntimeError as error:
        raise ValueError(str(error)) from None
