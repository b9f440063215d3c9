"""Trusted inspections that run inside the student's process and return plain data.

A probe is how the judge asks about objects that cannot cross the boundary (a
`torch.nn.Module`, say): the probe builds or inspects them where they live and
returns shapes, counts and arrays. Probes report; they never judge: the
verdict is reached in the judge from what they return.

Probes live in one module per family (`grader/probes/models.py`, ...), each
registering its functions with `@probe`. Suites call them by qualified name:
`student.probe("models.parameter_count", "LeNet5")`; the probe receives the
student's module as its first argument.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

PROBES: dict[str, Callable[..., Any]] = {}


def probe(function: Callable[..., Any]) -> Callable[..., Any]:
    """Register `function` under `<family>.<name>`; only registered functions can be called."""
    family = function.__module__.rpartition(".")[2]
    PROBES[f"{family}.{function.__name__}"] = function
    return function


def find(name: str) -> Callable[..., Any]:
    family, _, _ = name.partition(".")
    if not family.isidentifier():
        raise KeyError(name)
    importlib.import_module(f"grader.probes.{family}")
    return PROBES[name]
