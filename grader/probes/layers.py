"""Probes that hand real `torch.nn` layers to the student's functions.

Layers cannot cross the process boundary, so a stack travels as plain data
and is built where it is used: a list of `(name, options)` items, where
`name` is a layer class of `torch.nn` and `options` its keyword arguments,
and `("Sequential", [items])` is a nested block:

    [("Conv2d", {"in_channels": 3, "out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3}),
     ("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
     ("Sequential", [("Conv2d", {"in_channels": 64, "out_channels": 128, "kernel_size": 3}), ("ReLU", {})])]

`build` makes the layers (in the student's process for the probes, in the
judge for the PyTorch oracle); `describe` writes the stack as a student would
(`Conv2d(3, 64, 7, stride=2, padding=3)`), for feedback. The
probes return what the student's function returned, and the layers it ran
(shape functions should compute from hyper-parameters, not run the layers):
the suites judge.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, Iterator

from grader.probes import probe

#: The layer classes a description may name.
LAYERS = frozenset({
    "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm2d", "Linear", "Flatten",
    "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "SiLU", "GELU", "Dropout", "Identity", "Sequential",
})

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


def build(layers: list) -> list:
    """The `torch.nn` layers a description stands for, as a list (nested blocks as `nn.Sequential`)."""
    import torch.nn as nn

    built = []
    for name, options in layers:
        if name not in LAYERS:
            raise ValueError(f"no layer {name!r} in layer descriptions")
        if name == "Sequential":
            built.append(nn.Sequential(*build(options)))
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # padding="same" with an even kernel warns about its cost
            built.append(getattr(nn, name)(**options))
    return built


def describe(layers: list) -> str:
    """`[Conv2d(3, 64, 7, stride=2, padding=3), MaxPool2d(3, stride=2, padding=1)]`."""
    return "[" + ", ".join(_describe_layer(name, options) for name, options in layers) + "]"


def _describe_layer(name: str, options: Any) -> str:
    if name == "Sequential":
        return f"Sequential({describe(options)[1:-1]})"
    leading = []
    for key in _POSITIONAL.get(name, ()):
        if key not in options:
            break                      # a later argument can only be positional if this one is
        leading.append(key)
    positional = [repr(options[key]) for key in leading]
    named = [f"{key}={value!r}" for key, value in options.items() if key not in leading]
    return f"{name}({', '.join(positional + named)})"


@contextlib.contextmanager
def _watching_forward_calls() -> Iterator[list[str]]:
    """Names of the modules whose forward runs inside the block, in order, each once."""
    from torch.nn.modules.module import register_module_forward_pre_hook

    ran: list[str] = []

    def record(module: Any, _inputs: Any) -> None:
        if type(module).__name__ not in ran:
            ran.append(type(module).__name__)

    handle = register_module_forward_pre_hook(record)
    try:
        yield ran
    finally:
        handle.remove()


@probe
def output_shape(module: Any, layers: list, input_shape: tuple) -> dict:
    """The student's `output_shape(layers, input_shape)` on real layers, and the layers it ran."""
    built = build(layers)
    with _watching_forward_calls() as ran:
        value = module.output_shape(built, tuple(input_shape))
    return {"value": value, "ran": list(ran)}


@probe
def receptive_field(module: Any, layers: list) -> dict:
    """The student's `receptive_field(layers)` on real layers, and the layers it ran."""
    built = build(layers)
    with _watching_forward_calls() as ran:
        value = module.receptive_field(built)
    return {"value": value, "ran": list(ran)}


# -- judge side ----------------------------------------------------------------
def call_on_layers(student: Any, function: str, layers: list, *args: Any) -> tuple[Any, list[str]]:
    """Call the student's `function` on the stack `layers` (built in their process).

    Returns what it returned and the layers it ran. Whatever happens, the
    student's proxy remembers the call as the student wrote it,
    `output_shape([Conv2d(3, 64, 7), ...], input_shape=(3, 32, 32))`,
    so feedback names the case in their terms.
    """
    from grader.describe import describe_value
    from grader.engine.student import Call

    shown = [describe(layers)] + [f"input_shape={describe_value(a)}" for a in args]
    try:
        reply = student.probe(f"layers.{function}", layers, *args)
    finally:
        student.last_call = Call(function, (layers, *args), {}, f"{function}({', '.join(shown)})")
    return reply["value"], reply["ran"]
