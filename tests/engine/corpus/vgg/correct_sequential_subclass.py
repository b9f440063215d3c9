"""CORRECT: VGG assembled with add_module, numpy for the counting, configs as tuples."""

import numpy as np
import torch
from torch import nn

VGG_CONFIGS = {
    "vgg11": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg13": (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg16": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    "vgg19": (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"),
}


def make_features(config, batch_norm=False, in_channels=3):
    features = nn.Sequential()
    for v in config:
        if v == "M":
            features.add_module(str(len(features)), nn.MaxPool2d(kernel_size=(2, 2), stride=(2, 2)))
            continue
        features.add_module(str(len(features)), nn.Conv2d(in_channels, v, kernel_size=(3, 3), padding=(1, 1)))
        if batch_norm:
            features.add_module(str(len(features)), nn.BatchNorm2d(v))
        features.add_module(str(len(features)), nn.ReLU(inplace=True))
        in_channels = v
    return features


class VGG(nn.Module):
    def __init__(self, features, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d(output_size=(7, 7))
        self.classifier = nn.Sequential()
        for i, f_out in enumerate([4096, 4096]):
            self.classifier.append(nn.Linear(25088 if i == 0 else 4096, f_out))
            self.classifier.append(nn.ReLU(inplace=True))
            self.classifier.append(nn.Dropout(p=dropout))
        self.classifier.append(nn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), start_dim=1))


def vgg(name, num_classes=1000, batch_norm=False):
    return VGG(make_features(list(VGG_CONFIGS[name]), batch_norm=batch_norm), num_classes=num_classes)


def count_parameters(model):
    return int(sum(np.prod(p.shape) for p in model.parameters()))


def parameter_breakdown(model):
    result = {"conv": 0, "fc": 0, "bn": 0}
    for m in model.modules():
        for kind, layer in (("conv", nn.Conv2d), ("fc", nn.Linear), ("bn", nn.BatchNorm2d)):
            if isinstance(m, layer):
                result[kind] += count_parameters(m)
    return result


def vgg_parameter_count(name, num_classes=1000, batch_norm=False):
    channels = [c for c in VGG_CONFIGS[name] if c != "M"]
    inputs = [3] + channels[:-1]
    total = int(np.dot(inputs, channels)) * 9 + sum(channels)
    total += 2 * sum(channels) if batch_norm else 0
    return total + 25088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * num_classes + num_classes
