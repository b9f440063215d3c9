"""Correct, written only from exercises/vgg.py's docstrings and docs/course.md.

The configurations follow the course's rule: five blocks, widths 64 doubling to 512,
so many convolutions per block, a pool after each block.
"""

import torch
from torch import nn

CONVS_PER_BLOCK = {"vgg11": (1, 1, 2, 2, 2), "vgg13": (2, 2, 2, 2, 2), "vgg16": (2, 2, 3, 3, 3),
                   "vgg19": (2, 2, 4, 4, 4)}


def _config(counts):
    config, width = [], 64
    for count in counts:
        config += [width] * count + ["M"]
        width = min(2 * width, 512)
    return config


VGG_CONFIGS = {name: _config(counts) for name, counts in CONVS_PER_BLOCK.items()}


def make_features(config, batch_norm=False, in_channels=3):
    layers = []
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, item, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(item))
        layers.append(nn.ReLU(inplace=True))
        in_channels = item
    return nn.Sequential(*layers)


class VGG(nn.Module):
    def __init__(self, features, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(dropout),
            nn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def vgg(name, num_classes=1000, batch_norm=False):
    return VGG(make_features(VGG_CONFIGS[name], batch_norm=batch_norm), num_classes=num_classes)


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def parameter_breakdown(model):
    kinds = {"conv": nn.Conv2d, "fc": nn.Linear, "bn": nn.BatchNorm2d}
    return {key: sum(count_parameters(m) for m in model.modules() if isinstance(m, kind))
            for key, kind in kinds.items()}


def vgg_parameter_count(name, num_classes=1000, batch_norm=False):
    total, channels = 0, 3
    for item in VGG_CONFIGS[name]:
        if item != "M":
            total += 9 * channels * item + item + (2 * item if batch_norm else 0)
            channels = item
    for n_in, n_out in ((512 * 7 * 7, 4096), (4096, 4096), (4096, num_classes)):
        total += n_in * n_out + n_out
    return total
