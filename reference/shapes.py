"""Output sizes, padding, parameter counts and receptive fields of CNN layers.

Tutorial: "Output Size Formula", "Padding and Stride", "Pooling", "VGGNet (2014)".

Everything here is computed from sizes and hyper-parameters: no layer is run.
Shapes leave out the batch axis: (C, H, W) for a feature map, (F,) after Flatten.
"""

import math

import torch.nn as nn

#: Layers whose output has the shape of their input (BatchNorm2d also checks its channels).
ELEMENTWISE = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.SiLU, nn.GELU,
               nn.Dropout, nn.Dropout2d, nn.Identity)


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    """Output size of a convolution along one axis.

    size' = floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1

    With dilation 1 this is the tutorial's floor((W - K + 2P) / S) + 1; a kernel
    dilated by D spans D * (K - 1) + 1 input pixels.

    Inputs:
    - size: input size along the axis (H or W)
    - kernel, stride, padding, dilation: ints, as in torch.nn.Conv2d

    Returns:
    - the output size, an int

    Raises ValueError for a kernel, stride or dilation below 1, negative padding,
    or a (dilated) kernel larger than the padded input.
    """
    ### BEGIN SOLUTION
    if min(kernel, stride, dilation) < 1 or padding < 0:
        raise ValueError(f"need kernel, stride, dilation >= 1 and padding >= 0, got "
                         f"kernel={kernel}, stride={stride}, padding={padding}, dilation={dilation}")
    span = dilation * (kernel - 1) + 1
    if span > size + 2 * padding:
        raise ValueError(f"the kernel spans {span} pixels, more than the padded input ({size + 2 * padding})")
    return (size + 2 * padding - span) // stride + 1
    ### END SOLUTION


def pool_output_size(size, kernel, stride=None, padding=0, ceil_mode=False):
    """Output size of max or average pooling along one axis, by PyTorch's rule.

    floor mode: size' = floor((size + 2 * padding - kernel) / stride) + 1
    ceil mode:  size' = ceil((size + 2 * padding - kernel) / stride) + 1, then one
                less if the last window would start in the right padding: PyTorch
                keeps a window only when it starts inside the input or the left
                padding (size 5, kernel 2, stride 2, padding 1 gives 3, not 4)

    Inputs:
    - size: input size along the axis
    - kernel: int
    - stride: int, or None for the kernel
    - padding: int, at most half the kernel (padding <= kernel // 2)
    - ceil_mode: round up instead of down, as torch.nn.MaxPool2d(ceil_mode=True)

    Returns:
    - the output size, an int

    Raises ValueError for a kernel or stride below 1, negative padding, padding
    over half the kernel, or an output size below 1.
    """
    ### BEGIN SOLUTION
    stride = kernel if stride is None else stride
    if kernel < 1 or stride < 1 or padding < 0:
        raise ValueError(f"need kernel, stride >= 1 and padding >= 0, got "
                         f"kernel={kernel}, stride={stride}, padding={padding}")
    if padding > kernel // 2:
        raise ValueError(f"padding {padding} is more than half the kernel {kernel}")
    free = size + 2 * padding - kernel        # room left for the window to move
    out = (-(-free // stride) if ceil_mode else free // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1                              # the last window would start in the right padding
    if out < 1:
        raise ValueError(f"kernel {kernel} does not fit the padded input ({size + 2 * padding})")
    return out
    ### END SOLUTION


def same_padding(kernel, dilation=1):
    """Padding that keeps the size at stride 1, as Conv2d(padding="same") adds it.

    total = dilation * (kernel - 1), before = total // 2, after = total - before:
    for an even kernel the odd pixel goes after (below, or to the right), as in PyTorch.

    Inputs:
    - kernel: int
    - dilation: int

    Returns:
    - (before, after), a pair of ints

    Raises ValueError for a kernel or dilation below 1.
    """
    ### BEGIN SOLUTION
    if kernel < 1 or dilation < 1:
        raise ValueError(f"need kernel, dilation >= 1, got kernel={kernel}, dilation={dilation}")
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2
    ### END SOLUTION


def conv_params(in_ch, out_ch, kernel, bias=True):
    """Number of learnable parameters of Conv2d(in_ch, out_ch, kernel, bias=bias).

    params = out_ch * in_ch * KH * KW (+ out_ch biases)

    Inputs:
    - in_ch, out_ch: channel counts
    - kernel: int k, or a pair (KH, KW)
    - bias: whether the layer has a bias per output channel

    Returns:
    - the parameter count, an int
    """
    ### BEGIN SOLUTION
    KH, KW = _pair(kernel)
    return out_ch * in_ch * KH * KW + (out_ch if bias else 0)
    ### END SOLUTION


def output_shape(layers, input_shape):
    """Shape of the output of a stack of layers, without running them.

    Inputs:
    - layers: a sequence of torch.nn layers, applied in order: Conv2d (any
      padding: int, pair, "valid", "same"; any stride and dilation), MaxPool2d,
      AvgPool2d (ceil_mode too), AdaptiveAvgPool2d, BatchNorm2d, Flatten, Linear,
      the activations ReLU, LeakyReLU, Tanh, Sigmoid, SiLU, GELU, Dropout, and
      nested nn.Sequential blocks
    - input_shape: the input's shape without the batch axis, (C, H, W)

    Returns:
    - the output's shape without the batch axis, a tuple of ints:
      (C', H', W') for a feature map, (F,) after Flatten and Linear

    Raises ValueError when the layers do not fit the input (wrong channel or
    feature count, a kernel larger than the padded feature map).
    """
    ### BEGIN SOLUTION
    shape = tuple(input_shape)
    for layer in layers:
        shape = _layer_output_shape(layer, shape)
    return shape
    ### END SOLUTION


def _layer_output_shape(layer, shape):
    """The output shape of one layer for an input of `shape` (no batch axis)."""
    ### BEGIN SOLUTION
    name = type(layer).__name__
    if isinstance(layer, nn.Sequential):
        return output_shape(layer, shape)
    if isinstance(layer, nn.Conv2d):
        return _conv_shape(layer, _feature_map(shape, name, layer.in_channels))
    if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
        return _pool_shape(layer, _feature_map(shape, name))
    if isinstance(layer, nn.AdaptiveAvgPool2d):
        C, H, W = _feature_map(shape, name)
        oh, ow = _pair(layer.output_size)
        return C, H if oh is None else oh, W if ow is None else ow    # None keeps that size
    if isinstance(layer, nn.Flatten):
        dims = len(shape) + 1                                       # start_dim counts the batch axis
        start, end = layer.start_dim % dims, layer.end_dim % dims
        if start == 0:
            raise ValueError("Flatten(start_dim=0) would merge the batch axis")
        return shape[:start - 1] + (math.prod(shape[start - 1:end]),) + shape[end:]
    if isinstance(layer, nn.Linear):
        if shape[-1] != layer.in_features:
            raise ValueError(f"Linear expects {layer.in_features} features, gets {shape[-1]} (shape {shape})")
        return shape[:-1] + (layer.out_features,)
    if isinstance(layer, nn.BatchNorm2d):
        return _feature_map(shape, name, layer.num_features)
    if isinstance(layer, ELEMENTWISE):
        return shape
    raise TypeError(f"output_shape does not know {name} layers")
    ### END SOLUTION


def _conv_shape(layer, shape):
    """Output (C', H', W') of a Conv2d for a (C, H, W) input, one axis at a time."""
    ### BEGIN SOLUTION
    C, H, W = shape
    if layer.padding == "same":
        return layer.out_channels, H, W
    padding = (0, 0) if layer.padding == "valid" else layer.padding
    return (layer.out_channels,) + tuple(
        conv_output_size(n, k, s, p, d)
        for n, k, s, p, d in zip((H, W), layer.kernel_size, layer.stride, padding, layer.dilation))
    ### END SOLUTION


def _pool_shape(layer, shape):
    """Output (C, H', W') of a MaxPool2d or AvgPool2d for a (C, H, W) input."""
    ### BEGIN SOLUTION
    C, H, W = shape
    dilation = _pair(getattr(layer, "dilation", 1))     # AvgPool2d has none; a dilated window spans d * (k - 1) + 1
    return (C,) + tuple(
        pool_output_size(n, d * (k - 1) + 1, s, p, layer.ceil_mode)
        for n, k, s, p, d in zip((H, W), _pair(layer.kernel_size), _pair(layer.stride), _pair(layer.padding),
                                 dilation))
    ### END SOLUTION


def _feature_map(shape, name, channels=None):
    """(C, H, W), checked: a 2D layer needs a feature map with the channels it expects."""
    ### BEGIN SOLUTION
    if len(shape) != 3:
        raise ValueError(f"{name} needs a (C, H, W) feature map, gets shape {shape}")
    if channels is not None and shape[0] != channels:
        raise ValueError(f"{name} expects {channels} channels, gets {shape[0]} (shape {shape})")
    return tuple(shape)
    ### END SOLUTION


def receptive_field(layers):
    """Receptive field of one output value of a stack of layers, in input pixels per side.

    r = 1 + sum_i (k_i - 1) * prod_{j<i} s_j

    Layer i has kernel k_i (dilated by d_i, it counts as d_i * (k_i - 1) + 1)
    and stride s_i; layers without a kernel (BatchNorm2d, activations, Dropout)
    leave r as it is. Two stacked 3x3 convolutions see 5x5, three see 7x7.

    Inputs:
    - layers: a sequence of torch.nn layers with square kernels, strides and
      dilations: Conv2d, MaxPool2d, AvgPool2d, BatchNorm2d, activations, Dropout,
      nested nn.Sequential blocks

    Returns:
    - r, an int: one output value depends on an r x r square of the input

    Raises ValueError for a non-square kernel, stride or dilation, and for
    layers after which one value depends on the whole input (AdaptiveAvgPool2d,
    Flatten, Linear).
    """
    ### BEGIN SOLUTION
    r, jump = 1, 1             # jump = prod_{j<i} s_j: input pixels between neighbouring outputs of layer i-1
    for layer in _unnested(layers):
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k = _square(layer.kernel_size, "kernel")
            s = _square(layer.stride, "stride")
            d = _square(getattr(layer, "dilation", 1), "dilation")
            r += d * (k - 1) * jump
            jump *= s
        elif isinstance(layer, (nn.AdaptiveAvgPool2d, nn.Flatten, nn.Linear)):
            raise ValueError(f"after {type(layer).__name__} one value depends on the whole input")
        elif not isinstance(layer, ELEMENTWISE + (nn.BatchNorm2d,)):
            raise TypeError(f"receptive_field does not know {type(layer).__name__} layers")
    return r
    ### END SOLUTION


def _unnested(layers):
    """The layers in order, with nested nn.Sequential blocks opened up."""
    ### BEGIN SOLUTION
    for layer in layers:
        if isinstance(layer, nn.Sequential):
            yield from _unnested(layer)
        else:
            yield layer
    ### END SOLUTION


def _square(value, name):
    """k for k or (k, k); a non-square pair is refused."""
    ### BEGIN SOLUTION
    a, b = _pair(value)
    if a != b:
        raise ValueError(f"receptive_field needs square layers, got {name} {value}")
    return a
    ### END SOLUTION


def _pair(value):
    """An int (or None) or a pair, as a pair (provided)."""
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return value, value
