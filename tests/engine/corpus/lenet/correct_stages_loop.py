"""CORRECT: an nn.Tanh module and a loop over (layer, activation) stages."""

from torch import nn


class LeNet5(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1, self.pool1 = nn.Conv2d(1, 6, (5, 5)), nn.AvgPool2d((2, 2))
        self.conv2, self.pool2 = nn.Conv2d(6, 16, (5, 5)), nn.AvgPool2d((2, 2))
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, num_classes)
        self.act = nn.Tanh()
        self.flatten = nn.Flatten()

    def forward(self, x):
        for conv, pool in [(self.conv1, self.pool1), (self.conv2, self.pool2)]:
            x = pool(self.act(conv(x)))
        x = self.flatten(x)
        for fc in (self.fc1, self.fc2):
            x = self.act(fc(x))
        return self.fc3(x)
