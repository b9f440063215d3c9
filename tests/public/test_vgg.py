"""Public tests for exercises/vgg.py: configurations, layer order, parameter counts, output shape.

Run them with `grader grade vgg --public-only`. Your models are built in a
separate process from descriptions such as `model("vgg", "vgg16")`; the large
ones on PyTorch's meta device, which gives shapes and counts without memory.
"""

import dataclasses

import numpy as np
import pytest

from grader.suite import Mismatch, NotImplementedYet, ask, expect_equal, model, module_difference

CONV = {"kernel_size": (3, 3), "stride": (1, 1), "padding": (1, 1)}
POOL = {"kernel_size": (2, 2), "stride": (2, 2)}


def layers(*entries):
    """A `describe` module list for an nn.Sequential: ("Conv2d", {...}), ... numbered from 0."""
    return [(str(i), kind, hyper, 0) for i, (kind, hyper) in enumerate(entries)]


def configs_of(student):
    """The student's VGG_CONFIGS; the stub's empty dict counts as not implemented yet."""
    configs = student.probe("models.constant", "VGG_CONFIGS")
    student.last_call = dataclasses.replace(student.last_call, function="VGG_CONFIGS", description="VGG_CONFIGS")
    if configs == {}:
        raise NotImplementedYet("VGG_CONFIGS is empty")
    return configs


@pytest.mark.points(1)
@pytest.mark.hint("configuration A of the paper: 8 convolutions, a max pool after each block")
def test_vgg11_configuration(student):
    """VGG_CONFIGS['vgg11'] is the paper's configuration A"""
    configs = configs_of(student)
    got = configs.get("vgg11") if isinstance(configs, dict) else configs
    expect_equal(
        list(got) if isinstance(got, tuple) else got,  # a tuple is as good as a list
        [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
        what="VGG_CONFIGS['vgg11']",
    )


@pytest.mark.points(1)
@pytest.mark.hint('each int c adds Conv2d(C_in, c, 3, padding=1) and ReLU; "M" adds MaxPool2d(2, 2)')
def test_make_features_conv_relu_pool(student):
    """make_features([64, 'M']) is Conv2d(3, 64, 3, padding=1), ReLU, MaxPool2d(2, 2)"""
    spec = model("make_features", [64, "M"])
    expected = layers(("Conv2d", {"in_channels": 3, "out_channels": 64, **CONV}), ("ReLU", {}), ("MaxPool2d", POOL))
    difference = module_difference(ask(student, "describe", spec)["modules"], expected, exact=True)
    if difference:
        raise Mismatch(f"make_features([64, 'M']) {difference}")


@pytest.mark.points(1)
@pytest.mark.hint("with batch_norm=True, BatchNorm2d comes right after its convolution, before the ReLU")
def test_make_features_with_batch_norm(student):
    """make_features([64, 'M'], batch_norm=True) is Conv2d, BatchNorm2d, ReLU, MaxPool2d"""
    spec = model("make_features", [64, "M"], batch_norm=True)
    expected = layers(
        ("Conv2d", {"in_channels": 3, "out_channels": 64, **CONV}),
        ("BatchNorm2d", {"num_features": 64}),
        ("ReLU", {}),
        ("MaxPool2d", POOL),
    )
    difference = module_difference(ask(student, "describe", spec)["modules"], expected, exact=True)
    if difference:
        raise Mismatch(f"make_features([64, 'M'], batch_norm=True) {difference}")


@pytest.mark.points(1)
@pytest.mark.hint("vgg16 = 13 convolutions (14,714,688 parameters) + 3 linear layers (123,642,856)")
def test_vgg16_has_138357544_parameters(student):
    """vgg('vgg16') has 138,357,544 parameters"""
    expect_equal(
        ask(student, "describe", model("vgg", "vgg16"))["parameters"],
        138357544,
        what="the number of parameters of vgg('vgg16')",
    )


@pytest.mark.points(1)
@pytest.mark.hint("name the parts features, avgpool, classifier and keep ReLU and Dropout inside the Sequentials")
def test_vgg16_state_dict_keys_are_torchvisions(student):
    """vgg('vgg16')'s state dict has torchvision's keys: features.0.weight ... classifier.6.bias"""
    state = dict(ask(student, "describe", model("vgg", "vgg16"))["state"])
    for key, shape in [
        ("features.0.weight", (64, 3, 3, 3)),
        ("features.28.bias", (512,)),
        ("classifier.0.weight", (4096, 25088)),
        ("classifier.3.weight", (4096, 4096)),
        ("classifier.6.bias", (1000,)),
    ]:
        if key not in state:
            raise Mismatch(
                f"vgg('vgg16')'s state dict has no entry {key!r}",
                details=(f"its keys: {', '.join(list(state)[:3])}, ...",),
            )
        expect_equal(state[key], shape, what=f"the shape of state-dict entry {key!r}")


@pytest.mark.points(1)
@pytest.mark.hint("AdaptiveAvgPool2d((7, 7)) turns any feature map into 512 x 7 x 7 = 25,088 features")
def test_small_images_give_one_row_of_scores_each(student):
    """vgg('vgg11', num_classes=10) scores a batch of two 32x32 images with shape (2, 10)"""
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    output = ask(student, "forward", model("vgg", "vgg11", num_classes=10), x)["outputs"][0]
    expect_equal(getattr(output, "shape", None), (2, 10), what="the output's shape")


@pytest.mark.points(1)
@pytest.mark.hint("add p.numel() over model.parameters()")
def test_count_parameters_of_a_small_model(student):
    """count_parameters(nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))) is 224 + 16 = 240"""
    spec = model("torch.nn.Sequential", model("torch.nn.Conv2d", 3, 8, 3), model("torch.nn.BatchNorm2d", 8))
    expect_equal(
        ask(student, "call_with_model", spec, "count_parameters"),
        240,
        what="count_parameters(nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8)))",
    )
