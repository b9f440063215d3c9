"""CORRECT: a second base, for the variants in variants.toml written against an earlier reference.


Tutorial: "VGGNet (2014)", and practice exercise 2 (count VGG-16's parameters,
convolutions against fully connected layers).

Every convolution is 3x3 with stride 1 and padding 1, so it keeps H and W;
each "M" (2x2 max pool, stride 2) halves them. Parameters of a layer:
conv 3x3: 9 * C_in * C_out + C_out; BatchNorm: 2 * C; Linear: F_in * F_out + F_out.
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
    """The convolutional part of a VGG network, from a config list.

    Each int c adds Conv2d(C_in, c, kernel_size=3, padding=1), then BatchNorm2d(c)
    if batch_norm, then ReLU(inplace=True); each "M" adds MaxPool2d(kernel_size=2, stride=2).
    Layers sit in one flat nn.Sequential, so their indices (and state-dict keys
    such as "0.weight") match torchvision's.

    Inputs:
    - config: list of ints (output channels) and "M"
    - batch_norm: add BatchNorm2d after every convolution
    - in_channels: channels of the input image

    Returns:
    - nn.Sequential mapping (N, in_channels, H, W) to (N, C_last, H / 2^m, W / 2^m)
      for m max pools
    """
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
    """A VGG network: features, adaptive average pooling to 7x7, classifier.

    Attributes (use these names; torchvision's state-dict keys follow from them):
    - features: the given module (from make_features), ending with 512 channels
    - avgpool: AdaptiveAvgPool2d((7, 7)), so any input size gives 512 * 7 * 7 features
    - classifier: nn.Sequential(Linear(25088, 4096), ReLU(True), Dropout(dropout),
      Linear(4096, 4096), ReLU(True), Dropout(dropout), Linear(4096, num_classes))

    Inputs:
    - x: tensor of shape (N, 3, H, W), H and W at least 32

    Returns:
    - scores: tensor of shape (N, num_classes)
    """

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
        x = self.features(x)          # (N, 512, H / 32, W / 32)
        x = self.avgpool(x)           # (N, 512, 7, 7)
        x = torch.flatten(x, 1)       # (N, 25088)
        return self.classifier(x)


def vgg(name, num_classes=1000, batch_norm=False):
    """The VGG network `name` ("vgg11", "vgg13", "vgg16" or "vgg19"), built from VGG_CONFIGS.

    Returns:
    - a VGG model; vgg("vgg16") has 138,357,544 parameters
    """
    if name not in VGG_CONFIGS:
        raise ValueError(f"unknown VGG {name!r}; known: {', '.join(VGG_CONFIGS)}")
    return VGG(make_features(VGG_CONFIGS[name], batch_norm=batch_norm), num_classes=num_classes)


def count_parameters(model):
    """The number of scalar parameters of a model (the sum of numel over its parameters)."""
    return sum(p.numel() for p in model.parameters())


def parameter_breakdown(model):
    """How a model's parameters split between layer kinds.

    Returns:
    - {"conv": parameters of all Conv2d layers, "fc": of all Linear layers,
       "bn": of all BatchNorm2d layers}; every key present, 0 when there are none.
      For vgg16: 14,714,688 in convolutions, 123,642,856 in the classifier.
    """
    kinds = {"conv": nn.Conv2d, "fc": nn.Linear, "bn": nn.BatchNorm2d}
    return {kind: sum(count_parameters(m) for m in model.modules() if isinstance(m, layer))
            for kind, layer in kinds.items()}


def vgg_parameter_count(name, num_classes=1000, batch_norm=False):
    """The parameter count of vgg(name, num_classes, batch_norm), from VGG_CONFIGS alone.

    Without building the model: sum the conv (9 * C_in * C_out + C_out), BatchNorm
    (2 * C) and classifier (25088 * 4096 + 4096, 4096 * 4096 + 4096,
    4096 * num_classes + num_classes) terms.
    """
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
