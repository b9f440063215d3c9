"""The judge's side of the architecture probes: running a model by position, comparing state-dict layouts."""

from __future__ import annotations

import math
from typing import Any

from grader.probes import PROBES
from grader.probes.models import describe_model


def layout_difference(got: list, expected: list) -> str | None:
    """None when two `models.describe(...)["state"]` lists match by position (same sizes), else why not."""
    for index, ((key, shape), (ref_key, ref_shape)) in enumerate(zip(got, expected)):
        if math.prod(shape) != math.prod(ref_shape):
            return (
                f"entry {index} of its state dict, {key} {tuple(shape)}, is where the reference has "
                f"{ref_key} {tuple(ref_shape)}"
            )
    if len(got) != len(expected):
        extra = got[len(expected)] if len(got) > len(expected) else expected[len(got)]
        return (
            f"its state dict has {len(got)} entries, the reference's {len(expected)} "
            f"(first unmatched: {extra[0]} {tuple(extra[1])})"
        )
    return None


def run_by_position(target: Any, spec: dict, layout: list, inputs: Any, options: dict | None = None) -> dict:
    """`forward_by_position` on the student's proxy (in the sandbox) or on a module or namespace (here).

    For the student, the feedback's "call:" line names the model and the input.
    """
    if not hasattr(target, "probe"):
        return PROBES["architectures.forward_by_position"](target, spec, layout, inputs, options)

    try:
        return target.probe("architectures.forward_by_position", spec, layout, inputs, options)
    finally:
        if target.last_call is not None:
            weights = "all weights 0" if (options or {}).get("constant") == 0 else "the reference's weights"
            target.last_call.description = (
                f"{describe_model(spec)} with {weights}, eval mode, "
                f"on an input of shape {tuple(getattr(inputs, 'shape', ()))}"
            )
