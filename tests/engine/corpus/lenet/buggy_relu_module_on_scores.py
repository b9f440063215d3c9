"""BUG: an nn.ReLU module after fc3 clips the negative scores (the activations are tanh, as they should be).

Misconception: activation_on_scores
"""

"""LeNet-5 (LeCun et al., 1998) in PyTorch.

Tutorial: "LeNet-5 (1998)".

    Input (32x32) -> [Conv 5x5, 6] -> [AvgPool 2x2] ->
    [Conv 5x5, 16] -> [AvgPool 2x2] -> [FC 120] -> [FC 84] -> [FC 10]

Sizes through the network for one 1x32x32 image (H' = (H - K) / S + 1):
32x32 -> conv1 -> 6x28x28 -> pool1 -> 6x14x14 -> conv2 -> 16x10x10 -> pool2
-> 16x5x5 = 400 features -> fc1 -> 120 -> fc2 -> 84 -> fc3 -> num_classes.
"""

import torch
from torch import nn


class LeNet5(nn.Module):
    """LeNet-5 for 1x32x32 inputs, with tanh activations and average pooling.

    Layers (use these attribute names):
    - conv1: Conv2d(1, 6, kernel_size=5)        pool1: AvgPool2d(2)  (kernel 2, stride 2)
    - conv2: Conv2d(6, 16, kernel_size=5)       pool2: AvgPool2d(2)
    - fc1: Linear(400, 120)   fc2: Linear(120, 84)   fc3: Linear(84, num_classes)

    forward applies tanh after every layer except the pooling layers and fc3:
    conv1 -> tanh -> pool1 -> conv2 -> tanh -> pool2 -> flatten -> fc1 -> tanh -> fc2 -> tanh -> fc3.
    Parameters: 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706 for 10 classes.

    Inputs:
    - x: tensor of shape (N, 1, 32, 32)

    Returns:
    - scores: tensor of shape (N, num_classes) (no softmax: the loss applies it)
    """

    def __init__(self, num_classes=10):
        super().__init__()
        ### BEGIN SOLUTION
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5)
        self.pool1 = nn.AvgPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.pool2 = nn.AvgPool2d(2)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)
        self.relu = nn.ReLU()
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        x = self.pool1(torch.tanh(self.conv1(x)))   # (N, 6, 14, 14)
        x = self.pool2(torch.tanh(self.conv2(x)))   # (N, 16, 5, 5)
        x = torch.flatten(x, 1)                     # (N, 400)
        x = torch.tanh(self.fc1(x))
        x = torch.tanh(self.fc2(x))
        return self.relu(self.fc3(x))
        ### END SOLUTION
