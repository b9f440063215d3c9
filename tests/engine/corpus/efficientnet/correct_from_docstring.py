"""Correct, written only from exercises/efficientnet.py's docstrings and docs/course.md.

MBConv keeps its parts as named attributes (created in the order they run) and the
squeeze-and-excitation uses Linear layers; the network is one flat module.
"""

import torch
import torch.nn.functional as F
from torch import nn

from scaling import B0_STAGES, round_filters, scale_stages

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
    def __init__(self, in_channels, out_channels, kernel, stride, expand_ratio):
        super().__init__()
        wide = in_channels * expand_ratio
        squeezed = max(1, in_channels // 4)
        if expand_ratio != 1:
            self.expand_conv = nn.Conv2d(in_channels, wide, 1, bias=False)
            self.expand_bn = nn.BatchNorm2d(wide)
        else:
            self.expand_conv = None
        self.dw_conv = nn.Conv2d(wide, wide, kernel, stride=stride, padding=(kernel - 1) // 2, groups=wide,
                                 bias=False)
        self.dw_bn = nn.BatchNorm2d(wide)
        self.se_reduce = nn.Linear(wide, squeezed)
        self.se_expand = nn.Linear(squeezed, wide)
        self.project_conv = nn.Conv2d(wide, out_channels, 1, bias=False)
        self.project_bn = nn.BatchNorm2d(out_channels)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x):
        h = x
        if self.expand_conv is not None:
            h = F.silu(self.expand_bn(self.expand_conv(h)))
        h = F.silu(self.dw_bn(self.dw_conv(h)))
        gate = torch.sigmoid(self.se_expand(F.silu(self.se_reduce(h.mean(dim=(2, 3))))))
        h = h * gate[:, :, None, None]
        h = self.project_bn(self.project_conv(h))
        return h + x if self.residual else h


class _Network(nn.Module):
    def __init__(self, stages, width, dropout):
        super().__init__()
        stem = round_filters(32, width)
        self.stem_conv = nn.Conv2d(3, stem, 3, stride=2, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(stem)
        blocks = []
        for expand, kernel, stride, c_in, c_out, repeats in stages:
            for index in range(repeats):
                first = index == 0
                blocks.append(MBConv(c_in if first else c_out, c_out, kernel, stride if first else 1, expand))
        self.blocks = nn.Sequential(*blocks)
        head = round_filters(1280, width)
        self.head_conv = nn.Conv2d(stages[-1][4], head, 1, bias=False)
        self.head_bn = nn.BatchNorm2d(head)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(head, 1000)

    def forward(self, x):
        x = F.silu(self.stem_bn(self.stem_conv(x)))
        x = self.blocks(x)
        x = F.silu(self.head_bn(self.head_conv(x)))
        return self.fc(self.dropout(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)))


def efficientnet(variant):
    width, depth, _, dropout = VARIANTS[variant]
    return _Network(scale_stages(B0_STAGES, width, depth), width, dropout)
