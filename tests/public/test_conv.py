"""Public tests for exercises/conv.py: small cases you can check by hand.

Run them with `grader grade conv --public-only`. `student` is your module,
called in a separate process; `checks` compares results and says what differs.
"""

import numpy as np
import pytest

from grader.suite import expect_array, expect_raises


@pytest.mark.points(1)
def test_zero_pad_adds_a_border_of_zeros(student):
    """zero_pad adds p rows and columns of zeros on every side"""
    x = np.arange(4, dtype=np.float64).reshape(1, 1, 2, 2)
    expected = np.array([[[[0, 0, 0, 0], [0, 0, 1, 0], [0, 2, 3, 0], [0, 0, 0, 0]]]], dtype=np.float64)
    expect_array(student.zero_pad(x, 1), expected)


@pytest.mark.points(1)
@pytest.mark.hint("a pair (ph, pw) pads rows by ph and columns by pw")
def test_zero_pad_accepts_a_pair(student):
    """zero_pad with a pair pads rows and columns differently"""
    x = np.ones((2, 3, 2, 2), dtype=np.float32)
    got = student.zero_pad(x, (0, 2))
    expected = np.pad(x, ((0, 0), (0, 0), (0, 0), (2, 2)))
    expect_array(got, expected)


@pytest.mark.points(1)
@pytest.mark.hint("cross-correlation: slide the kernel without flipping it; each output is a sum of products")
def test_one_channel_by_hand(student):
    """a 3x3 input and a 2x2 kernel, worked out by hand"""
    x = np.array([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]], dtype=np.float64)
    w = np.array([[[[1, 0], [0, -1]]]], dtype=np.float64)
    # y[i, j] = x[i, j] - x[i+1, j+1]
    expected = np.array([[[[-4, -4], [-4, -4]]]], dtype=np.float64)
    expect_array(student.conv2d_forward(x, w), expected)


@pytest.mark.points(1)
@pytest.mark.hint("every output channel has its own bias, added to every position")
def test_bias_is_added_per_output_channel(student):
    """bias b[f] is added to every position of output channel f"""
    x = np.zeros((1, 1, 3, 3), dtype=np.float64)
    w = np.ones((2, 1, 3, 3), dtype=np.float64)
    b = np.array([1.5, -2.0])
    expected = np.array([[[[1.5]], [[-2.0]]]])
    expect_array(student.conv2d_forward(x, w, b), expected)


@pytest.mark.points(1)
@pytest.mark.hint("H' = floor((H - K + 2P) / S) + 1")
def test_stride_and_padding_give_the_formula_size(student):
    """5x5 input, 3x3 kernel, stride 2, padding 1: output 3x3"""
    x = np.ones((1, 1, 5, 5), dtype=np.float64)
    w = np.ones((1, 1, 3, 3), dtype=np.float64)
    got = student.conv2d_forward(x, w, stride=2, padding=1)
    # corners see 4 ones, edges 6, the centre 9
    expected = np.array([[[[4, 6, 4], [6, 9, 6], [4, 6, 4]]]], dtype=np.float64)
    expect_array(got, expected)


@pytest.mark.points(1)
@pytest.mark.hint("'same' at stride 1 pads K - 1 in total; PyTorch puts the odd pixel after")
def test_same_padding_keeps_the_size(student):
    """padding='same' keeps a 4x4 input 4x4, even with a 2x2 kernel"""
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    w = np.ones((1, 1, 2, 2), dtype=np.float64)
    got = student.conv2d_forward(x, w, padding="same")
    x_pad = np.pad(x, ((0, 0), (0, 0), (0, 1), (0, 1)))
    expected = x_pad[:, :, :-1, :-1] + x_pad[:, :, 1:, :-1] + x_pad[:, :, :-1, 1:] + x_pad[:, :, 1:, 1:]
    expect_array(got, expected)


@pytest.mark.points(1)
def test_same_padding_refuses_stride_two(student):
    """padding='same' with stride 2 raises ValueError, as PyTorch does"""
    x = np.ones((1, 1, 4, 4))
    w = np.ones((1, 1, 3, 3))
    expect_raises(ValueError, student.conv2d_forward, x, w, stride=2, padding="same")


@pytest.mark.points(1)
def test_kernel_larger_than_input_is_refused(student):
    """a 5x5 kernel on a 3x3 input without padding raises ValueError"""
    x = np.ones((1, 1, 3, 3))
    w = np.ones((1, 1, 5, 5))
    expect_raises(ValueError, student.conv2d_forward, x, w)
