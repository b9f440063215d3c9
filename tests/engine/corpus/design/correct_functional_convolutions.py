"""CORRECT: no nn.Conv2d at all: weights are parameters used through F.conv2d, skips through torch.add."""

import math

import torch
import torch.nn.functional as F
from torch import nn

DESIGN_NOTES = """\
Written with functional calls to see every operation: each stage is a residual unit
relu(x + conv3x3(relu(conv3x3(x)))) after a strided 3x3 convolution that doubles the
channels. Group normalisation keeps training stable with small batches. The head averages
each map over the whole image with avg_pool2d and applies a linear layer.
"""


def conv_weight(out_channels, in_channels, kernel):
    weight = torch.empty(out_channels, in_channels, kernel, kernel)
    nn.init.kaiming_normal_(weight, nonlinearity="relu")
    return nn.Parameter(weight)


class Stage(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.down = conv_weight(out_channels, in_channels, 3)
        self.w1 = conv_weight(out_channels, out_channels, 3)
        self.w2 = conv_weight(out_channels, out_channels, 3)
        self.norm = nn.GroupNorm(8, out_channels)

    def forward(self, x):
        x = F.relu(self.norm(F.conv2d(x, self.down, stride=2, padding=1)))
        branch = F.conv2d(F.relu(F.conv2d(x, self.w1, padding=1)), self.w2 * 0.5, padding=1)
        return F.relu(torch.add(x, branch))


class Net(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.stages = nn.Sequential(Stage(3, 32), Stage(32, 64), Stage(64, 128), Stage(128, 256))
        self.weight = nn.Parameter(torch.randn(num_classes, 256) / math.sqrt(256))
        self.bias = nn.Parameter(torch.zeros(num_classes))

    def forward(self, x):
        x = self.stages(x)
        x = F.avg_pool2d(x, kernel_size=x.shape[2:]).flatten(1)
        return F.linear(x, self.weight, self.bias)


def build_model(num_classes=50):
    return Net(num_classes)
