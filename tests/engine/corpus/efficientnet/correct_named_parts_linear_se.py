"""CORRECT: named parts instead of a Sequential, F.silu in forward, the squeeze-and-excitation with Linear layers,
the whole network one flat nn.Sequential."""

import torch
import torch.nn.functional as F
from torch import nn

from scaling import B0_STAGES, scale_stages

VARIANTS = {"b0": (1.0, 1.0), "b1": (1.0, 1.1), "b2": (1.1, 1.2), "b3": (1.2, 1.4),
            "b4": (1.4, 1.8), "b5": (1.6, 2.2), "b6": (1.8, 2.6), "b7": (2.0, 3.1)}
DROPOUT = {"b0": 0.2, "b1": 0.2, "b2": 0.3, "b3": 0.3, "b4": 0.4, "b5": 0.4, "b6": 0.5, "b7": 0.5}


class MBConv(nn.Module):
    def __init__(self, in_channels, out_channels, kernel, stride, expand_ratio):
        super().__init__()
        mid = in_channels * expand_ratio
        self.expand = expand_ratio != 1
        if self.expand:
            self.expand_conv = nn.Conv2d(in_channels, mid, 1, bias=False)
            self.expand_bn = nn.BatchNorm2d(mid)
        self.dw_conv = nn.Conv2d(mid, mid, kernel, stride, kernel // 2, groups=mid, bias=False)
        self.dw_bn = nn.BatchNorm2d(mid)
        squeeze = max(1, in_channels // 4)
        self.se_reduce = nn.Linear(mid, squeeze)
        self.se_expand = nn.Linear(squeeze, mid)
        self.project_conv = nn.Conv2d(mid, out_channels, 1, bias=False)
        self.project_bn = nn.BatchNorm2d(out_channels)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x):
        h = F.silu(self.expand_bn(self.expand_conv(x))) if self.expand else x
        h = F.silu(self.dw_bn(self.dw_conv(h)))
        gate = torch.sigmoid(self.se_expand(F.silu(self.se_reduce(h.mean(dim=(2, 3))))))
        h = h * gate[:, :, None, None]
        h = self.project_bn(self.project_conv(h))
        if self.residual:
            h = h + x
        return h


def _conv_bn_silu(c_in, c_out, kernel, stride=1):
    return [nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(c_out), nn.SiLU()]


def efficientnet(variant):
    width, depth = VARIANTS[variant]
    stages = scale_stages(B0_STAGES, width, depth)
    layers = _conv_bn_silu(3, stages[0][3], 3, 2)
    for expand, kernel, stride, c_in, c_out, repeats in stages:
        for i in range(repeats):
            layers.append(MBConv(c_in, c_out, kernel, stride, expand))
            c_in, stride = c_out, 1
    head = 4 * stages[-1][4]
    layers += _conv_bn_silu(stages[-1][4], head, 1)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(DROPOUT[variant]), nn.Linear(head, 1000)]
    return nn.Sequential(*layers)
