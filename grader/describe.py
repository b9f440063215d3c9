"""Short, student-facing descriptions of values and calls.

Feedback names the call a test made in the student's terms:
`conv2d_forward(x=float64 (2, 3, 5, 4), weight=float64 (2, 3, 3, 3), stride=(2, 1))`.
Arrays show dtype and shape, and their values only when they are tiny, so a
message stays a few lines long whatever the case size.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.engine.wire import Unsupported, describe_type

#: Arrays with at most this many elements are shown in full.
SMALL_ARRAY = 9


def describe_value(value: Any) -> str:
    if isinstance(value, np.ndarray):
        head = f"{value.dtype} {tuple(value.shape)}"
        if value.size <= SMALL_ARRAY:
            return f"{head} {np.array2string(value.ravel(), precision=3, separator=', ')}"
        if value.dtype.kind in "fiu" and value.size and (value < 0).any():
            return f"{head} with negative values"
        return head
    if isinstance(value, np.generic):
        return describe_value(value.item())
    if isinstance(value, Unsupported):
        return f"<{value.type_name}>"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(describe_value(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(describe_value(v) for v in value) + "]"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def describe_call(function: str, args: tuple, kwargs: dict, *, names: tuple[str, ...] = ()) -> str:
    """`f(x=float64 (1, 1, 3, 3), stride=2)`; positional arguments named when `names` are known."""
    parts = [f"{names[i]}={describe_value(a)}" if i < len(names) else describe_value(a) for i, a in enumerate(args)]
    parts += [f"{key}={describe_value(value)}" for key, value in kwargs.items()]
    return f"{function}({', '.join(parts)})"


def type_name(value: Any) -> str:
    return describe_type(value)
