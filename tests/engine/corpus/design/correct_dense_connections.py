"""CORRECT: a small DenseNet: concatenation skips, 1x1 transitions, GAP as a mean in forward."""

import torch
import torch.nn.functional as F
from torch import nn

DESIGN_NOTES = """\
Dense blocks: each layer (BN, ReLU, 3x3 conv) sees the concatenation of every earlier map
of its block, so features are reused and gradients reach early layers directly.

Transitions: a 1x1 convolution halves the channels and a 2x2 average pool halves the
resolution between blocks.

Classifier: the mean of each final map over H and W, then one linear layer.
"""


class DenseLayer(nn.Module):
    def __init__(self, in_channels, growth):
        super().__init__()
        self.norm = nn.BatchNorm2d(in_channels)
        self.conv = nn.Conv2d(in_channels, growth, 3, padding=1, bias=False)

    def forward(self, x):
        return torch.cat([x, self.conv(F.relu(self.norm(x)))], dim=1)


def dense_block(channels, growth, layers):
    block = [DenseLayer(channels + i * growth, growth) for i in range(layers)]
    return nn.Sequential(*block), channels + layers * growth


class DenseNet(nn.Module):
    def __init__(self, num_classes, growth=16):
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False)
        stages, channels = [], 32
        for index in range(3):
            block, channels = dense_block(channels, growth, 3)
            stages.append(block)
            if index < 2:
                stages += [nn.BatchNorm2d(channels), nn.ReLU(), nn.Conv2d(channels, channels // 2, 1, bias=False),
                           nn.AvgPool2d(2)]
                channels //= 2
        self.features = nn.Sequential(*stages, nn.BatchNorm2d(channels), nn.ReLU())
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        x = self.features(self.stem(x))
        return self.fc(x.mean(dim=(2, 3)))


def build_model(num_classes=50):
    return DenseNet(num_classes)
