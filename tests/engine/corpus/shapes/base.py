"""CORRECT (base of the buggy variants): isinstance dispatch, math.ceil in ceil mode, a flattened layer list for the receptive field.
"""

import math

import torch.nn as nn

SAME_SHAPE = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.SiLU, nn.GELU, nn.Dropout, nn.Identity)


def _two(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    if kernel < 1 or stride < 1 or dilation < 1 or padding < 0:
        raise ValueError("bad convolution arguments")
    effective = dilation * (kernel - 1) + 1
    if effective > size + 2 * padding:
        raise ValueError("kernel larger than the padded input")
    return (size + 2 * padding - effective) // stride + 1


def pool_output_size(size, kernel, stride=None, padding=0, ceil_mode=False):
    if stride is None:
        stride = kernel
    if kernel < 1 or stride < 1 or padding < 0 or 2 * padding > kernel:
        raise ValueError("bad pooling arguments")
    numerator = size + 2 * padding - kernel
    out = (math.ceil(numerator / stride) if ceil_mode else numerator // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    if out < 1:
        raise ValueError("kernel larger than the padded input")
    return out


def same_padding(kernel, dilation=1):
    if kernel < 1 or dilation < 1:
        raise ValueError("bad kernel or dilation")
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def conv_params(in_ch, out_ch, kernel, bias=True):
    kh, kw = _two(kernel)
    weights = in_ch * out_ch * kh * kw
    return weights + out_ch if bias else weights


def output_shape(layers, input_shape):
    shape = tuple(input_shape)
    for layer in layers:
        if isinstance(layer, nn.Sequential):
            shape = output_shape(list(layer), shape)
        elif isinstance(layer, nn.Conv2d):
            c, h, w = shape
            if c != layer.in_channels:
                raise ValueError(f"expected {layer.in_channels} channels, got {c}")
            if layer.padding == "same":
                pads = (None, None)
            elif layer.padding == "valid":
                pads = (0, 0)
            else:
                pads = layer.padding
            sizes = [n if p is None else conv_output_size(n, k, s, p, d)
                     for n, k, s, p, d in zip((h, w), layer.kernel_size, layer.stride, pads, layer.dilation)]
            shape = (layer.out_channels, *sizes)
        elif isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
            c, h, w = shape
            dil = _two(getattr(layer, "dilation", 1))
            sizes = [pool_output_size(n, d * (k - 1) + 1, s, p, layer.ceil_mode)
                     for n, k, s, p, d in zip((h, w), _two(layer.kernel_size), _two(layer.stride),
                                              _two(layer.padding), dil)]
            shape = (c, *sizes)
        elif isinstance(layer, nn.AdaptiveAvgPool2d):
            c, h, w = shape
            oh, ow = _two(layer.output_size)
            shape = (c, oh or h, ow or w)
        elif isinstance(layer, nn.Flatten):
            shape = (math.prod(shape),)
        elif isinstance(layer, nn.Linear):
            if shape[-1] != layer.in_features:
                raise ValueError(f"Linear expects {layer.in_features} features, got {shape[-1]}")
            shape = shape[:-1] + (layer.out_features,)
        elif isinstance(layer, nn.BatchNorm2d) or isinstance(layer, SAME_SHAPE):
            pass
        else:
            raise TypeError(f"unknown layer {layer}")
    return shape


def _flat(layers):
    out = []
    for layer in layers:
        out.extend(_flat(layer) if isinstance(layer, nn.Sequential) else [layer])
    return out


def receptive_field(layers):
    r, jump = 1, 1
    for layer in _flat(layers):
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k = _two(layer.kernel_size)[0]
            s = _two(layer.stride)[0]
            d = _two(getattr(layer, "dilation", 1))[0]
            r += d * (k - 1) * jump
            jump *= s
    return r
