"""Public tests for exercises/lenet.py: LeNet-5's layers, size and output shape.

Run them with `grader grade lenet --public-only`. Your model is built in a
separate process from a description such as `model("LeNet5", num_classes=3)`;
`models.ask` returns what it is made of and what it computes, as plain data.
"""

import numpy as np
import pytest

from grader.suite import Mismatch, array_difference, ask, expect_equal, model, module_difference

LAYERS = [  # (name, class, hyper-parameters that matter)
    ("conv1", "Conv2d", {"in_channels": 1, "out_channels": 6, "kernel_size": (5, 5), "stride": (1, 1)}),
    ("pool1", "AvgPool2d", {"kernel_size": (2, 2), "stride": (2, 2)}),
    ("conv2", "Conv2d", {"in_channels": 6, "out_channels": 16, "kernel_size": (5, 5), "stride": (1, 1)}),
    ("pool2", "AvgPool2d", {"kernel_size": (2, 2), "stride": (2, 2)}),
    ("fc1", "Linear", {"in_features": 400, "out_features": 120}),
    ("fc2", "Linear", {"in_features": 120, "out_features": 84}),
    ("fc3", "Linear", {"in_features": 84, "out_features": 10}),
]


def images(n, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 1, 32, 32)).astype(np.float32)


@pytest.mark.points(1)
@pytest.mark.hint("conv1 (1->6, 5x5), pool1 AvgPool2d(2), conv2 (6->16, 5x5), pool2, fc1 400->120, fc2 120->84, fc3")
def test_layers_have_the_tutorials_names_and_sizes(student):
    """LeNet5() has conv1, pool1, conv2, pool2, fc1, fc2, fc3 with the tutorial's sizes"""
    got = ask(student, "describe", model("LeNet5"))["modules"]
    expected = [(name, kind, hyper, 0) for name, kind, hyper in LAYERS]
    difference = module_difference(got, expected)
    if difference:
        raise Mismatch(f"LeNet5() {difference}")


@pytest.mark.points(1)
@pytest.mark.hint("156 + 2,416 + 48,120 + 10,164 + 850: weights and biases of the five layers")
def test_has_61706_parameters(student):
    """LeNet5() has 61,706 parameters"""
    expect_equal(
        ask(student, "describe", model("LeNet5"))["parameters"], 61706, what="the number of parameters of LeNet5()"
    )


@pytest.mark.points(1)
@pytest.mark.hint("32x32 -> 28 -> 14 -> 10 -> 5, so fc1 sees 16 * 5 * 5 = 400 features per image")
def test_scores_one_row_per_image(student):
    """a batch of four 1x32x32 images gives scores of shape (4, 10)"""
    output = ask(student, "forward", model("LeNet5"), images(4), {"seed": None})["outputs"][0]
    expect_equal(getattr(output, "shape", None), (4, 10), what="the output's shape")


@pytest.mark.points(1)
@pytest.mark.hint("fc3 has num_classes outputs")
def test_num_classes_sets_the_output_size(student):
    """LeNet5(num_classes=3) gives scores of shape (4, 3)"""
    output = ask(student, "forward", model("LeNet5", num_classes=3), images(4), {"seed": None})["outputs"][0]
    expect_equal(getattr(output, "shape", None), (4, 3), what="the output's shape")


@pytest.mark.points(1)
@pytest.mark.hint("average each 2x2 window of tanh(conv1(x)): the activation comes before the pooling")
def test_conv2_sees_the_average_pooled_tanh_of_conv1(student):
    """conv2's input is the 2x2 average of tanh(conv1's output)"""
    result = ask(student, "forward", model("LeNet5"), images(2), {"record": ["conv1"], "record_inputs": ["conv2"]})
    conv1, conv2_input = result["records"].get("conv1"), result["inputs"].get("conv2")
    if conv1 is None or conv2_input is None:
        raise Mismatch("conv1 and conv2 should both run in forward", got="conv1 or conv2 never ran")
    if getattr(conv1, "shape", None) != (2, 6, 28, 28):
        raise Mismatch(
            "conv1's output has the wrong shape for a (2, 1, 32, 32) input",
            expected="(2, 6, 28, 28)",
            got=str(getattr(conv1, "shape", conv1)),
        )
    expected = np.tanh(conv1).reshape(2, 6, 14, 2, 14, 2).mean(axis=(3, 5))
    difference = array_difference(conv2_input, expected)
    if difference:
        raise Mismatch(f"conv2's input {difference}", expected="the mean of each 2x2 window of tanh(conv1's output)")
