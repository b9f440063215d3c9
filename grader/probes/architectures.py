"""Probes for the architecture exercises (scaling, alexnet, efficientnet).

They run in the student's process and return plain data only; the suites
judge what comes back. Generic model probes (parameter counts, seeded
outputs, state-dict shapes) live in `grader.probes.models`; these are the
few inspections those exercises need beyond them.
"""

from __future__ import annotations

import math
from typing import Any

from grader.probes import probe


def make_accuracy(spec: dict):
    """An accuracy(alpha, beta, gamma) function described by plain data.

    - {"kind": "quadratic", "center": (a, b, g), "weights": (wa, wb, wg), "base": v}:
      v - sum_i w_i * (x_i - c_i)^2, a hill whose top may lie outside the constraint
    - {"kind": "linear", "weights": (wa, wb, wg), "base": v}: v + sum_i w_i * x_i
    - {"kind": "table", "values": [((a, b, g), v), ...], "default": v}: v at the
      listed points (matched to 9 decimals), `default` elsewhere
    """
    kind = spec["kind"]
    if kind == "quadratic":
        center, weights, base = spec["center"], spec["weights"], spec["base"]
        return lambda *x: base - sum(w * (xi - c) ** 2 for w, xi, c in zip(weights, x, center))
    if kind == "linear":
        weights, base = spec["weights"], spec["base"]
        return lambda *x: base + sum(w * xi for w, xi in zip(weights, x))
    if kind == "table":
        table = {tuple(round(float(v), 9) for v in point): value for point, value in spec["values"]}
        return lambda *x: table.get(tuple(round(float(v), 9) for v in x), spec["default"])
    raise ValueError(f"unknown accuracy kind {kind!r}")


@probe
def grid_search(module: Any, spec: dict, grid: list, target: float, tolerance: float) -> dict:
    """Call the student's `grid_search` with an accuracy function they never see.

    Returns {"result": what grid_search returned, "evaluated": the triples it
    passed to accuracy, in order, "calls": how many}.
    """
    hidden = make_accuracy(spec)
    evaluated: list[tuple] = []

    def accuracy(alpha, beta, gamma):
        evaluated.append(tuple(_plain(v) for v in (alpha, beta, gamma)))
        return hidden(alpha, beta, gamma)

    result = module.grid_search(accuracy, list(grid), target=target, tolerance=tolerance)
    return {"result": result, "evaluated": evaluated[:5000], "calls": len(evaluated)}


def _plain(value: Any) -> Any:
    """A float or int for the wire, whatever numeric type the student passed."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return repr(value)[:40]
    return number if math.isfinite(number) else repr(number)


@probe
def call_many(module: Any, function: str, calls: list) -> dict:
    """Call `module.<function>(*args)` for every args in `calls`, in one request.

    Returns {"results": [...], "failed_at": None}, or, when a call raises, the
    results so far and its index: the suite repeats that one call directly, so
    the student sees their own exception with their own frames.
    """
    target = getattr(module, function)
    results = []
    for index, args in enumerate(calls):
        try:
            results.append(target(*args))
        except Exception:  # noqa: BLE001 - reported by repeating the call
            return {"results": results, "failed_at": index}
    return {"results": results, "failed_at": None}


# -- models whose weights are given by position ---------------------------------------
#
# `models.forward` gives two models the same weights when their state-dict keys
# agree. EfficientNet's exercise leaves the student free to name the parts of
# MBConv (block.0, expand, se.fc1, ...), so here the i-th state-dict entry of
# the student's model gets the values the reference's i-th entry gets: the
# layers must be created in the order they run, and each entry must hold as
# many numbers as the reference's (a Linear (S, C) may stand for a 1x1 conv
# (S, C, 1, 1)).


def fill_by_position(
    module: Any, layout: list, seed: int, *, constant: float | None = None, overrides: dict | None = None
) -> None:
    """Fill `module`'s state entry i with the values of `layout[i] = (reference key, shape)`.

    With `constant`, every floating entry is that constant instead (running
    variances 1, so BatchNorm stays finite). `overrides` {reference key: value}
    then sets whole entries. Integer entries (`num_batches_tracked`) become 0.
    """
    import torch

    from grader.probes.models import fill_values

    entries = list(module.state_dict().values())
    if len(entries) != len(layout) or any(t.numel() != math.prod(shape) for t, (_, shape) in zip(entries, layout)):
        raise ValueError("the model's state dict does not match the reference's layout")
    with torch.no_grad():
        for tensor, (key, shape) in zip(entries, layout):
            if not tensor.is_floating_point():
                tensor.zero_()
            elif constant is not None:
                tensor.fill_(1.0 if key.endswith("running_var") else constant)
            else:
                tensor.copy_(fill_values(key, tuple(shape), seed).reshape(tensor.shape))
            if overrides and key in overrides:
                tensor.fill_(overrides[key])


@probe
def forward_by_position(namespace: Any, spec: dict, layout: list, inputs: Any, options: dict | None = None) -> dict:
    """Build `spec`, fill it by position from `layout`, run it in eval mode on `inputs`.

    options: "seed" (0), "constant" (None), "set" ({reference key: value}), and
    "record_types": class names whose outputs are recorded in the order they finish.

    Returns {"output": array, "records": [(class name, array)]}.
    """
    import numpy as np
    import torch

    from grader.probes.models import build_filled, plain

    options = options or {}
    built = build_filled(namespace, spec, None)
    fill_by_position(
        built, layout, options.get("seed", 0), constant=options.get("constant"), overrides=options.get("set")
    )
    built.eval()
    records: list = []
    wanted = set(options.get("record_types", ()))
    handles = [
        m.register_forward_hook(lambda m, i, o: records.append((type(m).__name__, plain(o))))
        for m in built.modules()
        if type(m).__name__ in wanted
    ]
    try:
        with torch.no_grad():
            output = built(torch.from_numpy(np.array(inputs, dtype=np.float32)))
    finally:
        for handle in handles:
            handle.remove()
    return {"output": plain(output), "records": records}


@probe
def scaled_stages(namespace: Any, width: float, depth: float) -> dict:
    """What the submission's own scaling module makes of B0 for (width, depth).

    Returns {"stages": scale_stages(B0_STAGES, width, depth), "stem": round_filters(32, width),
    "head": round_filters(1280, width)} or {"error": text} when the scaling module cannot give
    them. The efficientnet suites build the reference from these tables, so that a scaling
    mistake is not charged twice.
    """
    import importlib

    try:
        scaling = importlib.import_module("scaling")
        return {
            "stages": scaling.scale_stages(scaling.B0_STAGES, width, depth),
            "stem": _plain(scaling.round_filters(32, width)),
            "head": _plain(scaling.round_filters(1280, width)),
        }
    except Exception as error:  # noqa: BLE001 - reported as data: this probe only explains another failure
        return {"error": f"{type(error).__name__}: {error}"[:200]}
