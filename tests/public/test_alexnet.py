"""Public tests for exercises/alexnet.py: the published numbers of torchvision's AlexNet.

Run them with `grader grade alexnet --public-only`. Your model is built in a
separate process; the grader reads its parameters, state dict and outputs.

Why 61,100,840 and not the paper's "60M"? The paper trained on two GPUs: each
layer's filters were split in two halves (96 = 2 x 48 in the first layer) and
some layers only saw their own GPU's half of the channels, which removes
weights. torchvision follows Krizhevsky's later one-GPU version
(64, 192, 384, 256, 256 filters, every layer seeing every channel).
"""

import numpy as np
import pytest

from grader.suite import Mismatch, ask, expect_equal, model, state_difference

# torchvision's AlexNet state dict: the keys pretrained weights are stored under.
STATE = [
    ("features.0.weight", (64, 3, 11, 11)),
    ("features.0.bias", (64,)),
    ("features.3.weight", (192, 64, 5, 5)),
    ("features.3.bias", (192,)),
    ("features.6.weight", (384, 192, 3, 3)),
    ("features.6.bias", (384,)),
    ("features.8.weight", (256, 384, 3, 3)),
    ("features.8.bias", (256,)),
    ("features.10.weight", (256, 256, 3, 3)),
    ("features.10.bias", (256,)),
    ("classifier.1.weight", (4096, 9216)),
    ("classifier.1.bias", (4096,)),
    ("classifier.4.weight", (4096, 4096)),
    ("classifier.4.bias", (4096,)),
    ("classifier.6.weight", (1000, 4096)),
    ("classifier.6.bias", (1000,)),
]


@pytest.mark.points(1)
@pytest.mark.hint(
    "conv: C_out * (C_in * K * K + 1); linear: out * (in + 1); the first linear layer has 256 * 6 * 6 inputs"
)
def test_parameter_count_is_torchvisions(student):
    """AlexNet() has 61,100,840 parameters, as torchvision's"""
    expect_equal(
        ask(student, "describe", model("AlexNet"))["parameters"],
        61_100_840,
        what="the number of parameters of AlexNet()",
    )


@pytest.mark.points(1)
@pytest.mark.hint(
    "features = nn.Sequential of the 13 layers in order (ReLU and pooling take an index too); "
    "classifier = Dropout, Linear, ReLU, Dropout, Linear, ReLU, Linear"
)
def test_state_dict_keys_are_torchvisions(student):
    """the state dict has torchvision's keys and shapes, features.0.weight to classifier.6.bias"""
    difference = state_difference(ask(student, "describe", model("AlexNet"))["state"], STATE)
    if difference:
        raise Mismatch(f"AlexNet()'s state dict {difference}")


@pytest.mark.points(1)
@pytest.mark.hint("features, then avgpool to (256, 6, 6), then torch.flatten(x, 1), then classifier")
def test_scores_for_a_batch_of_two_images(student):
    """AlexNet(num_classes=10) maps two 224x224 RGB images to scores of shape (2, 10)"""
    x = np.random.default_rng(0).standard_normal((2, 3, 224, 224)).astype(np.float32)
    scores = ask(student, "forward", model("AlexNet", num_classes=10), x)["outputs"][0]
    expect_equal(getattr(scores, "shape", scores), (2, 10), what="the shape of the scores")


@pytest.mark.points(1)
@pytest.mark.hint("H' = floor((H - K + 2P) / S) + 1: (224 - 11 + 2 * 2) // 4 + 1 = 55")
def test_alexnet_shapes_classic_numbers(student):
    """alexnet_shapes(): 13 entries, 55x55 after the first convolution, (256, 6, 6) at the end"""
    shapes = student.alexnet_shapes()
    if not isinstance(shapes, (list, tuple)) or not all(isinstance(s, (list, tuple)) and len(s) == 3 for s in shapes):
        raise Mismatch("alexnet_shapes() should return a list of (C, H, W) tuples", got=str(shapes)[:80])
    expect_equal(len(shapes), 13, what="the number of layers in features")
    expect_equal(tuple(shapes[0]), (64, 55, 55), what="the shape after the first convolution")
    expect_equal(tuple(shapes[-1]), (256, 6, 6), what="the shape at the end of features")


@pytest.mark.points(1)
@pytest.mark.hint("the tutorial's '8 layers' counts the layers with weights: 5 convolutions and 3 fully connected")
def test_eight_layers_with_weights(student):
    """AlexNet has 8 layers with weights: 5 Conv2d and 3 Linear"""
    modules = ask(student, "describe", model("AlexNet"))["modules"]
    kinds = [kind for _, kind, _, own in modules if own]
    expect_equal(kinds.count("Conv2d"), 5, what="the number of Conv2d layers")
    expect_equal(kinds.count("Linear"), 3, what="the number of Linear layers")
    expect_equal(len(kinds), 8, what="the number of layers with weights")
