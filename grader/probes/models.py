"""Probes for `torch.nn` models: build one from plain data, report its structure and behaviour.

A model cannot cross the process boundary, so a suite *describes* the model to
build and the probe builds it where the student's code lives:

    spec = model("VGG", model("make_features", [64, "M"], batch_norm=True), num_classes=10)

is `VGG(make_features([64, "M"], batch_norm=True), num_classes=10)`. A factory
name is looked up in the module the probe runs on (the student's, or the
reference in the judge); `"torch.nn.Conv2d"` and other `torch.nn.*` names
build standard layers, so a suite can hand the student's functions a model
the student did not write. Arguments that are specs are built first.

Same weights on both sides, without shipping them: `fill_state` overwrites every
floating-point state-dict entry with values drawn from `(seed, key, shape)`
alone, BatchNorm running statistics included (so BatchNorm is not the
identity in eval mode). The reference filled in the judge and the student's
model filled in the sandbox then hold the same numbers exactly when their
state-dict keys and shapes agree, and compute the same outputs when their
forward passes agree.

Probes (called as `student.probe("models.<name>", spec, ...)`, or through `ask`):

- `describe(spec)`: parameter counts, state-dict keys and shapes, the module tree
  with each module's hyper-parameters. Built on the meta device: no memory, no time.
- `forward(spec, inputs, options)`: outputs on `inputs`, outputs or shapes of
  submodules (forward hooks), in eval or train mode, with filled weights.
- `gradients(spec, inputs, options)`: backward pass of `sum(output * direction)`:
  the input's gradient and every parameter's gradient norm.
- `call_with_model(spec, function, args, meta)`: `function(model, *args)`, for
  student functions that take a model (`count_parameters(model)`).
- `constant(name)`: a module-level constant, as plain data (`VGG_CONFIGS`).

Probes report plain data (ndarrays, ints, floats, str, tuples, lists, dicts) and
never judge. `grader.judging.models` is their judge's side: `ask` runs a probe on the
student's proxy or directly on the reference module, and names the model in the
feedback's "call:" line.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np
import torch
from torch import nn

from grader.probes import probe

#: Hyper-parameters reported as pairs when given as one int (MaxPool2d(2) is MaxPool2d((2, 2))).
_PAIRED = ("kernel_size", "stride", "padding", "dilation", "output_size")
#: Entries larger than this repeat a block of this many values (a prime, so rows of a weight
#: matrix start at different offsets): VGG's 103M-entry first Linear fills three times faster.
FILL_PERIOD = 1_048_573


# -- describing a model to build ------------------------------------------------


def model(factory: str, *args: Any, **kwargs: Any) -> dict:
    """A plain-data description of the call `factory(*args, **kwargs)`; args may be descriptions too."""
    return {"factory": factory, "args": list(args), "kwargs": dict(kwargs)}


def _is_spec(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"factory", "args", "kwargs"}


def describe_model(spec: dict) -> str:
    """`VGG(make_features([64, 'M'], batch_norm=True), num_classes=10)`; torch layers as `nn.Conv2d(...)`."""
    from grader.describe import describe_value

    def text(value: Any) -> str:
        if _is_spec(value):
            return describe_model(value)
        if isinstance(value, list) and len(value) <= 24 and all(isinstance(v, (int, str)) for v in value):
            return repr(value)
        return describe_value(value)

    parts = [text(a) for a in spec["args"]] + [f"{k}={text(v)}" for k, v in spec["kwargs"].items()]
    return f"{spec['factory'].replace('torch.nn.', 'nn.')}({', '.join(parts)})"


# -- building and filling (both sides) ------------------------------------------


def build(namespace: Any, spec: dict) -> Any:
    """Call the factory `spec` names, in `namespace` (a module) or in `torch.nn`; nested specs first."""
    return _resolve(namespace, spec["factory"])(
        *[_argument(namespace, a) for a in spec["args"]],
        **{k: _argument(namespace, v) for k, v in spec["kwargs"].items()},
    )


def _argument(namespace: Any, value: Any) -> Any:
    if _is_spec(value):
        return build(namespace, value)
    if isinstance(value, (list, tuple)) and any(_is_spec(item) for item in value):
        return type(value)(_argument(namespace, item) for item in value)
    return value


def _resolve(namespace: Any, name: str) -> Any:
    if name.startswith("torch.nn."):
        target: Any = nn
        for part in name.removeprefix("torch.nn.").split("."):
            target = getattr(target, part)
        return target
    if not name.isidentifier():
        raise NameError(f"{name!r} is not a name a model can be built from")
    if not hasattr(namespace, name):
        raise NameError(f"your module defines no {name!r}")
    return getattr(namespace, name)


def build_on_meta(namespace: Any, spec: dict) -> Any:
    """Build with every tensor on the meta device (shapes only), or normally if the code needs real tensors."""
    try:
        with torch.device("meta"):
            return build(namespace, spec)
    except Exception:  # noqa: BLE001 - the normal build below raises the student's real error
        return build(namespace, spec)


def build_filled(namespace: Any, spec: dict, seed: int | None, overrides: dict[str, float] | None = None) -> Any:
    """Build the model; unless `seed` is None, fill its state with `fill_state(seed, overrides)`.

    Filling overwrites every entry, so the model's own initialisation is skipped:
    it is built on the meta device and materialised empty (VGG-16 in about a
    second instead of three), unless it holds tensors the state dict does not
    cover, in which case it is built normally.
    """
    if seed is None:
        built = build(namespace, spec)
    else:
        built = build_on_meta(namespace, spec)
        if isinstance(built, nn.Module):
            built = built.to_empty(device="cpu") if _state_covers(built) else build(namespace, spec)
    if not isinstance(built, nn.Module):
        raise TypeError(f"{describe_model(spec)} returned {type(built).__name__}, not a torch.nn.Module")
    if seed is not None:
        fill_state(built, seed, overrides)
    return built


def _state_covers(module: nn.Module) -> bool:
    """Whether every tensor the module holds is a state-dict entry (else `to_empty` would leave garbage)."""
    covered = {id(t) for t in module.state_dict(keep_vars=True).values()}
    tensors = [t for m in module.modules() for t in vars(m).values() if isinstance(t, torch.Tensor)]
    tensors += [t for t in module.buffers()]
    return all(id(t) in covered for t in tensors)


def fill_state(module: nn.Module, seed: int, overrides: dict[str, float] | None = None) -> None:
    """Overwrite every floating-point state-dict entry with `fill_values(key, shape, seed)`.

    Integer entries (BatchNorm's `num_batches_tracked`) become 0. `overrides`
    then sets whole entries to a constant (`{"bn2.weight": 0.0}`).
    """
    state = module.state_dict()
    unknown = sorted(set(overrides or {}) - set(state))
    if unknown:
        raise KeyError(f"the model has no state-dict entry {unknown[0]!r}")
    with torch.no_grad():
        for key, tensor in state.items():
            if not tensor.is_floating_point():
                tensor.zero_()
            elif tensor.is_contiguous() and tensor.dtype == torch.float32:
                _fill_into(tensor, key, seed)
            else:
                tensor.copy_(fill_values(key, tuple(tensor.shape), seed))
        for key, value in (overrides or {}).items():
            state[key].fill_(value)


def fill_values(key: str, shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """Deterministic float32 values for one entry, a function of `(seed, key, shape)` only.

    - `*running_mean`: U(-0.5, 0.5); `*running_var`: U(0.5, 1.5)
    - weights of 2 or more dimensions: Kaiming-uniform, U(-b, b) with b = sqrt(6 / fan_in),
      fan_in = prod(shape[1:]), so activations keep their scale through ReLU layers
    - 1-dimensional `*weight` (BatchNorm's gamma): U(0.5, 1.5); other 1-dimensional
      entries (biases, BatchNorm's beta): U(-0.2, 0.2); scalars: U(0.5, 1.5)

    An entry of more than `FILL_PERIOD` values repeats its first `FILL_PERIOD` values
    (in flattened order); every row of a weight matrix shorter than that is still
    distinct values, so a wrong flattening order or a swapped input still shows.
    """
    values = torch.empty(shape, dtype=torch.float32)
    _fill_into(values, key, seed)
    return values


def _fill_into(tensor: torch.Tensor, key: str, seed: int) -> None:
    """`fill_values` written straight into a contiguous float32 tensor (no second copy of VGG's 400 MB)."""
    shape = tuple(tensor.shape)
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    generator = torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))
    if key.endswith("running_mean"):
        low, high = -0.5, 0.5
    elif key.endswith("running_var") or len(shape) == 0 or (len(shape) == 1 and key.endswith("weight")):
        low, high = 0.5, 1.5
    elif len(shape) >= 2:
        bound = math.sqrt(6.0 / max(math.prod(shape[1:]), 1))
        low, high = -bound, bound
    else:
        low, high = -0.2, 0.2
    flat = tensor.view(-1)
    block = flat[:FILL_PERIOD].uniform_(low, high, generator=generator)
    for start in range(FILL_PERIOD, flat.numel(), FILL_PERIOD):
        chunk = flat[start : start + FILL_PERIOD]
        chunk.copy_(block[: chunk.numel()])


# -- plain data out ---------------------------------------------------------------


def plain(value: Any) -> Any:
    """Tensors as numpy arrays (float32 stays float32), containers recursively; other types by name."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy().copy()
    if isinstance(value, (tuple, list)):
        return type(value)(plain(item) for item in value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return f"<{type(value).__module__}.{type(value).__qualname__}>"


def _shape(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return tuple(int(n) for n in value.shape)
    if isinstance(value, (tuple, list)):
        return tuple(_shape(item) for item in value)
    return f"<{type(value).__qualname__}>"


def hyper_parameters(module: nn.Module) -> dict[str, Any]:
    """A layer's hyper-parameters: its `__constants__` (torch.nn's list), plus `bias` as a bool.

    Single ints of 2d layers' kernel_size, stride, padding, dilation and output_size are
    reported as pairs, so `MaxPool2d(2)` and `MaxPool2d((2, 2), stride=2)` read the same.
    """
    found: dict[str, Any] = {}
    for name in getattr(type(module), "__constants__", ()):
        value = getattr(module, name, None)
        if isinstance(value, list):
            value = tuple(value)
        if type(value) is int and name in _PAIRED and type(module).__name__.endswith("2d"):
            value = (value, value)
        if (
            value is None
            or isinstance(value, (bool, int, float, str))
            or (isinstance(value, tuple) and all(isinstance(v, (int, float, type(None))) for v in value))
        ):
            found[name] = value
    if isinstance(getattr(module, "weight", None), nn.Parameter) and hasattr(module, "bias"):
        found["bias"] = isinstance(module.bias, torch.Tensor)
    return found


# -- probes -----------------------------------------------------------------------


@probe
def describe(namespace: Any, spec: dict) -> dict:
    """The structure of the model `spec` builds (on the meta device).

    Returns a dict:
    - "type": the model's class name
    - "parameters", "trainable": parameter counts (all, and those with requires_grad)
    - "state": [(key, shape)] for every state-dict entry, in order
    - "modules": [(qualified name, class name, hyper_parameters, own parameter count)],
      in `named_modules()` order, the root ("") first
    """
    built = build_on_meta(namespace, spec)
    if not isinstance(built, nn.Module):
        raise TypeError(f"{describe_model(spec)} returned {type(built).__name__}, not a torch.nn.Module")
    return {
        "type": type(built).__name__,
        "parameters": sum(p.numel() for p in built.parameters()),
        "trainable": sum(p.numel() for p in built.parameters() if p.requires_grad),
        "state": [(key, tuple(int(n) for n in t.shape)) for key, t in built.state_dict().items()],
        "modules": [
            (name, type(m).__name__, hyper_parameters(m), sum(p.numel() for p in m.parameters(recurse=False)))
            for name, m in built.named_modules()
        ],
    }


@probe
def forward(namespace: Any, spec: dict, inputs: np.ndarray, options: dict | None = None) -> dict:
    """Run the model `spec` builds on `inputs`; report its outputs and what its submodules produced.

    options (each optional):
    - "seed" (default 0): fill the state with `fill_state(seed)`; None keeps the model's own init
    - "set": {state-dict key: constant} applied after filling
    - "train" (default False): train mode (dropout on, BatchNorm on batch statistics), else eval
    - "torch_seed" (default 0): `torch.manual_seed(torch_seed + i)` before run i (dropout masks)
    - "runs" (default 1): forward passes on the same model
    - "record": qualified submodule names whose outputs (in the first run) are returned, or "all"
    - "record_inputs": submodule names whose first positional input (in the first run) is returned,
      or "all"; a submodule called twice reports its last call
    - "shapes" (default False): report the output shape of every submodule, in the order they finished

    Returns {"outputs": [one per run], "records": {name: output}, "inputs": {name: input},
    "shapes": [(name, shape)], "unknown": [names in "record" or "record_inputs" the model lacks]}.
    A submodule that never ran (the forward pass used a function instead) is absent from
    "records" and "inputs".
    """
    options = options or {}
    built = build_filled(namespace, spec, options.get("seed", 0), options.get("set"))
    built.train(bool(options.get("train", False)))
    seen = {"records": {}, "inputs": {}, "shapes": [], "first_run": True}
    handles, unknown = _hooks(built, options, seen)
    outputs = []
    try:
        with torch.no_grad():
            for run in range(int(options.get("runs", 1))):
                torch.manual_seed(int(options.get("torch_seed", 0)) + run)
                outputs.append(plain(built(torch.from_numpy(np.array(inputs, dtype=np.float32)))))
                seen["first_run"] = False
    finally:
        for handle in handles:
            handle.remove()
    return {
        "outputs": outputs,
        "records": seen["records"],
        "inputs": seen["inputs"],
        "shapes": seen["shapes"],
        "unknown": unknown,
    }


def _hooks(built: nn.Module, options: dict, seen: dict) -> tuple[list, list[str]]:
    """Forward hooks that copy outputs, inputs and shapes of submodules into `seen` (first run only)."""
    modules = dict(built.named_modules())
    every = [name for name in modules if name]
    record, record_inputs = (
        every if options.get(key) == "all" else list(options.get(key, ())) for key in ("record", "record_inputs")
    )
    want_shapes = bool(options.get("shapes", False))
    unknown = [name for name in record + record_inputs if name not in modules]
    handles = []
    for name, module in modules.items():
        if not name or (name not in record and name not in record_inputs and not want_shapes):
            continue

        def hook(_module, _inputs, output, name=name):
            if not seen["first_run"]:
                return
            if want_shapes:
                seen["shapes"].append((name, _shape(output)))
            if name in record:
                seen["records"][name] = plain(output)  # a copy, before any in-place op changes it

        def pre_hook(_module, inputs, name=name):
            if seen["first_run"] and inputs:
                seen["inputs"][name] = plain(inputs[0])  # before the module (an in-place ReLU) changes it

        handles.append(module.register_forward_hook(hook))
        if name in record_inputs:
            handles.append(module.register_forward_pre_hook(pre_hook))
    return handles, unknown


@probe
def gradients(namespace: Any, spec: dict, inputs: np.ndarray, options: dict | None = None) -> dict:
    """Backpropagate `sum(output * direction)` through the model `spec` builds.

    options: "seed", "set", "train" (default False) and "torch_seed" as for `forward`, and
    "direction" (an array shaped like the output; default all ones).

    Returns {"output": array, "input_grad": array, "grad_norms": {parameter name: L2 norm of
    its gradient, or None when no gradient reached it}}; "input_grad" is None and "grad_norms"
    empty when the output is not a tensor of the direction's shape.
    """
    options = options or {}
    built = build_filled(namespace, spec, options.get("seed", 0), options.get("set"))
    built.train(bool(options.get("train", False)))
    x = torch.from_numpy(np.array(inputs, dtype=np.float32)).requires_grad_(True)
    torch.manual_seed(int(options.get("torch_seed", 0)))
    output = built(x)
    if not isinstance(output, torch.Tensor):
        return {"output": plain(output), "input_grad": None, "grad_norms": {}}
    direction = options.get("direction")
    direction = torch.ones_like(output) if direction is None else torch.from_numpy(np.array(direction, np.float32))
    if direction.shape != output.shape:  # the suite reports the output's shape
        return {"output": plain(output), "input_grad": None, "grad_norms": {}}
    (output * direction).sum().backward()
    return {
        "output": plain(output),
        "input_grad": plain(x.grad),
        "grad_norms": {name: None if p.grad is None else float(p.grad.norm()) for name, p in built.named_parameters()},
    }


@probe
def call_with_model(namespace: Any, spec: dict, function: str, args: Any = (), meta: bool = False) -> Any:
    """`function(model, *args)` with `function` from the module and the model `spec` builds.

    `meta=True` builds the model on the meta device: enough for code that counts
    parameters, and instant even for VGG-19.
    """
    built = build_on_meta(namespace, spec) if meta else build(namespace, spec)
    return _resolve(namespace, function)(built, *args)


@probe
def constant(namespace: Any, name: str) -> Any:
    """The module-level value `name` (a config table, say), as plain data."""
    return _resolve(namespace, name)
