"""Probes that hand real `torch.nn` layers to the student's functions.

Layers cannot cross the process boundary, so a stack travels as plain data
and is built where it is used: a list of `(name, options)` items, where
`name` is a layer class of `torch.nn` and `options` its keyword arguments,
and `("Sequential", [items])` is a nested block:

    [("Conv2d", {"in_channels": 3, "out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3}),
     ("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
     ("Sequential", [("Conv2d", {"in_channels": 64, "out_channels": 128, "kernel_size": 3}), ("ReLU", {})])]

`build` makes the layers (in the student's process for the probes, in the
judge for the PyTorch oracle); `grader.judging.layers.describe` writes the stack as a
student would (`Conv2d(3, 64, 7, stride=2, padding=3)`), for feedback. The
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
LAYERS = frozenset(
    {
        "Conv2d",
        "MaxPool2d",
        "AvgPool2d",
        "AdaptiveAvgPool2d",
        "BatchNorm2d",
        "Linear",
        "Flatten",
        "ReLU",
        "LeakyReLU",
        "Tanh",
        "Sigmoid",
        "SiLU",
        "GELU",
        "Dropout",
        "Identity",
        "Sequential",
    }
)


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
