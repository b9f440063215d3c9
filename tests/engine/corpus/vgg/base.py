"""CORRECT: the solution the variants in variants.toml patch (a line or two each).
"""

import torch
from torch import nn

VGG_CONFIGS = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
              512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def make_features(config, batch_norm=False, in_channels=3):
    layers = []
    for v in config:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        in_channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    def __init__(self, features, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(inplace=True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def vgg(name, num_classes=1000, batch_norm=False):
    return VGG(make_features(VGG_CONFIGS[name], batch_norm=batch_norm), num_classes=num_classes)


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def parameter_breakdown(model):
    kinds = {"conv": nn.Conv2d, "fc": nn.Linear, "bn": nn.BatchNorm2d}
    return {kind: sum(count_parameters(m) for m in model.modules() if isinstance(m, layer))
            for kind, layer in kinds.items()}


def vgg_parameter_count(name, num_classes=1000, batch_norm=False):
    total, in_channels = 0, 3
    for v in VGG_CONFIGS[name]:
        if v == "M":
            continue
        total += 9 * in_channels * v + v
        if batch_norm:
            total += 2 * v
        in_channels = v
    for f_in, f_out in [(512 * 7 * 7, 4096), (4096, 4096), (4096, num_classes)]:
        total += f_in * f_out + f_out
    return total
