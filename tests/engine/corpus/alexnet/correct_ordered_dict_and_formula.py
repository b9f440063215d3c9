"""CORRECT: layers named through an OrderedDict, non-inplace ReLU, x.view flattening, shapes by the formula."""

from collections import OrderedDict

import torch.nn as nn


def _numbered(layers):
    return nn.Sequential(OrderedDict((str(i), layer) for i, layer in enumerate(layers)))


class AlexNet(nn.Module):
    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = _numbered([
            nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, 1, 2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(384, 256, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(256, 256, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(3, 2),
        ])
        self.avgpool = nn.AdaptiveAvgPool2d(6)
        self.classifier = _numbered([
            nn.Dropout(dropout), nn.Linear(9216, 4096), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(),
            nn.Linear(4096, num_classes),
        ])

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(x.view(x.size(0), -1))


def _out(size, kernel, stride, padding):
    return (size + 2 * padding - kernel) // stride + 1


def alexnet_shapes(size=224):
    c, h = 3, size
    shapes = []
    for layer in AlexNet().features:
        if isinstance(layer, nn.Conv2d):
            c, h = layer.out_channels, _out(h, layer.kernel_size[0], layer.stride[0], layer.padding[0])
        elif isinstance(layer, nn.MaxPool2d):
            h = _out(h, layer.kernel_size, layer.stride, layer.padding)
        shapes.append((c, h, h))
    return shapes
