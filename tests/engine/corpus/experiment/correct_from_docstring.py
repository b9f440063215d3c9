"""Correct, written only from exercises/experiment.py's docstrings and docs/course.md (provided code copied)."""


import pickle
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


# -- data (provided) -------------------------------------------------------------------


def synthetic_images(n, *, num_classes=10, size=32, seed=0, noise=0.6):
    """A small image set a CNN can learn: each class is a coloured stripe pattern.

    Class c has a fixed colour and stripes at angle pi * c / num_classes. An image
    is its class's stripes, at a random phase and contrast, plus Gaussian noise.
    The classes do not depend on `seed`, only the samples do: two calls with
    different seeds give a training set and a held-out set of the same task.

    Inputs:
    - n: number of images
    - num_classes, size: classes, and the images' height and width
    - seed: picks the samples; the same seed gives the same images
    - noise: standard deviation of the pixel noise

    Returns a tuple of:
    - images: float32 array of shape (n, 3, size, size)
    - labels: int64 array of shape (n,), every class n // num_classes times or once more
    """
    colours = np.random.default_rng(2015).uniform(-1.0, 1.0, (num_classes, 3))
    colours /= np.linalg.norm(colours, axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % num_classes)
    angle = np.pi * labels / num_classes
    phase = rng.uniform(0.0, 2 * np.pi, n)
    contrast = rng.uniform(0.7, 1.3, n)
    yy, xx = np.mgrid[0:size, 0:size] / size
    along = np.cos(angle)[:, None, None] * xx + np.sin(angle)[:, None, None] * yy
    stripes = np.sin(2 * np.pi * 3 * along + phase[:, None, None]) * contrast[:, None, None]
    images = colours[labels][:, :, None, None] * stripes[:, None] + noise * rng.standard_normal((n, 3, size, size))
    return images.astype(np.float32), labels.astype(np.int64)


def load_cifar10(root, *, train=True):
    """CIFAR-10 from its python batches (cifar-10-python.tar.gz, unpacked).

    `root` is the folder `cifar-10-batches-py` or a folder containing it. The
    training set is every `data_batch_*` file found, the test set `test_batch`.
    Each batch is a pickled dict whose b"data" holds uint8 rows of 3072 values
    (1024 red, then 1024 green, then 1024 blue, each 32x32 row-major) and whose
    b"labels" holds ints in 0..9. Only dicts, lists, bytes, ints and numpy arrays
    are unpickled: a file that asks for anything else is refused.

    Returns a tuple of:
    - images: float32 array of shape (N, 3, 32, 32), values in [0, 1]
    - labels: int64 array of shape (N,)
    """
    root = Path(root)
    if (root / "cifar-10-batches-py").is_dir():
        root = root / "cifar-10-batches-py"
    files = sorted(root.glob("data_batch_*")) if train else [root / "test_batch"]
    files = [f for f in files if f.is_file()]
    if not files:
        wanted = "data_batch_1 ... data_batch_5" if train else "test_batch"
        raise FileNotFoundError(f"no CIFAR-10 python batches ({wanted}) in {root}")
    images, labels = [], []
    for file in files:
        with open(file, "rb") as stream:
            batch = _BatchUnpickler(stream, encoding="bytes").load()
        images.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        labels.append(np.asarray(batch[b"labels"], dtype=np.int64))
    return np.concatenate(images).astype(np.float32) / 255.0, np.concatenate(labels)


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles a CIFAR batch and nothing else: a pickle may name any function to call."""

    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"a CIFAR-10 batch does not contain {module}.{name}")
        return super().find_class(module, name)


def make_loader(images, labels, batch_size=64, *, shuffle=False):
    """A DataLoader of (images, labels) batches over numpy arrays.

    With shuffle=True the order is drawn from torch's global generator each
    epoch, so `torch.manual_seed` fixes it.
    """
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)


# -- networks (provided) -----------------------------------------------------------------


class Block(nn.Module):
    """ResNet's basic block, y = relu(F(x) + shortcut(x)); with skip=False, y = relu(F(x)).

    F is conv3x3 -> BN -> ReLU -> conv3x3 -> BN. The shortcut is the identity, or
    a 1x1 convolution with BN where the shape changes ("ResNet (2015)").
    """

    def __init__(self, in_channels, out_channels, stride=1, *, skip=True):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.skip = skip
        self.shortcut = nn.Sequential()
        if skip and (stride != 1 or in_channels != out_channels):
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_channels))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.skip:
            out = out + self.shortcut(x)
        return F.relu(out)


def make_resnet(num_classes=10, *, skip=True, width=16, blocks=(2, 2, 2, 2)):
    """ResNet-18's layout for small images, `width` channels in its first stage.

    stem: conv3x3 (3 -> width) -> BN -> ReLU; then one stage per entry of `blocks`,
    stage i with width * 2**i channels and that many blocks, the first block of
    every stage after the first at stride 2; then global average pooling and a
    linear classifier. width=64, blocks=(2, 2, 2, 2) is ResNet-18 for CIFAR
    (16 convolutions in blocks + stem + fc = 18 layers).

    skip=False builds the same network without shortcuts (the "plain" network).
    """
    layers = [nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
    channels = width
    for stage, count in enumerate(blocks):
        out_channels = width * 2 ** stage
        for index in range(count):
            stride = 2 if stage > 0 and index == 0 else 1
            layers.append(Block(channels, out_channels, stride, skip=skip))
            channels = out_channels
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes)]
    return nn.Sequential(*layers)


# -- the experiment -------------------------------------------------------------------------


def train(model, data, epochs, lr, seed):
    torch.manual_seed(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    model.train()
    history = []
    for _ in range(epochs):
        total, count = 0.0, 0
        for images, labels in data:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
            count += len(labels)
        history.append(total / count)
    return history


@torch.no_grad()
def evaluate(model, data):
    was_training = model.training
    model.eval()
    right = seen = 0
    for images, labels in data:
        right += int((model(images).argmax(dim=1) == labels).sum())
        seen += len(labels)
    model.train(was_training)
    return right / seen


def compare_skip(train_data, test_data, *, epochs=5, lr=0.05, seed=0, num_classes=10, width=16,
                 blocks=(2, 2, 2, 2)):
    results = {}
    for name, skip in (("residual", True), ("plain", False)):
        torch.manual_seed(seed)
        model = make_resnet(num_classes, skip=skip, width=width, blocks=blocks)
        losses = train(model, train_data, epochs, lr, seed)
        results[name] = {"loss": losses, "accuracy": evaluate(model, test_data)}
    return results


def plot_histories(histories, path):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4))
    axes = figure.add_subplot()
    for name, history in histories.items():
        epochs = range(1, len(history["loss"]) + 1)
        axes.plot(list(epochs), history["loss"], marker="o", label=name)
    axes.set_xlabel("epoch")
    axes.set_ylabel("training loss")
    axes.legend()
    figure.savefig(path, format="png")


# What my curves show (written from the comment in exercises/experiment.py).

RUN = {'settings': 'grader experiment --epochs 4 --lr 0.05 --width 8 --blocks 2,2,2,2 --batch-size 64 '
                   '--seed 0 --image-size 32 --train-size 2000 --test-size 500',
       'residual': {'loss': [2.1307, 1.4282, 0.9514, 0.7025], 'accuracy': 0.786},
       'plain': {'loss': [2.2619, 2.0417, 2.0733, 1.7388], 'accuracy': 0.318}}

CONCLUSIONS = dict(
    first_epoch_gap=2.2619 - 2.1307,
    last_epoch_gap=1.7388 - 0.7025,
    fell_further="residual",
    ahead_from_epoch=1,
    rose_at={"residual": [], "plain": [3]},
    higher_accuracy="residual",
)
