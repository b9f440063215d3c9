"""CORRECT: torchvision's structure (Conv2dNormActivation-like blocks, stochastic depth in training, SE as a
module), with the stage table copied into configs before building."""

import copy

import torch
from torch import nn

from scaling import B0_STAGES, round_filters, round_repeats

WIDTH_DEPTH_DROPOUT = {"b0": (1.0, 1.0, 0.2), "b1": (1.0, 1.1, 0.2), "b2": (1.1, 1.2, 0.3), "b3": (1.2, 1.4, 0.3),
                       "b4": (1.4, 1.8, 0.4), "b5": (1.6, 2.2, 0.4), "b6": (1.8, 2.6, 0.5), "b7": (2.0, 3.1, 0.5)}


class ConvNormActivation(nn.Sequential):
    def __init__(self, c_in, c_out, kernel, stride=1, groups=1, activation=True):
        layers = [nn.Conv2d(c_in, c_out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                  nn.BatchNorm2d(c_out)]
        if activation:
            layers.append(nn.SiLU(inplace=True))
        super().__init__(*layers)


class SqueezeExcitation(nn.Module):
    def __init__(self, channels, squeeze):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation = nn.SiLU(inplace=True)
        self.scale_activation = nn.Sigmoid()

    def forward(self, x):
        return self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x))))) * x


class MBConv(nn.Module):
    def __init__(self, in_channels, out_channels, kernel, stride, expand_ratio, drop=0.0):
        super().__init__()
        self.use_res_connect = stride == 1 and in_channels == out_channels
        expanded = in_channels * expand_ratio
        layers = []
        if expanded != in_channels:
            layers.append(ConvNormActivation(in_channels, expanded, 1))
        layers.append(ConvNormActivation(expanded, expanded, kernel, stride, groups=expanded))
        layers.append(SqueezeExcitation(expanded, max(1, in_channels // 4)))
        layers.append(ConvNormActivation(expanded, out_channels, 1, activation=False))
        self.block = nn.Sequential(*layers)
        self.drop = drop

    def forward(self, x):
        result = self.block(x)
        if self.use_res_connect:
            if self.training and self.drop > 0:    # stochastic depth: drop the whole residual branch per sample
                keep = torch.rand(result.shape[0], 1, 1, 1) >= self.drop
                result = result * keep / (1 - self.drop)
            result += x
        return result


class EfficientNet(nn.Module):
    def __init__(self, width, depth, dropout, num_classes=1000):
        super().__init__()
        configs = [list(stage) for stage in B0_STAGES]
        for config in configs:
            config[3], config[4] = round_filters(config[3], width), round_filters(config[4], width)
            config[5] = round_repeats(config[5], depth)
        total, index = sum(c[5] for c in configs), 0
        layers = [ConvNormActivation(3, configs[0][3], 3, stride=2)]
        for expand, kernel, stride, c_in, c_out, repeats in configs:
            stage = []
            for _ in range(repeats):
                block = copy.copy((c_in, c_out, kernel, stride, expand))
                stage.append(MBConv(*block, drop=0.2 * index / total))
                c_in, stride, index = c_out, 1, index + 1
            layers.append(nn.Sequential(*stage))
        head = 4 * configs[-1][4]
        layers.append(ConvNormActivation(configs[-1][4], head, 1))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True), nn.Linear(head, num_classes))

    def forward(self, x):
        x = torch.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)


def efficientnet(variant):
    return EfficientNet(*WIDTH_DEPTH_DROPOUT[variant])
