"""CORRECT: the solution the variants in variants.toml patch (a line or two each).

Tutorial: "AlexNet (2012)".

    Input (224x224x3) -> [Conv 11x11 stride 4] -> [MaxPool 3x3 stride 2] ->
    [Conv 5x5] -> [MaxPool 3x3 stride 2] ->
    [Conv 3x3] -> [Conv 3x3] -> [Conv 3x3] -> [MaxPool 3x3 stride 2] ->
    [FC 4096] -> [FC 4096] -> [FC 1000]

8 layers with weights (5 convolutions, 3 fully connected), ReLU after each but
the last, dropout before the two hidden fully connected layers. The pools are
"overlapping": 3x3 windows moved by 2.

The paper split the network over two GPUs (96 = 2 x 48 filters in the first
layer, 256 = 2 x 128 in the second, some layers only seeing their own GPU's
half): about 60M parameters. torchvision follows Krizhevsky's later
single-GPU version ("One weird trick", 2014): 64, 192, 384, 256, 256 filters,
every layer seeing all channels, 61,100,840 parameters. Its state-dict keys
(`features.0.weight`, ..., `classifier.6.bias`) are what pretrained weights use.

Output size of each layer: H' = floor((H - K + 2P) / S) + 1, so the first
convolution gives (224 - 11 + 4) / 4 + 1 = 55.
"""

import torch
from torch import nn


class AlexNet(nn.Module):
    """torchvision's single-stream AlexNet.

    Layers (the index is the key in the state dict):
    - features: 0 Conv2d(3, 64, 11, stride 4, padding 2), 1 ReLU, 2 MaxPool2d(3, stride 2),
      3 Conv2d(64, 192, 5, padding 2), 4 ReLU, 5 MaxPool2d(3, stride 2),
      6 Conv2d(192, 384, 3, padding 1), 7 ReLU, 8 Conv2d(384, 256, 3, padding 1), 9 ReLU,
      10 Conv2d(256, 256, 3, padding 1), 11 ReLU, 12 MaxPool2d(3, stride 2)
    - avgpool: AdaptiveAvgPool2d((6, 6)), so any input size of at least 63x63 works
    - classifier: 0 Dropout, 1 Linear(256 * 6 * 6, 4096), 2 ReLU, 3 Dropout,
      4 Linear(4096, 4096), 5 ReLU, 6 Linear(4096, num_classes)

    Inputs:
    - num_classes: number of scores per image
    - dropout: probability of zeroing each input of the two hidden fully connected layers

    Forward: x of shape (N, 3, H, W) -> scores of shape (N, num_classes)
    """

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def alexnet_shapes(size=224):
    """The shape (C, H, W) after each layer of AlexNet().features, for one size x size RGB image.

    Either apply H' = floor((H - K + 2P) / S) + 1 layer by layer, or run the
    layers: on the "meta" device tensors have shapes but no values, so nothing
    is computed and no memory is used.

    Returns:
    - a list of 13 tuples (C, H, W), one per layer of features, in order;
      the first is (64, 55, 55), the last (256, 6, 6)
    """
    with torch.device("meta"):
        features = AlexNet().features
        x = torch.zeros(1, 3, size, size)
    shapes = []
    for layer in features:
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    return shapes
