"""Only plain data crosses from the student's process, and it arrives as fresh objects of exact types."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis.extra import numpy as hnp

from grader.engine import wire


@given(
    hnp.arrays(
        dtype=hnp.floating_dtypes() | hnp.integer_dtypes() | hnp.boolean_dtypes(),
        shape=hnp.array_shapes(min_dims=0, max_dims=4, max_side=4),
    )
)
def test_arrays_round_trip_exactly(array):
    back = wire.decode(json.loads(json.dumps(wire.encode(array))))
    assert type(back) is np.ndarray and back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_plain_values_keep_their_types():
    value = {"a": (1, 2.5, None, True), "b": [float("nan"), float("inf")], 3: "x"}
    back = wire.decode(json.loads(json.dumps(wire.encode(value))))
    assert back["a"] == (1, 2.5, None, True) and type(back["a"]) is tuple
    assert np.isnan(back["b"][0]) and back["b"][1] == float("inf") and back[3] == "x"


class LyingArray(np.ndarray):
    """An ndarray subclass whose comparisons always say 'equal'."""

    def __eq__(self, other):
        return True


class Liar:
    def __eq__(self, other):
        return True

    def __array__(self, dtype=None, copy=None):
        return np.zeros(3)


@pytest.mark.parametrize(
    "value",
    [Liar(), np.zeros(3).view(LyingArray), np.array([object()])],
    ids=["custom __eq__", "ndarray subclass", "object dtype"],
)
def test_objects_that_could_lie_do_not_cross(value):
    back = wire.decode(wire.encode(value))
    assert isinstance(back, wire.Unsupported)


def test_frames_round_trip_and_eof_is_reported():
    stream = io.BytesIO()
    wire.send_message(stream, {"op": "call", "args": [1]})
    stream.seek(0)
    assert wire.read_message(stream) == {"op": "call", "args": [1]}
    with pytest.raises(EOFError):
        wire.read_message(stream)
