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
    # YOUR CODE HERE
    raise NotImplementedError


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
    # YOUR CODE HERE
    raise NotImplementedError


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
    # YOUR CODE HERE
    raise NotImplementedError


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
    # YOUR CODE HERE
    raise NotImplementedError


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
    # YOUR CODE HERE
    raise NotImplementedError


def _layer_output_shape(layer, shape):
    """The output shape of one layer for an input of `shape` (no batch axis)."""
    # YOUR CODE HERE
    raise NotImplementedError


def _conv_shape(layer, shape):
    """Output (C', H', W') of a Conv2d for a (C, H, W) input, one axis at a time."""
    # YOUR CODE HERE
    raise NotImplementedError


def _pool_shape(layer, shape):
    """Output (C, H', W') of a MaxPool2d or AvgPool2d for a (C, H, W) input."""
    # YOUR CODE HERE
    raise NotImplementedError


def _feature_map(shape, name, channels=None):
    """(C, H, W), checked: a 2D layer needs a feature map with the channels it expects."""
    # YOUR CODE HERE
    raise NotImplementedError


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
    # YOUR CODE HERE
    raise NotImplementedError


def _unnested(layers):
    """The layers in order, with nested nn.Sequential blocks opened up."""
    # YOUR CODE HERE
    raise NotImplementedError


def _square(value, name):
    """k for k or (k, k); a non-square pair is refused."""
    # YOUR CODE HERE
    raise NotImplementedError


def _pair(value):
    """An int (or None) or a pair, as a pair (provided)."""
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return value, value
