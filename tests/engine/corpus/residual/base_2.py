"""CORRECT: a second base, for the variants in variants.toml written against an earlier reference.
"""

from collections import OrderedDict

import torch
from torch import nn


class ResidualBlock(nn.Module):
    """The tutorial's basic residual block.

    Layers (use these attribute names):
    - conv1: Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False), bn1: BatchNorm2d
    - conv2: Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False), bn2: BatchNorm2d
    - shortcut: identity (an empty nn.Sequential) when stride == 1 and in_channels == out_channels;
      otherwise a projection, nn.Sequential(Conv2d(in_channels, out_channels, 1, stride=stride,
      bias=False), BatchNorm2d(out_channels)), so that it matches F(x)'s shape

    forward: out = relu(bn1(conv1(x))); out = bn2(conv2(out)); out = out + shortcut(x); relu(out).

    Inputs:
    - x: tensor of shape (N, in_channels, H, W)

    Returns:
    - tensor of shape (N, out_channels, H', W'), H' = (H - 1) // stride + 1
    """

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + self.shortcut(x)   # the skip connection: F(x) + x
        return torch.relu(out)


class PlainBlock(nn.Module):
    """ResidualBlock without the skip connection: conv1, bn1, conv2, bn2 as there, no shortcut.

    forward: relu(bn2(conv2(relu(bn1(conv1(x)))))).

    Inputs:
    - x: tensor of shape (N, in_channels, H, W)

    Returns:
    - tensor of shape (N, out_channels, H', W'), H' = (H - 1) // stride + 1
    """

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)))


def make_stage(block, in_channels, out_channels, num_blocks, stride):
    """A stage: nn.Sequential of num_blocks blocks (the tutorial's _make_layer).

    The first block, block(in_channels, out_channels, stride), changes the channels
    and, with stride 2, halves H and W; the others are block(out_channels, out_channels, 1).
    """
    blocks = [block(in_channels, out_channels, stride)]
    for _ in range(1, num_blocks):
        blocks.append(block(out_channels, out_channels, 1))
    return nn.Sequential(*blocks)


class MiniResNet(nn.Module):
    """The tutorial's MiniResNet for 3x32x32 images (CIFAR-10): 2,777,674 parameters at 10 classes.

    Layers (use these attribute names):
    - prep: nn.Sequential(Conv2d(3, 64, 3, padding=1, bias=False), BatchNorm2d(64), ReLU())
    - layer1: 2 blocks 64 -> 64, stride 1       (N, 64, 32, 32)
    - layer2: 2 blocks 64 -> 128, first stride 2 (N, 128, 16, 16)
    - layer3: 2 blocks 128 -> 256, first stride 2 (N, 256, 8, 8)
    - avg_pool: AdaptiveAvgPool2d(1), fc: Linear(256, num_classes)
    Blocks are ResidualBlocks, or PlainBlocks when skip is False.

    Inputs:
    - x: tensor of shape (N, 3, H, W)

    Returns:
    - scores: tensor of shape (N, num_classes)
    """

    def __init__(self, num_classes=10, skip=True):
        super().__init__()
        block = ResidualBlock if skip else PlainBlock
        self.prep = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
        self.layer1 = make_stage(block, 64, 64, 2, stride=1)
        self.layer2 = make_stage(block, 64, 128, 2, stride=2)
        self.layer3 = make_stage(block, 128, 256, 2, stride=2)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(256, num_classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.prep(x))))
        x = self.avg_pool(x)                  # (N, 256, 1, 1)
        return self.fc(torch.flatten(x, 1))


def resnet18(num_classes=1000):
    """ResNet-18 for ImageNet (3x224x224), built from ResidualBlocks: 11,689,512 parameters.

    An nn.Module with these submodules, in this order (torchvision's names):
    - conv1: Conv2d(3, 64, 7, stride=2, padding=3, bias=False), bn1: BatchNorm2d(64), relu: ReLU
    - maxpool: MaxPool2d(3, stride=2, padding=1)                  224x224 -> 56x56
    - layer1..layer4: 2 blocks each, 64, 128, 256, 512 channels; the first block of
      layer2, layer3 and layer4 has stride 2                        56 -> 56, 28, 14, 7
    - avgpool: AdaptiveAvgPool2d(1), then flatten, fc: Linear(512, num_classes)

    Returns:
    - the model, mapping (N, 3, H, W) to (N, num_classes)
    """
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)),
        ("bn1", nn.BatchNorm2d(64)),
        ("relu", nn.ReLU(inplace=True)),
        ("maxpool", nn.MaxPool2d(3, stride=2, padding=1)),
        ("layer1", make_stage(ResidualBlock, 64, 64, 2, stride=1)),
        ("layer2", make_stage(ResidualBlock, 64, 128, 2, stride=2)),
        ("layer3", make_stage(ResidualBlock, 128, 256, 2, stride=2)),
        ("layer4", make_stage(ResidualBlock, 256, 512, 2, stride=2)),
        ("avgpool", nn.AdaptiveAvgPool2d(1)),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(512, num_classes)),
    ]))
