"""The judge's side of the layer probes: calling the student's function on a stack built in their process."""

from __future__ import annotations

from typing import Any

from grader.describe import describe_value
from grader.engine.student import Call

#: Options written positionally by `describe`, as in `Conv2d(3, 64, 7, stride=2)` and `MaxPool2d(3, stride=2)`.
_POSITIONAL = {
    "Conv2d": ("in_channels", "out_channels", "kernel_size"),
    "Linear": ("in_features", "out_features"),
    "BatchNorm2d": ("num_features",),
    "MaxPool2d": ("kernel_size",),
    "AvgPool2d": ("kernel_size",),
    "AdaptiveAvgPool2d": ("output_size",),
    "Dropout": ("p",),
    "LeakyReLU": ("negative_slope",),
}


def describe(layers: list) -> str:
    """`[Conv2d(3, 64, 7, stride=2, padding=3), MaxPool2d(3, stride=2, padding=1)]`."""
    return "[" + ", ".join(_describe_layer(name, options) for name, options in layers) + "]"


def _describe_layer(name: str, options: Any) -> str:
    if name == "Sequential":
        return f"Sequential({describe(options)[1:-1]})"
    leading = []
    for key in _POSITIONAL.get(name, ()):
        if key not in options:
            break  # a later argument can only be positional if this one is
        leading.append(key)
    positional = [repr(options[key]) for key in leading]
    named = [f"{key}={value!r}" for key, value in options.items() if key not in leading]
    return f"{name}({', '.join(positional + named)})"


def call_on_layers(student: Any, function: str, layers: list, *args: Any) -> tuple[Any, list[str]]:
    """Call the student's `function` on the stack `layers` (built in their process).

    Returns what it returned and the layers it ran. Whatever happens, the
    student's proxy remembers the call as the student wrote it,
    `output_shape([Conv2d(3, 64, 7), ...], input_shape=(3, 32, 32))`,
    so feedback names the case in their terms.
    """
    shown = [describe(layers)] + [f"input_shape={describe_value(a)}" for a in args]
    try:
        reply = student.probe(f"layers.{function}", layers, *args)
    finally:
        student.last_call = Call(function, (layers, *args), {}, f"{function}({', '.join(shown)})")
    return reply["value"], reply["ran"]
