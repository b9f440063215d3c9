"""Public tests for exercises/pooling.py: small cases you can check by hand.

Run them with `grader grade pooling --public-only`. `student` is your module,
called in a separate process; `checks` compares results and says what differs.
"""

import numpy as np
import pytest

from grader.suite import expect_array, expect_raises


@pytest.mark.points(1)
@pytest.mark.hint("without a stride the windows sit side by side: the stride is the kernel")
def test_max_pool_by_hand(student):
    """max_pool2d with a 2x2 kernel keeps the largest value of each 2x2 block"""
    x = np.array([[[[1, 3, 2, 0], [4, 2, 1, 5], [0, 1, 7, 2], [3, 6, 1, 1]]]], dtype=np.float64)
    expected = np.array([[[[4, 5], [6, 7]]]], dtype=np.float64)
    expect_array(student.max_pool2d(x, 2), expected)


@pytest.mark.points(1)
@pytest.mark.hint("PyTorch pads max pooling with -inf: a padded border must never win over negative values")
def test_max_pool_padding_never_wins(student):
    """max_pool2d on negative values with padding=1: the padding is not a zero that wins"""
    x = -np.arange(1, 10, dtype=np.float64).reshape(1, 1, 3, 3)
    # windows of 2x2 with stride 1 over the padded input; each keeps its largest real value
    expected = -np.array([[[[1, 1, 2, 3], [1, 1, 2, 3], [4, 4, 5, 6], [7, 7, 8, 9]]]], dtype=np.float64)
    expect_array(student.max_pool2d(x, 2, stride=1, padding=1), expected)


@pytest.mark.points(1)
@pytest.mark.hint("with stride 1 the windows overlap: each output is the mean of its own 2x2 window")
def test_avg_pool_overlapping_windows(student):
    """avg_pool2d with a 2x2 kernel and stride 1 averages overlapping windows"""
    x = np.array([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]], dtype=np.float64)
    expected = np.array([[[[3, 4], [6, 7]]]], dtype=np.float64)
    expect_array(student.avg_pool2d(x, 2, stride=1), expected)


@pytest.mark.points(1)
@pytest.mark.hint("PyTorch's default counts the padded zeros: divide every window by KH * KW")
def test_avg_pool_counts_the_padding(student):
    """avg_pool2d with padding=1 divides every window by 4, padded zeros included"""
    x = np.full((1, 1, 2, 2), 4.0)
    # a 2x2 window at each corner of the padded 4x4 input holds one real 4 and three zeros
    expected = np.full((1, 1, 2, 2), 1.0)
    expect_array(student.avg_pool2d(x, 2, padding=1), expected)


@pytest.mark.points(1)
@pytest.mark.hint("GAP averages over H and W only: (N, C, H, W) -> (N, C)")
def test_global_avg_pool(student):
    """global_avg_pool turns each feature map of a (2, 3, 2, 2) batch into its mean"""
    x = np.arange(24, dtype=np.float64).reshape(2, 3, 2, 2)
    expected = np.array([[1.5, 5.5, 9.5], [13.5, 17.5, 21.5]])
    expect_array(student.global_avg_pool(x), expected)


@pytest.mark.points(1)
def test_padding_over_half_the_kernel_is_refused(student):
    """max_pool2d and avg_pool2d refuse padding=2 with a 3x3 kernel (ValueError), as PyTorch does"""
    x = np.ones((1, 1, 4, 4))
    expect_raises(ValueError, student.max_pool2d, x, 3, padding=2)
    expect_raises(ValueError, student.avg_pool2d, x, 3, padding=2)
