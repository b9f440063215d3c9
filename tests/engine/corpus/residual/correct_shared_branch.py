"""CORRECT: both blocks share a base class for the two-convolution branch; in-place addition as in the tutorial."""

from collections import OrderedDict

import torch
from torch import nn


class _TwoConvBranch(nn.Module):
    """conv1, bn1, conv2, bn2: the F of y = relu(F(x) + shortcut(x))."""

    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def branch(self, x):
        return self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))


class ResidualBlock(_TwoConvBranch):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(in_channels, out_channels, stride)
        if stride == 1 and in_channels == out_channels:
            self.shortcut = nn.Sequential()
        else:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, (1, 1), stride=(stride, stride),
                                                    bias=False),
                                          nn.BatchNorm2d(out_channels))

    def forward(self, x):
        out = self.branch(x)
        out += self.shortcut(x)
        return torch.relu(out)


class PlainBlock(_TwoConvBranch):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(in_channels, out_channels, stride)

    def forward(self, x):
        return torch.relu(self.branch(x))


def make_stage(block, in_channels, out_channels, num_blocks, stride):
    return nn.Sequential(*[block(in_channels if i == 0 else out_channels, out_channels, stride if i == 0 else 1)
                           for i in range(num_blocks)])


class MiniResNet(nn.Module):
    def __init__(self, num_classes=10, skip=True):
        super().__init__()
        block = ResidualBlock if skip else PlainBlock
        self.prep = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
        for i, (c_in, c_out, stride) in enumerate([(64, 64, 1), (64, 128, 2), (128, 256, 2)], start=1):
            self.add_module(f"layer{i}", make_stage(block, c_in, c_out, 2, stride))
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(256, num_classes)

    def forward(self, x):
        x = self.prep(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.avg_pool(x).flatten(1)
        return self.fc(x)


def resnet18(num_classes=1000):
    stages = [(f"layer{i + 1}", make_stage(ResidualBlock, c_in, c_out, 2, 1 if i == 0 else 2))
              for i, (c_in, c_out) in enumerate([(64, 64), (64, 128), (128, 256), (256, 512)])]
    return nn.Sequential(OrderedDict(
        [("conv1", nn.Conv2d(3, 64, 7, 2, 3, bias=False)), ("bn1", nn.BatchNorm2d(64)), ("relu", nn.ReLU()),
         ("maxpool", nn.MaxPool2d(3, 2, 1))] + stages
        + [("avgpool", nn.AdaptiveAvgPool2d((1, 1))), ("flatten", nn.Flatten(1)), ("fc", nn.Linear(512, num_classes))]))
