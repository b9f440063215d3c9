"""Public tests for exercises/shapes.py: the tutorial's own examples, checked by hand.

Run them with `grader grade shapes --public-only`. `student` is your module,
called in a separate process. output_shape and receptive_field receive real
torch.nn layers: the tests describe a stack as (layer name, arguments) pairs,
and the layers are built in your process and handed to your function.
"""

import pytest

from grader.suite import Mismatch, call_on_layers, expect_equal

PRACTICE_EXERCISE_1 = [
    ("Conv2d", {"in_channels": 3, "out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3}),
    ("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
    ("Conv2d", {"in_channels": 64, "out_channels": 128, "kernel_size": 3, "stride": 1, "padding": 1}),
]


def conv3x3(channels):
    return ("Conv2d", {"in_channels": channels, "out_channels": channels, "kernel_size": 3, "padding": 1})


def expect_computed(student, function, layers, *args, expected):
    """`function` on the layers must return `expected`, without running the layers."""
    got, ran = call_on_layers(student, function, layers, *args)
    if ran:
        raise Mismatch(
            f"{function} ran the layers ({', '.join(ran)}): compute the result from their "
            "hyper-parameters (kernel_size, stride, padding, ...) instead"
        )
    expect_equal(got, expected, what="the output shape" if function == "output_shape" else "the receptive field")


@pytest.mark.points(1)
@pytest.mark.hint("floor((W - K + 2P) / S) + 1, with integer division")
def test_conv_output_size_by_the_formula(student):
    """conv_output_size: 224 through a 7x7 stride-2 padding-3 conv gives 112; 32 through 5x5 gives 28"""
    expect_equal(student.conv_output_size(224, 7, stride=2, padding=3), 112)
    expect_equal(student.conv_output_size(32, 5), 28)
    expect_equal(student.conv_output_size(5, 3, stride=2, padding=1), 3)
    expect_equal(student.conv_output_size(6, 3, stride=2), 2)


@pytest.mark.points(1)
@pytest.mark.hint("a kernel K dilated by D spans D * (K - 1) + 1 pixels")
def test_conv_output_size_with_dilation(student):
    """conv_output_size of a 3x3 kernel with dilation 2 (it spans 5 pixels) on 10 pixels is 6"""
    expect_equal(student.conv_output_size(10, 3, dilation=2), 6)
    expect_equal(student.conv_output_size(10, 3, padding=2, dilation=2), 10)


@pytest.mark.points(1)
@pytest.mark.hint("pooling uses the same floor formula; without a stride the stride is the kernel")
def test_pool_output_size_floor_mode(student):
    """pool_output_size: 112 through MaxPool2d(3, stride=2, padding=1) is 56; 7 through a 2x2 pool is 3"""
    expect_equal(student.pool_output_size(112, 3, stride=2, padding=1), 56)
    expect_equal(student.pool_output_size(7, 2), 3)


@pytest.mark.points(1)
@pytest.mark.hint("ceil mode rounds up, but PyTorch drops a last window that would start in the right padding")
def test_pool_output_size_ceil_mode(student):
    """pool_output_size in ceil mode: 7 with a 2x2 pool gives 4; 5 with kernel 2, stride 2, padding 1 gives 3"""
    expect_equal(student.pool_output_size(7, 2, ceil_mode=True), 4)
    # ceil((5 + 2 - 2) / 2) + 1 = 4, but the 4th window would start at 6, in the right padding
    expect_equal(student.pool_output_size(5, 2, stride=2, padding=1, ceil_mode=True), 3)


@pytest.mark.points(1)
@pytest.mark.hint("stride 1 'same': total D * (K - 1), before = total // 2, the odd pixel after")
def test_same_padding(student):
    """same_padding: (1, 1) for 3x3, (1, 2) for 4x4 (odd pixel after), (2, 2) for 3x3 with dilation 2"""
    expect_equal(student.same_padding(3), (1, 1))
    expect_equal(student.same_padding(4), (1, 2))
    expect_equal(student.same_padding(3, dilation=2), (2, 2))
    expect_equal(student.same_padding(1), (0, 0))


@pytest.mark.points(1)
@pytest.mark.hint("out_ch * in_ch * KH * KW weights, plus one bias per output channel")
def test_conv_params(student):
    """conv_params: Conv2d(3, 64, 3) has 1,792 parameters, 1,728 without bias"""
    expect_equal(student.conv_params(3, 64, 3), 1792)
    expect_equal(student.conv_params(3, 64, 3, bias=False), 1728)
    expect_equal(student.conv_params(16, 32, (1, 5)), 2592)


@pytest.mark.points(1)
@pytest.mark.section("Output Size Formula")
@pytest.mark.hint("apply the output size formula layer after layer: 224 -> 112 -> 56 -> 56")
def test_output_shape_of_practice_exercise_1(student):
    """output_shape of the tutorial's practice exercise 1: (3, 224, 224) becomes (128, 56, 56)"""
    expect_computed(student, "output_shape", PRACTICE_EXERCISE_1, (3, 224, 224), expected=(128, 56, 56))


@pytest.mark.points(1)
@pytest.mark.section("Output Size Formula")
@pytest.mark.hint("Flatten turns (C, H, W) into (C * H * W,); Linear changes the last size to out_features")
def test_output_shape_of_lenet5(student):
    """output_shape of LeNet-5 on a (1, 32, 32) image: (16, 5, 5) before Flatten, then (10,)"""
    features = [
        ("Conv2d", {"in_channels": 1, "out_channels": 6, "kernel_size": 5}),
        ("Tanh", {}),
        ("AvgPool2d", {"kernel_size": 2}),
        ("Conv2d", {"in_channels": 6, "out_channels": 16, "kernel_size": 5}),
        ("Tanh", {}),
        ("AvgPool2d", {"kernel_size": 2}),
    ]
    classifier = [
        ("Flatten", {}),
        ("Linear", {"in_features": 400, "out_features": 120}),
        ("Tanh", {}),
        ("Linear", {"in_features": 120, "out_features": 84}),
        ("Tanh", {}),
        ("Linear", {"in_features": 84, "out_features": 10}),
    ]
    expect_computed(student, "output_shape", features, (1, 32, 32), expected=(16, 5, 5))
    expect_computed(
        student, "output_shape", [("Sequential", features), ("Sequential", classifier)], (1, 32, 32), expected=(10,)
    )


@pytest.mark.points(1)
@pytest.mark.section("Output Size Formula")
@pytest.mark.hint("r = 1 + sum (k_i - 1) * (product of the strides before layer i): 1 + 6 + 2*2 + 2*4 = 19")
def test_receptive_field_of_practice_exercise_1(student):
    """receptive_field of the practice exercise's stack is 19 input pixels"""
    expect_computed(student, "receptive_field", PRACTICE_EXERCISE_1, expected=19)


@pytest.mark.points(1)
@pytest.mark.section("VGGNet (2014)")
@pytest.mark.hint("each stride-1 3x3 layer widens the view by 2: n stacked layers see 2n + 1")
def test_receptive_field_of_stacked_3x3(student):
    """receptive_field of 1, 2 and 3 stacked 3x3 convolutions: 3, 5 and 7, as in VGG"""
    for n in (1, 2, 3):
        layers = [layer for _ in range(n) for layer in (conv3x3(8), ("ReLU", {}))]
        expect_computed(student, "receptive_field", layers, expected=2 * n + 1)
