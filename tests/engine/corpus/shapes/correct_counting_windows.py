"""CORRECT: sizes by counting window positions in a loop, layers dispatched by class name, and the
receptive field grown backwards from one output pixel (r = s * r + (k_eff - s))."""

import math


def _side(value, axis):
    return value[axis] if isinstance(value, (tuple, list)) else value


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    if min(kernel, stride, dilation) <= 0 or padding < 0:
        raise ValueError(f"invalid conv arguments {(kernel, stride, padding, dilation)}")
    span = dilation * (kernel - 1) + 1
    count, start = 0, 0
    while start + span <= size + 2 * padding:     # windows that fit the padded input
        count += 1
        start += stride
    if count == 0:
        raise ValueError("the kernel does not fit")
    return count


def pool_output_size(size, kernel, stride=None, padding=0, ceil_mode=False):
    stride = kernel if stride is None else stride
    if kernel <= 0 or stride <= 0 or not 0 <= padding <= kernel // 2:
        raise ValueError(f"invalid pool arguments {(kernel, stride, padding)}")
    padded = size + 2 * padding
    count, start = 0, 0
    while True:
        if ceil_mode:   # one more (partial) window while the previous one left pixels uncovered,
            more = start - stride + kernel < padded and start < size + padding   # if it starts before the right padding
        else:
            more = start + kernel <= padded
        if not more:
            break
        count += 1
        start += stride
    if count == 0:
        raise ValueError("the kernel does not fit")
    return count


def same_padding(kernel, dilation=1):
    if kernel <= 0 or dilation <= 0:
        raise ValueError("kernel and dilation must be positive")
    before = dilation * (kernel - 1) // 2
    return before, dilation * (kernel - 1) - before


def conv_params(in_ch, out_ch, kernel, bias=True):
    return out_ch * in_ch * _side(kernel, 0) * _side(kernel, 1) + out_ch * bool(bias)


def _conv(layer, shape):
    c, *sizes = shape
    if c != layer.in_channels:
        raise ValueError("channel mismatch")
    if layer.padding == "same":
        return (layer.out_channels, *sizes)
    pad = (0, 0) if layer.padding == "valid" else layer.padding
    return (layer.out_channels, *(conv_output_size(sizes[a], layer.kernel_size[a], layer.stride[a], pad[a],
                                                   layer.dilation[a]) for a in (0, 1)))


def _pool(layer, shape):
    c, *sizes = shape
    dilation = getattr(layer, "dilation", 1)
    return (c, *(pool_output_size(sizes[a], _side(dilation, a) * (_side(layer.kernel_size, a) - 1) + 1,
                                  _side(layer.stride, a), _side(layer.padding, a), layer.ceil_mode) for a in (0, 1)))


def _adaptive(layer, shape):
    return (shape[0], *(shape[1 + a] if _side(layer.output_size, a) is None else _side(layer.output_size, a)
                        for a in (0, 1)))


def _linear(layer, shape):
    if shape[-1] != layer.in_features:
        raise ValueError("feature mismatch")
    return (*shape[:-1], layer.out_features)


RULES = {
    "Conv2d": _conv, "MaxPool2d": _pool, "AvgPool2d": _pool, "AdaptiveAvgPool2d": _adaptive,
    "Flatten": lambda layer, shape: (math.prod(shape),), "Linear": _linear,
    "Sequential": lambda layer, shape: output_shape(layer, shape),
}
KEEP = {"BatchNorm2d", "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "SiLU", "GELU", "Dropout", "Identity"}


def output_shape(layers, input_shape):
    shape = tuple(input_shape)
    for layer in layers:
        name = type(layer).__name__
        if name in RULES:
            shape = RULES[name](layer, shape)
        elif name not in KEEP:
            raise TypeError(name)
    return shape


def _leaves(layers):
    for layer in layers:
        if type(layer).__name__ == "Sequential":
            yield from _leaves(layer)
        else:
            yield layer


def receptive_field(layers):
    r = 1
    for layer in reversed(list(_leaves(layers))):
        if type(layer).__name__ in ("Conv2d", "MaxPool2d", "AvgPool2d"):
            k, s = _side(layer.kernel_size, 0), _side(layer.stride, 0)
            k = _side(getattr(layer, "dilation", 1), 0) * (k - 1) + 1
            r = s * (r - 1) + k          # r outputs apart by s, each seeing k pixels
    return r
