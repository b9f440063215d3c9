"""The judge's side of the model probes: asking one, and saying in words how two answers differ.

`ask` runs a `grader.probes.models` probe on the student's proxy (in the sandbox) or
directly on the reference module (here), and names the model in the feedback's
"call:" line. The `*_difference` functions compare what two runs reported and return
what differs in words (no values), or None.
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any

import numpy as np

from grader.engine.wire import describe_type
from grader.probes import PROBES
from grader.probes.models import describe_model


def ask(target: Any, name: str, spec: dict, *args: Any) -> Any:
    """Run the probe `models.<name>` on the model `spec` describes, where `target`'s code lives.

    `target` is the suite's `student` proxy (the probe runs in the sandbox) or
    a module such as `reference` (it runs here). For the student, the feedback's
    "call:" line then names the model (`LeNet5(num_classes=3), test weights (seed 0),
    eval mode, on an input of shape (2, 1, 32, 32)`) instead of the probe.
    """
    if isinstance(target, types.ModuleType):
        return PROBES[f"models.{name}"](target, spec, *args)
    try:
        return target.probe(f"models.{name}", spec, *args)
    finally:
        if target.last_call is not None:
            target.last_call = dataclasses.replace(
                target.last_call, function=spec["factory"], description=_describe_request(name, spec, args)
            )


def _describe_request(name: str, spec: dict, args: tuple) -> str:
    built = describe_model(spec)
    if name in ("forward", "gradients") and args:
        options = args[1] if len(args) > 1 and args[1] else {}
        mode = "train" if options.get("train") else "eval"
        seed = options.get("seed", 0)
        weights = "" if seed is None else f", test weights (seed {seed})"
        if options.get("set"):
            weights += " with " + ", ".join(f"{key}={value:g}" for key, value in options["set"].items())
        return f"{built}{weights}, {mode} mode, on an input of shape {tuple(np.shape(args[0]))}"
    if name == "call_with_model":
        return f"{args[0]}({built})"
    return built


def array_difference(got: Any, expected: np.ndarray, *, rtol: float = 1e-4, atol: float = 1e-5) -> str | None:
    """None when `got` is an array close to `expected`, else what differs, in words (no values).

    `atol` is relative to the largest magnitude in `expected`, so the check means
    the same for logits of size 100 and activations of size 0.01.
    """
    if not isinstance(got, np.ndarray):
        return f"is {_type_word(got)}, not a tensor"
    if got.shape != expected.shape:
        return f"has shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1.0)
    close = np.isclose(got, expected, rtol=rtol, atol=atol * scale)
    if close.all():
        return None
    worst = float(np.nanmax(np.abs(got.astype(np.float64) - expected)))
    return (
        f"has the right shape but different values at {int((~close).sum())} of {close.size} positions "
        f"(largest difference {worst:.3g})"
    )


def first_difference(
    got: dict, expected: dict, order: list[str], *, rtol: float = 1e-4, atol: float = 1e-5
) -> tuple[str, str] | None:
    """The first name in `order` whose recorded output differs: (name, `array_difference` text).

    Names that `got` lacks are skipped: a student may call `F.avg_pool2d` instead of
    the `pool1` module, and the submodules that did run still localise a difference.
    """
    for name in order:
        if name in got and name in expected:
            difference = array_difference(got[name], expected[name], rtol=rtol, atol=atol)
            if difference:
                return name, difference
    return None


@dataclasses.dataclass(frozen=True)
class Divergence:
    """Where a student's model first computes something else than the reference (see `behaviour_difference`)."""

    name: str | None  #: the first submodule whose output differs; None: only the model's output does
    text: str  #: how that output differs, in words (`array_difference`)
    matching: list[str]  #: the submodules before it that ran and agreed
    input_differs: bool = False  #: the submodule was handed another input: forward wires it differently


def behaviour_difference(
    student: Any,
    reference: Any,
    spec: dict,
    inputs: np.ndarray,
    order: list[str] | None = None,
    options: dict | None = None,
    *,
    rtol: float = 1e-4,
    atol: float = 1e-5,
) -> Divergence | None:
    """Run `spec` on both sides with the same weights (`forward` with `options`); None when outputs agree.

    Otherwise the `Divergence`: the first submodule in `order` whose output differs,
    and whether its input already differed although every submodule before it
    agreed. `order` defaults to the reference's submodules in the order their
    forward passes finish (a block after its layers). The reference records every
    submodule in its one pass (building and filling VGG costs more than its records);
    the student's model is recorded (a second pass) only when its outputs differ,
    so a correct model costs one pass on each side.
    """
    options = dict(options or {})
    recorded = options | {"record": "all", "record_inputs": "all", "shapes": order is None}
    expected_run = ask(reference, "forward", spec, inputs, recorded)
    got = ask(student, "forward", spec, inputs, options)["outputs"][0]
    difference = array_difference(got, expected_run["outputs"][0], rtol=rtol, atol=atol)
    if difference is None:
        return None
    got_run = ask(student, "forward", spec, inputs, recorded)
    if order is None:
        order = list(dict.fromkeys(name for name, _ in expected_run["shapes"]))
    located = first_difference(got_run["records"], expected_run["records"], order, rtol=rtol, atol=atol)
    if located is None:
        return Divergence(None, difference, [n for n in order if n in got_run["records"]])
    name, text = located
    matching = [n for n in order[: order.index(name)] if n in got_run["records"]]
    expected_input, got_input = expected_run["inputs"].get(name), got_run["inputs"].get(name)
    if expected_input is not None and got_input is not None:
        input_text = array_difference(got_input, expected_input, rtol=rtol, atol=atol)
        if input_text:
            return Divergence(name, f"gets a different input: its input {input_text}", matching, True)
    return Divergence(name, text, matching)


def state_difference(got: list, expected: list) -> str | None:
    """The first difference between two `describe(...)["state"]` lists, in words; None when equal."""
    got_shapes, expected_shapes = dict(got), dict(expected)
    problems = [f"has no entry {key!r} (shape {shape})" for key, shape in expected if key not in got_shapes]
    problems += [
        f"{key!r} has shape {got_shapes[key]}, expected {shape}"
        for key, shape in expected
        if key in got_shapes and got_shapes[key] != shape
    ]
    problems += [f"has an unexpected entry {key!r} (shape {shape})" for key, shape in got if key not in expected_shapes]
    if not problems:
        return None
    more = f" (and {len(problems) - 1} more differences)" if len(problems) > 1 else ""
    return problems[0] + more


def module_difference(
    got: list,
    expected: list,
    *,
    names: list[str] | None = None,
    exact: bool = False,
    ignore: tuple[str, ...] = ("inplace",),
) -> str | None:
    """The first difference between two `describe(...)["modules"]` lists, in words; None when equal.

    Compares the modules `names` (default: every module of `expected` but the root)
    by class name and hyper-parameters, ignoring those in `ignore`. With `exact`,
    modules `got` has and `expected` lacks are differences too (an extra layer).
    """
    got_by_name = {name: (kind, hyper) for name, kind, hyper, _ in got}
    expected_by_name = {name: (kind, hyper) for name, kind, hyper, _ in expected}
    for name in names if names is not None else [n for n, *_ in expected if n]:
        kind, hyper = expected_by_name[name]
        if name not in got_by_name:
            return f"has no submodule {name!r} (expected {kind})"
        got_kind, got_hyper = got_by_name[name]
        if got_kind != kind:
            return f"submodule {name!r} is {_article(got_kind)}, expected {kind}"
        for key, value in hyper.items():
            if key not in ignore and (key not in got_hyper or got_hyper[key] != value):
                got_value = repr(got_hyper[key]) if key in got_hyper else "missing"
                return f"submodule {name!r} ({kind}) has {key}={got_value}, expected {value!r}"
    if exact:
        extra = [f"{name!r} ({kind})" for name, kind, _, _ in got if name and name not in expected_by_name]
        if extra:
            return f"has an extra submodule {extra[0]}" + (f" (and {len(extra) - 1} more)" if len(extra) > 1 else "")
    return None


def _article(kind: str) -> str:
    return f"an {kind}" if kind[:1] in "AEIOU" else f"a {kind}"


def _type_word(value: Any) -> str:
    if isinstance(value, str) and value.startswith("<"):
        return _article(value.strip("<>"))  # `_plain`'s name for a value that is not a tensor
    return "None" if value is None else _article(describe_type(value))
