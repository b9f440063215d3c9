"""Hidden suite for alexnet: torchvision's layout and numbers, behaviour with the reference's weights.

Both models get the same weights without any crossing the process boundary
(`fill_state` draws every entry from the seed and its key and shape), so equal
forward passes give equal scores; a difference is located at the first layer
whose output differs. The tutorial's claims are checks of their own: ReLU
after every layer but the last, dropout in the classifier, 8 layers with
weights, 55x55 after the first convolution. Shapes are checked against
running the layers.
"""

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from grader.suite import (
    Mismatch,
    array_difference,
    ask,
    expect_equal,
    first_difference,
    model,
    module_difference,
    state_difference,
)

FEATURES = [f"features.{i}" for i in range(13)]
CLASSIFIER = [f"classifier.{i}" for i in range(7)]
ORDER = FEATURES + ["avgpool"] + CLASSIFIER
CONVS, LINEARS = (
    ["features.0", "features.3", "features.6", "features.8", "features.10"],
    ["classifier.1", "classifier.4", "classifier.6"],
)
RELUS = {
    "features.1": "features.0",
    "features.4": "features.3",
    "features.7": "features.6",
    "features.9": "features.8",
    "features.11": "features.10",
    "classifier.2": "classifier.1",
    "classifier.5": "classifier.4",
}
HINTS = {
    "features.0": "Conv2d(3, 64, kernel_size=11, stride=4, padding=2) on the image",
    "features.2": "overlapping max pooling: MaxPool2d(kernel_size=3, stride=2)",
    "features.5": "overlapping max pooling: MaxPool2d(kernel_size=3, stride=2)",
    "features.12": "overlapping max pooling: MaxPool2d(kernel_size=3, stride=2)",
    "avgpool": "AdaptiveAvgPool2d((6, 6)) after features",
    "classifier.1": "flatten with torch.flatten(x, 1) after avgpool: (N, 256 * 6 * 6)",
} | {relu: f"ReLU, max(0, x), after {layer}" for relu, layer in RELUS.items()}
KINDS = [
    "Conv2d 11x11 stride 4",
    "ReLU",
    "MaxPool2d 3x3 stride 2",
    "Conv2d 5x5",
    "ReLU",
    "MaxPool2d 3x3 stride 2",
    "Conv2d 3x3",
    "ReLU",
    "Conv2d 3x3",
    "ReLU",
    "Conv2d 3x3",
    "ReLU",
    "MaxPool2d 3x3 stride 2",
]
SEED = 0


def images(n, size, seed):
    return np.random.default_rng(seed).standard_normal((n, 3, size, size)).astype(np.float32)


def expect_loadable(student, reference, spec):
    difference = state_difference(ask(student, "describe", spec)["state"], ask(reference, "describe", spec)["state"])
    if difference:
        raise Mismatch(
            f"the reference's weights do not fit your model: its state dict {difference}",
            hint="torchvision's layout: features.0 ... features.12, avgpool, classifier.0 ... classifier.6",
        )


def expect_same_scores(student, reference, spec, x):
    """Scores equal to the reference's with its weights; else the first layer whose output differs."""
    expect_loadable(student, reference, spec)
    options = {"seed": SEED, "record": ORDER}
    expected = ask(reference, "forward", spec, x, options)
    got = ask(student, "forward", spec, x, options)
    difference = array_difference(got["outputs"][0], expected["outputs"][0])
    if difference is None:
        return
    located = first_difference(got["records"], expected["records"], ORDER)
    if located:
        name, text = located
        raise Mismatch(
            f"{name}'s output {text}, with the reference's weights and input",
            hint=HINTS.get(name, "compare this layer with torchvision's AlexNet, listed in the docstring"),
        )
    raise Mismatch(
        f"the output {difference}, with the reference's weights and input",
        hint="forward is features, avgpool, torch.flatten(x, 1), classifier: nothing after classifier",
    )


@pytest.mark.points(2)
@pytest.mark.hint("13 layers in features, AdaptiveAvgPool2d((6, 6)), 7 in classifier, with torchvision's sizes")
def test_every_layer_matches_torchvisions_layout(student, reference):
    """every layer has the reference's kind and hyper-parameters (kernels, strides, paddings, pools), no extra layer"""
    spec = model("AlexNet")
    got, expected = ask(student, "describe", spec), ask(reference, "describe", spec)
    difference = module_difference(got["modules"], expected["modules"], names=ORDER, exact=True)
    if difference:
        raise Mismatch(f"AlexNet() {difference}")
    expect_loadable(student, reference, spec)


@pytest.mark.points(1)
@pytest.mark.hint("only the last Linear depends on num_classes: 4096 * num_classes weights and num_classes biases")
@pytest.mark.parametrize("num_classes", [10, 1])
def test_num_classes_changes_only_the_last_layer(student, reference, num_classes):
    """AlexNet(num_classes) has 61,100,840 - 4097 * (1000 - num_classes) parameters and the reference's state dict"""
    spec = model("AlexNet", num_classes=num_classes)
    expect_equal(
        ask(student, "describe", spec)["parameters"],
        61_100_840 - 4097 * (1000 - num_classes),
        what=f"the number of parameters of AlexNet(num_classes={num_classes})",
    )
    expect_loadable(student, reference, spec)


@pytest.mark.points(2)
def test_same_scores_as_the_reference_with_its_weights(student, reference):
    """with the reference's weights, the same scores as the reference on two 224x224 images (eval mode)"""
    expect_same_scores(student, reference, model("AlexNet", num_classes=10), images(2, 224, seed=1))


@pytest.mark.points(1)
@pytest.mark.hint("AdaptiveAvgPool2d((6, 6)) makes any input of at least 63x63 give (256, 6, 6)")
def test_same_scores_on_smaller_images(student, reference):
    """on 100x100 images the adaptive pooling still gives (256, 6, 6): same scores as the reference"""
    expect_same_scores(student, reference, model("AlexNet", num_classes=7), images(3, 100, seed=2))


@pytest.mark.points(1)
@pytest.mark.hint(
    "ReLU (max(0, x)) after each of the 5 convolutions and the 2 hidden Linear layers, none after "
    "the last: the paper found it trains several times faster than tanh"
)
def test_relu_after_every_layer_but_the_last(student, reference):
    """each convolution and hidden fully connected layer is followed by ReLU: max(0, x) of its output"""
    spec = model("AlexNet", num_classes=10)
    expect_loadable(student, reference, spec)
    kinds = {name: kind for name, kind, _, _ in ask(student, "describe", spec)["modules"]}
    for relu, layer in RELUS.items():
        if kinds.get(relu) != "ReLU":
            raise Mismatch(f"{relu} (after {layer}) is {kinds.get(relu, 'missing')}, expected ReLU")
    got = ask(
        student, "forward", spec, images(1, 224, seed=3), {"seed": SEED, "record": list(RELUS) + list(RELUS.values())}
    )
    for relu, layer in RELUS.items():
        if relu in got["records"] and layer in got["records"]:
            difference = array_difference(got["records"][relu], np.maximum(got["records"][layer], 0))
            if difference:
                raise Mismatch(f"{relu}'s output is not max(0, x) of {layer}'s output: it {difference}")


@pytest.mark.points(1)
@pytest.mark.hint(
    "nn.Dropout(p=dropout) before each of the two hidden Linear layers: active in train mode, a no-op in eval mode"
)
def test_dropout_in_the_classifier(student, reference):
    """AlexNet(dropout=0.25): Dropout(p=0.25) at classifier.0 and classifier.3, random in train mode only"""
    spec = model("AlexNet", num_classes=5, dropout=0.25)
    modules = {name: (kind, hyper) for name, kind, hyper, _ in ask(student, "describe", spec)["modules"]}
    for name in ("classifier.0", "classifier.3"):
        kind, hyper = modules.get(name, ("missing", {}))
        if kind != "Dropout" or hyper.get("p") != 0.25:
            raise Mismatch(
                f"{name} of AlexNet(dropout=0.25) is {kind} {hyper.get('p', '')}".rstrip(),
                expected="Dropout with p=0.25",
            )
    x = images(2, 96, seed=4)
    train = ask(student, "forward", spec, x, {"seed": SEED, "train": True, "runs": 2})["outputs"]
    if array_difference(train[0], train[1]) is None:
        raise Mismatch("in train mode, two forward passes gave the same scores: dropout is not active")
    evaluated = ask(student, "forward", spec, x, {"seed": SEED, "runs": 2})["outputs"]
    if array_difference(evaluated[0], evaluated[1]) is not None:
        raise Mismatch("in eval mode, two forward passes gave different scores: dropout must be off in eval mode")


def running_the_layers(size):
    """The shape after each layer of torchvision's features, by running the layers (on the meta device)."""
    from torch import nn

    with torch.device("meta"):
        layers = [
            nn.Conv2d(3, 64, 11, 4, 2),
            nn.ReLU(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(3, 2),
        ]
        x = torch.zeros(1, 3, size, size)
    shapes = []
    for layer in layers:
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    return shapes


@pytest.mark.points(1)
@pytest.mark.hint("apply H' = floor((H - K + 2P) / S) + 1 to every layer of features, pooling included")
def test_alexnet_shapes_agree_with_running_the_layers(student):
    """alexnet_shapes() gives the (C, H, W) after each of the 13 layers, as running them on 224x224 does"""
    expect_shapes(student.alexnet_shapes(), running_the_layers(224))


@pytest.mark.points(1)
@pytest.mark.hint("the size is an argument: apply H' = floor((H - K + 2P) / S) + 1 to it, layer by layer")
@settings(max_examples=6)  # a solution may build AlexNet and run it per call: a few sizes, each a new one
@given(size=st.integers(63, 320))
@example(size=63)
@example(size=227)
def test_alexnet_shapes_for_any_image_size(student, size):
    """alexnet_shapes(size) for sizes from 63 to 320 agrees with running the layers on that size"""
    expect_shapes(student.alexnet_shapes(size), running_the_layers(size))


def expect_shapes(got, expected):
    if not isinstance(got, (list, tuple)) or not all(isinstance(s, (list, tuple)) for s in got):
        raise Mismatch("alexnet_shapes() should return a list of (C, H, W) tuples", got=str(got)[:80])
    got = [tuple(s) for s in got]
    if len(got) != len(expected):
        raise Mismatch(f"alexnet_shapes() has {len(got)} entries, expected one per layer of features (13)")
    for index, (g, e) in enumerate(zip(got, expected)):
        if g != e:
            raise Mismatch(
                f"alexnet_shapes()[{index}], after features.{index} ({KINDS[index]}), is wrong",
                expected=str(e),
                got=str(g),
            )
