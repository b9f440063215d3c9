"""Correct, written only from exercises/shapes.py's docstrings and docs/course.md.

Each layer kind has a small rule in a table; nested Sequential blocks are walked recursively.
"""

import math

import torch.nn as nn

ELEMENTWISE = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.SiLU, nn.GELU,
               nn.Dropout, nn.Dropout2d, nn.Identity)


def _both(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    if kernel < 1 or stride < 1 or dilation < 1:
        raise ValueError("kernel, stride and dilation must be at least 1")
    if padding < 0:
        raise ValueError("negative padding")
    span = dilation * (kernel - 1) + 1
    if span > size + 2 * padding:
        raise ValueError(f"a kernel spanning {span} does not fit {size} + 2 * {padding}")
    return (size + 2 * padding - span) // stride + 1


def pool_output_size(size, kernel, stride=None, padding=0, ceil_mode=False):
    stride = kernel if stride is None else stride
    return _pool_size(size, kernel, stride, padding, 1, ceil_mode)


def _pool_size(size, kernel, stride, padding, dilation, ceil_mode):
    if kernel < 1 or stride < 1:
        raise ValueError("kernel and stride must be at least 1")
    if padding < 0 or padding > kernel // 2:
        raise ValueError("padding must be between 0 and half the kernel")
    room = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-room // stride) if ceil_mode else room // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1          # the last window would start in the right padding
    if out < 1:
        raise ValueError(f"pooling {size} with kernel {kernel} leaves nothing")
    return out


def same_padding(kernel, dilation=1):
    if kernel < 1 or dilation < 1:
        raise ValueError("kernel and dilation must be at least 1")
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def conv_params(in_ch, out_ch, kernel, bias=True):
    kh, kw = _both(kernel)
    return out_ch * in_ch * kh * kw + (out_ch if bias else 0)


def _flat(layers):
    for layer in layers:
        if isinstance(layer, nn.Sequential):
            yield from _flat(layer)
        else:
            yield layer


def _map(shape, what, channels=None):
    if len(shape) != 3:
        raise ValueError(f"{what} needs a (C, H, W) feature map, got {shape}")
    if channels is not None and shape[0] != channels:
        raise ValueError(f"{what} expects {channels} channels, got {shape[0]}")
    return shape


def _conv(layer, shape):
    C, H, W = _map(shape, "Conv2d", layer.in_channels)
    if layer.padding == "same":
        sizes = (H, W)
    else:
        pads = (0, 0) if layer.padding == "valid" else _both(layer.padding)
        sizes = tuple(conv_output_size(n, k, s, p, d) for n, k, s, p, d in
                      zip((H, W), _both(layer.kernel_size), _both(layer.stride), pads, _both(layer.dilation)))
    return (layer.out_channels, *sizes)


def _pool(layer, shape):
    C, H, W = _map(shape, type(layer).__name__)
    kernel, pad = _both(layer.kernel_size), _both(layer.padding)
    stride = _both(layer.stride if layer.stride is not None else layer.kernel_size)
    dilation = _both(getattr(layer, "dilation", 1))
    return (C, *(_pool_size(n, k, s, p, d, layer.ceil_mode)
                 for n, k, s, p, d in zip((H, W), kernel, stride, pad, dilation)))


def _adaptive(layer, shape):
    C, H, W = _map(shape, "AdaptiveAvgPool2d")
    oh, ow = _both(layer.output_size)
    return (C, H if oh is None else oh, W if ow is None else ow)


def _linear(layer, shape):
    if shape[-1] != layer.in_features:
        raise ValueError(f"Linear expects {layer.in_features} features, got {shape[-1]}")
    return (*shape[:-1], layer.out_features)


RULES = [
    (nn.Conv2d, _conv),
    ((nn.MaxPool2d, nn.AvgPool2d), _pool),
    (nn.AdaptiveAvgPool2d, _adaptive),
    (nn.BatchNorm2d, lambda layer, shape: _map(shape, "BatchNorm2d", layer.num_features)),
    (nn.Flatten, lambda layer, shape: (math.prod(shape),)),
    (nn.Linear, _linear),
    (ELEMENTWISE, lambda layer, shape: shape),
]


def output_shape(layers, input_shape):
    shape = tuple(input_shape)
    for layer in _flat(layers):
        rule = next((rule for kinds, rule in RULES if isinstance(layer, kinds)), None)
        if rule is None:
            raise ValueError(f"no shape rule for {type(layer).__name__}")
        shape = tuple(int(n) for n in rule(layer, shape))
    return shape


def _one(value, what):
    a, b = _both(value)
    if a != b:
        raise ValueError(f"{what} {value} is not square")
    return a


def receptive_field(layers):
    r, jump = 1, 1
    for layer in _flat(layers):
        if isinstance(layer, (nn.AdaptiveAvgPool2d, nn.Flatten, nn.Linear)):
            raise ValueError(f"after {type(layer).__name__} one value depends on the whole input")
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k = _one(layer.kernel_size, "kernel")
            d = _one(getattr(layer, "dilation", 1), "dilation")
            s = _one(layer.stride if layer.stride is not None else layer.kernel_size, "stride")
            r += (d * (k - 1)) * jump
            jump *= s
    return r
