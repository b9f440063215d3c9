"""CORRECT: the solution the variants in variants.toml patch (a line or two each).

Tutorial: "EfficientNet (2019)".

The network is a stem, seven stages of MBConv blocks and a head:

    Conv 3x3 stride 2 (3 -> 32) -> BN -> SiLU
    stages of MBConv blocks, from B0_STAGES (expand, kernel, stride, in, out, repeats)
    Conv 1x1 (320 -> 1280) -> BN -> SiLU -> global average pool -> Dropout -> Linear(1280, 1000)

A bigger variant is the same table scaled with `scale_stages` (your scaling
exercise): channels by the width multiplier, rounded with `round_filters`,
repeats by the depth multiplier, rounded up with `round_repeats`. The stem
has round_filters(32, w) channels, the head 4 times the last stage's.

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
        expanded = in_channels * expand_ratio
        layers = []
        if expand_ratio != 1:
            layers.append(conv_bn(in_channels, expanded, 1))
        layers.append(conv_bn(expanded, expanded, kernel, stride=stride, groups=expanded))
        layers.append(SqueezeExcitation(expanded, max(1, in_channels // 4)))
        layers.append(conv_bn(expanded, out_channels, 1, activation=False))
        self.block = nn.Sequential(*layers)
        self.use_skip = stride == 1 and in_channels == out_channels

    def forward(self, x):
        out = self.block(x)
        return out + x if self.use_skip else out


class SqueezeExcitation(nn.Module):
    """Reweight each channel by a gate in (0, 1) computed from the whole feature map."""

    def __init__(self, channels, squeeze_channels):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.act = nn.SiLU()
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x):
        scale = self.gate(self.fc2(self.act(self.fc1(self.pool(x)))))   # (N, C, 1, 1)
        return x * scale


def conv_bn(in_channels, out_channels, kernel, stride=1, groups=1, activation=True):
    """Conv (no bias) -> BatchNorm -> SiLU (unless activation is False)."""
    layers = [nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=(kernel - 1) // 2,
                        groups=groups, bias=False),
              nn.BatchNorm2d(out_channels)]
    if activation:
        layers.append(nn.SiLU())
    return nn.Sequential(*layers)


class EfficientNet(nn.Module):
    """features (stem, stages, head conv) -> global average pool -> Dropout -> Linear."""

    def __init__(self, features, head_channels, num_classes, dropout):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(head_channels, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def efficientnet(variant):
    """EfficientNet `variant` ("b0" ... "b7") for 1000 classes.

    Scale B0_STAGES with the variant's (width, depth) from VARIANTS and build:
    stem conv 3x3 stride 2 (3 -> round_filters(32, width)) + BN + SiLU; for each
    stage, `repeats` MBConv blocks (the first with the stage's stride and
    in_channels, the others stride 1 and out_channels -> out_channels); head conv
    1x1 to 4 x the last stage's channels + BN + SiLU; global average pool;
    Dropout(VARIANTS[variant][3]); Linear(head, 1000).

    Returns:
    - an nn.Module mapping (N, 3, H, W) to scores (N, 1000); b0 has 5,288,548 parameters
    """
    width, depth, _, dropout = VARIANTS[variant]
    stages = scale_stages(B0_STAGES, width, depth)
    stem = round_filters(32, width)
    layers = [conv_bn(3, stem, 3, stride=2)]
    for expand, kernel, stride, c_in, c_out, repeats in stages:
        blocks = [MBConv(c_in if i == 0 else c_out, c_out, kernel, stride if i == 0 else 1, expand)
                  for i in range(repeats)]
        layers.append(nn.Sequential(*blocks))
    head = 4 * stages[-1][4]
    layers.append(conv_bn(stages[-1][4], head, 1))
    return EfficientNet(nn.Sequential(*layers), head, 1000, dropout)
