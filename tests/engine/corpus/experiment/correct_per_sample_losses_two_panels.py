"""CORRECT: per-sample losses, evaluate restores the mode, two panels and a figure legend."""

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


# -- the experiment (yours) ----------------------------------------------------------------


def train(model, data, epochs, lr, seed):
    torch.manual_seed(seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    model.train(True)
    losses = []
    for _ in range(epochs):
        per_sample = []
        for images, labels in data:
            loss = F.cross_entropy(model(images), labels, reduction="none")
            per_sample.extend(loss.tolist())
            optimizer.zero_grad()
            loss.mean().backward()
            optimizer.step()
        losses.append(sum(per_sample) / len(per_sample))
    return losses


def evaluate(model, data):
    was_training = model.training
    model.eval()
    correct = total = 0
    for images, labels in data:
        with torch.no_grad():
            predicted = torch.max(model(images), dim=1).indices
        correct += int((predicted == labels).sum())
        total += labels.numel()
    model.train(was_training)
    return correct / total


def compare_skip(train_data, test_data, *, epochs=5, lr=0.05, seed=0, num_classes=10, width=16,
                 blocks=(2, 2, 2, 2)):
    results = {}
    for skip in (True, False):
        torch.manual_seed(seed)
        model = make_resnet(num_classes, skip=skip, width=width, blocks=blocks)
        loss = train(model, train_data, epochs, lr, seed)
        results["residual" if skip else "plain"] = {"loss": loss, "accuracy": evaluate(model, test_data)}
    return results


def plot_histories(histories, path):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4))
    left, right = figure.subplots(1, 2)
    for name, history in histories.items():
        epochs = list(range(1, len(history["loss"]) + 1))
        left.plot(epochs, history["loss"], label=name)
        right.semilogy(epochs, history["loss"], label=name)
    for axes, scale in ((left, "linear"), (right, "log")):
        axes.set_xlabel("epoch")
        axes.set_ylabel(f"training loss ({scale})")
    figure.legend(loc="upper center", ncols=len(histories))
    figure.savefig(path, format="png")


# -- what your curves show (yours) ---------------------------------------------------------------
#
# Practice exercise 3 ends with a question: what do your curves show? Answer it
# for your own run, in two constants; the grader reads each statement against
# the numbers of that run, so an answer is right when your run shows it,
# whichever network it favours.
#
# RUN is the record `grader experiment` prints at the end (paste it as it is):
# {"settings": "...", "residual": {"loss": [one per epoch], "accuracy": ...},
#  "plain": {"loss": [...], "accuracy": ...}}.
#
# CONCLUSIONS says, from RUN's numbers (epochs counted from 1; a gap is always
# the plain network's value minus the residual network's):
# - "first_epoch_gap": the plain network's loss minus the residual network's
#   after the first epoch, to 2 decimals (within 0.01); negative when the plain
#   network's loss is the lower
# - "last_epoch_gap": the same after the last epoch
# - "fell_further": "residual" or "plain", the network whose loss fell more
#   from the first epoch to the last ("tie" if equal to 4 decimals)
# - "ahead_from_epoch": the first epoch from which the residual network's loss
#   is below the plain network's at every epoch up to the last; None if it is
#   not below at the last epoch
# - "rose_at": {"residual": [...], "plain": [...]}, the epochs at which each
#   network's loss was higher than at the epoch before ([] if it never rose)
# - "higher_accuracy": "residual" or "plain", the network with the higher test
#   accuracy ("tie" if equal to 4 decimals)

RUN = {'settings': 'grader experiment --epochs 5 --lr 0.05 --width 4 --blocks 2,2,2,2 --batch-size 32 '
                   '--seed 0 --image-size 16 --train-size 400 --test-size 200',
       'residual': {'loss': [2.2488, 1.8313, 1.1431, 0.7232, 0.8155], 'accuracy': 0.42},
       'plain': {'loss': [2.3444, 2.1773, 2.0078, 1.8451, 1.6378], 'accuracy': 0.13}}

CONCLUSIONS = {
    "first_epoch_gap": 0.10,      # 2.3444 - 2.2488
    "last_epoch_gap": 0.82,       # 1.6378 - 0.8155
    "fell_further": "residual",   # it fell by 1.43, the plain network by 0.71
    "ahead_from_epoch": 1,        # the residual network's loss was the lower at every epoch
    "rose_at": {"residual": [5], "plain": []},   # 0.7232 -> 0.8155: lr=0.05 is a little high for it
    "higher_accuracy": "residual",
}
