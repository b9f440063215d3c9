"""Hidden suite for lenet: structure against the reference, behaviour with the reference's weights.

Both models get the same weights without any crossing the process boundary:
`fill_state` draws every entry from the seed and the entry's key and shape, on
each side. With equal weights, equal outputs mean equal forward passes: pooling
kind, activations and their order, flattening. A difference is located at the
first layer whose output differs, through forward hooks. The layers are also
run here one by one with torch.nn.functional, an oracle independent of the
reference.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from grader.suite import (
    Mismatch,
    array_difference,
    ask,
    behaviour_difference,
    expect_equal,
    fill_values,
    model,
    module_difference,
    state_difference,
)

ORDER = ["conv1", "pool1", "conv2", "pool2", "fc1", "fc2", "fc3"]
HINTS = {
    "conv1": "conv1 is Conv2d(1, 6, kernel_size=5) applied to the input image",
    "pool1": "pool1 averages (not max) each 2x2 window of tanh(conv1(x))",
    "conv2": "conv2 takes pool1's output as it is: the tanh comes before the pooling",
    "pool2": "pool2 averages each 2x2 window of tanh(conv2(...))",
    "fc1": "flatten pool2's (N, 16, 5, 5) output in PyTorch's order, torch.flatten(x, 1), before fc1",
    "fc2": "fc2 takes tanh(fc1(...))",
    "fc3": "fc3 takes tanh(fc2(...))",
}
SHAPES = {
    "conv1.weight": (6, 1, 5, 5),
    "conv1.bias": (6,),
    "conv2.weight": (16, 6, 5, 5),
    "conv2.bias": (16,),
    "fc1.weight": (120, 400),
    "fc1.bias": (120,),
    "fc2.weight": (84, 120),
    "fc2.bias": (84,),
}
SEED = 0


def images(n, seed):
    return np.random.default_rng(seed).standard_normal((n, 1, 32, 32)).astype(np.float32)


def expect_loadable(student, reference, spec):
    """The reference's weights fit the student's model: same state-dict keys and shapes."""
    difference = state_difference(ask(student, "describe", spec)["state"], ask(reference, "describe", spec)["state"])
    if difference:
        raise Mismatch(
            f"the reference's weights do not fit your model: its state dict {difference}",
            hint="use the attribute names conv1, conv2, fc1, fc2, fc3 and the tutorial's layer sizes",
        )


def expect_same_outputs(student, reference, spec, x):
    """Outputs equal to the reference's with its weights; else name the first layer that differs."""
    expect_loadable(student, reference, spec)
    found = behaviour_difference(student, reference, spec, x, ORDER, {"seed": SEED})
    if found is None:
        return
    if found.name is None:
        raise Mismatch(
            f"the model's output {found.text}, with the reference's weights and input",
            details=(f"the layers that ran as modules match ({', '.join(found.matching)})",),
            hint="forward returns fc3's scores as they are: no activation or softmax after fc3",
        )
    what = found.name if found.input_differs else f"{found.name}'s output"
    raise Mismatch(
        f"{what} {found.text}, with the reference's weights and input",
        details=(f"the layers before it match ({', '.join(found.matching)})",) if found.matching else (),
        hint=HINTS[found.name],
    )


@pytest.mark.points(2)
@pytest.mark.hint("LeNet5 has exactly conv1, pool1, conv2, pool2, fc1, fc2, fc3, with the tutorial's sizes")
def test_layers_and_weights_match_the_reference(student, reference):
    """every layer has the reference's kind and hyper-parameters, and no extra weights"""
    spec = model("LeNet5")
    got, expected = ask(student, "describe", spec), ask(reference, "describe", spec)
    difference = module_difference(got["modules"], expected["modules"], names=ORDER)
    if difference:
        raise Mismatch(f"LeNet5() {difference}")
    expect_loadable(student, reference, spec)


@pytest.mark.points(1)
@pytest.mark.hint("only fc3 depends on num_classes: 84 * num_classes weights and num_classes biases")
@pytest.mark.parametrize("num_classes", [1, 43])
def test_parameter_count_follows_num_classes(student, num_classes):
    """LeNet5(num_classes) has 61,706 + 85 * (num_classes - 10) parameters"""
    got = ask(student, "describe", model("LeNet5", num_classes=num_classes))["parameters"]
    expect_equal(got, 61706 + 85 * (num_classes - 10), what=f"the number of parameters of LeNet5({num_classes})")


@pytest.mark.points(2)
def test_same_scores_as_the_reference_with_its_weights(student, reference):
    """with the reference's weights, the same scores as the reference (eval mode)"""
    expect_same_outputs(student, reference, model("LeNet5"), images(3, seed=1))


@pytest.mark.points(1)
def test_same_scores_with_four_classes(student, reference):
    """LeNet5(num_classes=4) with the reference's weights gives the reference's scores"""
    expect_same_outputs(student, reference, model("LeNet5", num_classes=4), images(5, seed=2))


def tutorial_lenet(x):
    """The tutorial's LeNet-5, layer by layer with torch.nn.functional, on weights from `fill_values`."""
    w = {key: fill_values(key, shape, SEED) for key, shape in SHAPES.items()}
    w["fc3.weight"], w["fc3.bias"] = fill_values("fc3.weight", (10, 84), SEED), fill_values("fc3.bias", (10,), SEED)
    x = F.avg_pool2d(torch.tanh(F.conv2d(x, w["conv1.weight"], w["conv1.bias"])), 2)
    x = F.avg_pool2d(torch.tanh(F.conv2d(x, w["conv2.weight"], w["conv2.bias"])), 2)
    x = torch.tanh(F.linear(x.reshape(x.shape[0], 400), w["fc1.weight"], w["fc1.bias"]))
    x = torch.tanh(F.linear(x, w["fc2.weight"], w["fc2.bias"]))
    return F.linear(x, w["fc3.weight"], w["fc3.bias"]).numpy()


@pytest.mark.points(2)
@pytest.mark.hint("conv1, tanh, avg pool, conv2, tanh, avg pool, flatten, fc1, tanh, fc2, tanh, fc3")
def test_agrees_with_the_tutorial_computed_layer_by_layer(student):
    """agrees with the tutorial's LeNet-5 computed here with torch.nn.functional"""
    x = images(4, seed=3)
    expected = tutorial_lenet(torch.from_numpy(x))
    state = [(key, shape) for key, shape in SHAPES.items()] + [("fc3.weight", (10, 84)), ("fc3.bias", (10,))]
    difference = state_difference(ask(student, "describe", model("LeNet5"))["state"], state)
    if difference:
        raise Mismatch(f"LeNet5's weights cannot be set for this check: its state dict {difference}")
    got = ask(student, "forward", model("LeNet5"), x, {"seed": SEED})["outputs"][0]
    difference = array_difference(got, expected)
    if difference:
        raise Mismatch(
            f"LeNet5's output {difference}, compared with conv2d, tanh, avg_pool2d and linear "
            f"applied in the tutorial's order"
        )


@pytest.mark.points(1)
@pytest.mark.hint("flatten with torch.flatten(x, 1) or x.view(x.size(0), -1): keep the batch axis apart")
def test_each_image_is_scored_on_its_own(student):
    """an image's scores do not depend on the other images in the batch"""
    x = images(5, seed=4)
    batch = ask(student, "forward", model("LeNet5"), x, {"seed": SEED})["outputs"][0]
    if getattr(batch, "shape", None) != (5, 10):
        raise Mismatch(
            "the output for a batch of 5 images has the wrong shape",
            expected="(5, 10)",
            got=str(getattr(batch, "shape", batch)),
        )
    alone = ask(student, "forward", model("LeNet5"), x[2:3], {"seed": SEED})["outputs"][0]
    difference = array_difference(batch[2:3], alone)
    if difference:
        raise Mismatch(
            "image 2's scores in a batch of 5 differ from its scores when it is scored alone",
            details=(f"row 2 of the batch's output {difference}",),
        )
