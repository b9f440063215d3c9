"""CORRECT: the solution the variants in variants.toml patch (a line or two each).
"""

import torch
import torch.nn.functional as F
from torch import nn

DESIGN_NOTES = """\
Input and downsampling: a 100x100 image is large for 50 classes, so the stem (one 3x3
convolution at stride 2) halves it to 50x50 at once; each later stage halves it again
(50 -> 25 -> 13 -> 7) with a stride-2 3x3 convolution, while the channels double
(32 -> 64 -> 128 -> 256), keeping the work per stage roughly constant.

3x3 convolutions: two stacked 3x3 layers see 5x5 with 18 C^2 weights instead of 25 C^2,
and add a non-linearity between them (VGG's insight). By the last stage the receptive
field covers the whole image.

Skip connections: every stage is a residual block, y = relu(F(x) + shortcut(x)), so the
gradient has an identity path (dL/dx = dL/dy (1 + dF/dx)) and the network trains
quickly; where the shape changes the shortcut is a 1x1 projection at stride 2.

Normalisation: BatchNorm after every convolution (no conv bias, BN has its own shift)
makes training insensitive to the scale of the initial weights.

Classifier: global average pooling turns 256x7x7 into 256 features, whatever the
input size, then dropout and one linear layer: 12,850 weights at 50 classes instead
of 3.2M for a flattened 256x7x7 map, which is where VGG keeps most of its parameters.

Budget: about 1.2M parameters, a quarter of the 5M allowed, which is plenty for 50
classes and leaves room to add a second block per stage if the data warrant it.
"""


class ResidualBlock(nn.Module):
    """y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), 3x3 convolutions."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_channels))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class DesignNet(nn.Module):
    """stem (3x3/2) -> 4 residual stages (32, 64, 128, 256 channels) -> GAP -> dropout -> linear."""

    def __init__(self, num_classes=50, widths=(32, 64, 128, 256)):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU())
        stages, channels = [], widths[0]
        for index, width in enumerate(widths):
            stages.append(ResidualBlock(channels, width, stride=1 if index == 0 else 2))
            channels = width
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(channels, num_classes))

    def forward(self, x):
        return self.classifier(self.pool(self.stages(self.stem(x))))


def build_model(num_classes=50):
    """A CNN for (N, 3, 100, 100) images.

    Inputs:
    - num_classes: the number of classes (50 in the exercise; any count must work)

    Returns:
    - a torch.nn.Module whose forward maps (N, 3, 100, 100) float32 images to
      (N, num_classes) logits, for N >= 1 in eval mode
    """
    return DesignNet(num_classes)
