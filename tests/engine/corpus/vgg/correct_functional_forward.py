"""CORRECT: configs from per-block conv counts, functional pooling in forward, counts by type name."""

import torch.nn.functional as F
from torch import nn

WIDTHS = (64, 128, 256, 512, 512)


def _config(convs_per_block):
    config = []
    for width, convs in zip(WIDTHS, convs_per_block):
        config += [width] * convs + ["M"]
    return config


VGG_CONFIGS = {name: _config(blocks) for name, blocks in
               {"vgg11": (1, 1, 2, 2, 2), "vgg13": (2, 2, 2, 2, 2),
                "vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}.items()}


def make_features(config, batch_norm=False, in_channels=3):
    def layers():
        channels = in_channels
        for item in config:
            if item == "M":
                yield nn.MaxPool2d(2)
            else:
                yield nn.Conv2d(channels, item, 3, 1, 1)
                if batch_norm:
                    yield nn.BatchNorm2d(item)
                yield nn.ReLU()
                channels = item
    return nn.Sequential(*layers())


class VGG(nn.Module):
    def __init__(self, features, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d(7)
        layers = []
        for f_in, f_out in [(25088, 4096), (4096, 4096)]:
            layers += [nn.Linear(f_in, f_out), nn.ReLU(), nn.Dropout(dropout)]
        self.classifier = nn.Sequential(*layers, nn.Linear(4096, num_classes))

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), (7, 7))
        return self.classifier(x.view(x.size(0), -1))


def vgg(name, num_classes=1000, batch_norm=False):
    return VGG(make_features(VGG_CONFIGS[name], batch_norm), num_classes)


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def parameter_breakdown(model):
    names = {"Conv2d": "conv", "Linear": "fc", "BatchNorm2d": "bn"}
    counts = dict.fromkeys(names.values(), 0)
    for module in model.modules():
        kind = names.get(type(module).__name__)
        if kind:
            counts[kind] += sum(p.numel() for p in module.parameters(recurse=False))
    return counts


def vgg_parameter_count(name, num_classes=1000, batch_norm=False):
    widths = [3] + [v for v in VGG_CONFIGS[name] if v != "M"]
    convs = sum(c_in * c_out * 9 + c_out * (3 if batch_norm else 1) for c_in, c_out in zip(widths, widths[1:]))
    fcs = sum(f_in * f_out + f_out for f_in, f_out in [(512 * 49, 4096), (4096, 4096), (4096, num_classes)])
    return convs + fcs
