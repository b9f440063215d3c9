"""EfficientNet-B0..B7 (Tan and Le, 2019) in PyTorch, built from the compound-scaling rules.

Tutorial: "EfficientNet (2019)".

The network is a stem, seven stages of MBConv blocks and a head:

    Conv 3x3 stride 2 (3 -> 32) -> BN -> SiLU
    stages of MBConv blocks, from B0_STAGES (expand, kernel, stride, in, out, repeats)
    Conv 1x1 (320 -> 1280) -> BN -> SiLU -> global average pool -> Dropout -> Linear(1280, 1000)

A bigger variant is the same table scaled with `scale_stages` (your scaling
exercise): channels by the width multiplier, rounded with `round_filters`,
repeats by the depth multiplier, rounded up with `round_repeats`. The stem
has round_filters(32, w) channels, the head conv round_filters(1280, w).

Use your scaling.py's `B0_STAGES`, `scale_stages` and `round_filters` (import
them, as the first lines below do): the grader builds the reference network
from the tables YOUR scaling.py produces and compares yours with it, so a
scaling mistake costs points once, in the scaling exercise, not again here.

The grader loads the reference's weights into your model BY POSITION: the i-th
entry of your state_dict() gets the i-th of the reference's. So create the
modules in the order they run (stem conv, its BN; each block's layers in
order; head conv, its BN; the classifier's Linear) and give the convolutions
no bias where BatchNorm follows; any names will do.

MBConv (mobile inverted bottleneck), for an input with C channels:

    1x1 conv C -> C * expand (skipped when expand is 1) -> BN -> SiLU
    depthwise k x k conv (groups = channels, stride s) -> BN -> SiLU
    squeeze-and-excitation: x * sigmoid(W2 SiLU(W1 GAP(x) + b1) + b2), squeezed to max(1, C // 4)
    1x1 conv -> C_out -> BN                 (no activation: a linear bottleneck)
    + the input, when s == 1 and C_out == C (identity skip)

SiLU(x) = x * sigmoid(x), also called swish.
"""

import torch
from torch import nn

from scaling import B0_STAGES, round_filters, scale_stages

# The published variants: width multiplier, depth multiplier, input resolution, dropout before the classifier.
VARIANTS = {
    "b0": (1.0, 1.0, 224, 0.2),
    "b1": (1.0, 1.1, 240, 0.2),
    "b2": (1.1, 1.2, 260, 0.3),
    "b3": (1.2, 1.4, 300, 0.3),
    "b4": (1.4, 1.8, 380, 0.4),
    "b5": (1.6, 2.2, 456, 0.4),
    "b6": (1.8, 2.6, 528, 0.5),
    "b7": (2.0, 3.1, 600, 0.5),
}


class MBConv(nn.Module):
    """The mobile inverted bottleneck block with squeeze-and-excitation.

    Every convolution is bias-free and followed by nn.BatchNorm2d (PyTorch's
    defaults); a k x k convolution pads (k - 1) // 2. The squeeze-and-excitation
    uses two 1x1 convolutions with biases (or Linear layers). Define the layers
    in the order they run: expansion, depthwise, squeeze-and-excitation,
    projection (the grader gives your block the reference's weights in that order).

    Inputs:
    - in_channels, out_channels: channels C of the input and C_out of the output
    - kernel: size k of the depthwise convolution (3 or 5)
    - stride: of the depthwise convolution (1 or 2)
    - expand_ratio: the expanded width is in_channels * expand_ratio

    Forward: x of shape (N, C, H, W) -> (N, C_out, H', W'), H' = (H - 1) // stride + 1
    """

    def __init__(self, in_channels, out_channels, kernel, stride, expand_ratio):
        super().__init__()
        # YOUR CODE HERE
        raise NotImplementedError

    def forward(self, x):
        # YOUR CODE HERE
        raise NotImplementedError


# Your helpers (conv + BN + SiLU, squeeze-and-excitation, the network class) go here.


def efficientnet(variant):
    """EfficientNet `variant` ("b0" ... "b7") for 1000 classes.

    Scale B0_STAGES with the variant's (width, depth) from VARIANTS (with
    scaling's scale_stages) and build, in this order:
    - stem: Conv2d(3, round_filters(32, width), 3, stride=2, padding=1, bias=False),
      BatchNorm2d, SiLU
    - for each stage, `repeats` MBConv blocks: the first with the stage's stride
      and in_channels, the others stride 1 and out_channels -> out_channels
    - head: Conv2d(last stage's out_channels, round_filters(1280, width), 1,
      bias=False), BatchNorm2d, SiLU
    - global average pool, flatten, Dropout(VARIANTS[variant][3]), Linear(head, 1000)
    Weights are loaded by position (see the module's docstring): keep this order.

    Returns:
    - an nn.Module mapping (N, 3, H, W) to scores (N, 1000); b0 has 5,288,548 parameters
    """
    # YOUR CODE HERE
    raise NotImplementedError
