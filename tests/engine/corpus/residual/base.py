"""CORRECT: the solution the variants in variants.toml patch (a line or two each).
"""

from collections import OrderedDict

import torch
from torch import nn


class ResidualBlock(nn.Module):
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
        out = out + self.shortcut(x)
        return torch.relu(out)


class PlainBlock(nn.Module):
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
    blocks = [block(in_channels, out_channels, stride)]
    for _ in range(1, num_blocks):
        blocks.append(block(out_channels, out_channels, 1))
    return nn.Sequential(*blocks)


class MiniResNet(nn.Module):
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
        x = self.avg_pool(x)
        return self.fc(torch.flatten(x, 1))


def resnet18(num_classes=1000):
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
