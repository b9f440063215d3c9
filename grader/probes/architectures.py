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
