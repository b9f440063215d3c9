"""BUG: output_shape and receptive_field run the layers (a zero tensor through them) instead of computing.

The shapes are right, but the exercise asks for them from the hyper-parameters alone.
"""

import torch
import torch.nn as nn


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    if kernel < 1 or stride < 1 or dilation < 1 or padding < 0 or dilation * (kernel - 1) + 1 > size + 2 * padding:
        raise ValueError("bad arguments")
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def pool_output_size(size, kernel, stride=None, padding=0, ceil_mode=False):
    stride = kernel if stride is None else stride
    if kernel < 1 or stride < 1 or padding < 0 or padding > kernel // 2:
        raise ValueError("bad arguments")
    try:
        return nn.MaxPool2d((kernel, 1), (stride, 1), (padding, 0), ceil_mode=ceil_mode)(torch.zeros(1, 1, size, 1)).shape[2]
    except RuntimeError as error:
        raise ValueError(str(error)) from None


def same_padding(kernel, dilation=1):
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def conv_params(in_ch, out_ch, kernel, bias=True):
    return sum(p.numel() for p in nn.Conv2d(in_ch, out_ch, kernel, bias=bias).parameters())


def output_shape(layers, input_shape):
    try:
        with torch.no_grad():
            return tuple(nn.Sequential(*layers).eval()(torch.zeros(1, *input_shape)).shape[1:])
    except RuntimeError as error:
        raise ValueError(str(error)) from None


def receptive_field(layers):
    r, jump = 1, 1
    for layer in layers:
        if isinstance(layer, nn.Sequential):
            inner = receptive_field(layer)
            r += (inner - 1) * jump
            for sub in layer:
                if hasattr(sub, "stride"):
                    jump *= sub.stride if isinstance(sub.stride, int) else sub.stride[0]
        elif isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k = layer.kernel_size if isinstance(layer.kernel_size, int) else layer.kernel_size[0]
            s = layer.stride if isinstance(layer.stride, int) else layer.stride[0]
            d = getattr(layer, "dilation", 1)
            d = d if isinstance(d, int) else d[0]
            r += d * (k - 1) * jump
            jump *= s
    return r
