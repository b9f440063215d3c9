"""Probes for the design exercise: what the student's network does, found by running and tracing it.

The rubric is about structure (3x3 convolutions, a skip connection, global
average pooling before the classifier), and structure is read from what the
model computes, never from the names of its parts. `structure` traces one
forward pass with `torch.fx` (`make_fx`: real tensors, every torch operation
recorded as a node of an aten-level graph, whether it came from a module or
from a function called in `forward`) and reports:

- every convolution: kernel, channels, groups, stride, and the parameter it uses
- every join (addition or concatenation of two tensors that depend on the
  image) with the number of layers (convolutions, matrix products) on the
  longest path from the image to each operand: a shortcut reaches the join
  through fewer layers than the branch it skips
- every global pooling (a mean or max over all of H and W) and whether the
  logits can be reached from the image without passing a global average

Should tracing fail, the convolutions are still reported from forward hooks on
the `nn.Conv*` modules that ran; the rest is reported as unknown. `learning`
runs a few Adam steps on one fixed batch. Probes report; the suites judge.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from grader.probes import probe

IMAGE = (3, 100, 100)
_LAYERS = {"convolution", "_convolution", "conv2d", "addmm", "mm", "bmm", "linear", "matmul"}
_CONVOLUTIONS = {"convolution", "_convolution", "conv2d"}
_JOINS = {"add", "add_", "cat"}
_AVERAGES = {"mean", "avg_pool2d", "adaptive_avg_pool2d", "_adaptive_avg_pool2d"}
_MAXIMA = {"amax", "max", "max_pool2d", "max_pool2d_with_indices", "adaptive_max_pool2d"}
_VIEWS = {"view", "reshape", "_unsafe_view", "flatten"}


def _images(batch: int) -> torch.Tensor:
    return torch.randn(batch, *IMAGE, generator=torch.Generator().manual_seed(1))


def _build(module: Any, num_classes: int) -> Any:
    torch.manual_seed(0)
    return module.build_model(num_classes)


def _type_name(value: Any) -> str:
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _output_facts(output: Any) -> dict:
    if isinstance(output, torch.Tensor):
        return {"type": "tensor", "shape": tuple(output.shape), "dtype": str(output.dtype).removeprefix("torch.")}
    return {"type": _type_name(output)}


@probe
def summary(module: Any, num_classes: int) -> dict:
    """{"type": the model's type, "is_module", "parameters", "trainable"} for build_model(num_classes)."""
    model = _build(module, num_classes)
    if not isinstance(model, nn.Module):
        return {"type": _type_name(model), "is_module": False}
    parameters = list(model.parameters())
    return {
        "type": type(model).__name__,
        "is_module": True,
        "parameters": sum(p.numel() for p in parameters),
        "trainable": sum(p.numel() for p in parameters if p.requires_grad),
    }


@probe
def outputs(module: Any, cases: list) -> list:
    """For each (num_classes, batch): the output of build_model(num_classes) in eval mode on random images."""
    torch.set_num_threads(1)
    found = []
    for num_classes, batch in cases:
        model = _build(module, num_classes)
        if not isinstance(model, nn.Module):
            found.append({"type": f"build_model returned {_type_name(model)}"})
            continue
        model.eval()
        with torch.no_grad():
            found.append(_output_facts(model(_images(batch))))
    return found


@probe
def structure(module: Any, num_classes: int) -> dict:
    """What one forward pass of build_model(num_classes) in eval mode does (see the module's docstring)."""
    torch.set_num_threads(1)
    model = _build(module, num_classes)
    if not isinstance(model, nn.Module):
        return {"is_module": False, "type": _type_name(model)}
    model.eval()
    x = _images(2)
    hooked: list[dict] = []
    handles = [
        m.register_forward_hook(lambda m, i, o, name=name: hooked.append(_conv_module_facts(name, m)))
        for name, m in model.named_modules()
        if isinstance(m, nn.modules.conv._ConvNd)
    ]
    try:
        with torch.no_grad():
            output = model(x)
    finally:
        for handle in handles:
            handle.remove()
    facts = {"is_module": True, "output": _output_facts(output), "hooked_convs": hooked}
    try:
        graph, names = _trace(model, x)
    except Exception as error:  # noqa: BLE001 - any failure to trace is reported, not raised
        return facts | {"traced": False, "trace_error": f"{type(error).__name__}: {str(error)[:200]}"}
    return facts | {"traced": True, "trace_error": None} | analyse(graph, names)


def _conv_module_facts(name: str, conv: nn.Module) -> dict:
    return {
        "name": name,
        "kernel": tuple(conv.kernel_size),
        "in": conv.in_channels,
        "out": conv.out_channels,
        "groups": conv.groups,
        "stride": tuple(conv.stride),
    }


def _trace(model: nn.Module, x: torch.Tensor) -> tuple[torch.fx.Graph, list[str]]:
    """The aten-level graph of model(x); the names of the parameters and buffers, in placeholder order."""
    from torch.func import functional_call
    from torch.fx.experimental.proxy_tensor import make_fx

    state = dict(model.named_parameters()) | dict(model.named_buffers())
    names = list(state)

    def run(tensors: list, images: torch.Tensor) -> Any:
        return functional_call(model, dict(zip(names, tensors)), (images,))

    options = {}
    if "_error_on_data_dependent_ops" in inspect.signature(make_fx).parameters:
        options["_error_on_data_dependent_ops"] = False  # `if t.item() > 0:` is followed, as it ran
    with torch.no_grad():
        return make_fx(run, **options)(list(state.values()), x).graph, names


# -- reading the graph -------------------------------------------------------------------------


def _op(node: torch.fx.Node) -> str:
    """ "convolution" for aten.convolution.default; "" for placeholders and the output."""
    if node.op != "call_function":
        return ""
    name = getattr(node.target, "__name__", str(node.target))
    return name.split(".")[0]


def _shape(node: Any) -> tuple[int, ...] | None:
    value = node.meta.get("val") if isinstance(node, torch.fx.Node) else None
    if isinstance(value, (tuple, list)) and value:
        value = value[0]
    return tuple(int(n) for n in value.shape) if isinstance(value, torch.Tensor) else None


def analyse(graph: torch.fx.Graph, names: list[str]) -> dict:
    """Convolutions, joins and global pools of a traced forward pass (the image is the last placeholder)."""
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    image = placeholders[-1]
    owner = {node: names[i] for i, node in enumerate(placeholders[:-1])}
    depth: dict[torch.fx.Node, int] = {image: 0}  # only nodes that depend on the image
    convs, joins, pools = [], [], []
    for node in graph.nodes:
        inputs = [n for n in node.all_input_nodes if n in depth]
        if node is image or not inputs:
            continue
        op = _op(node)
        depth[node] = max(depth[n] for n in inputs) + (op in _LAYERS)
        if op in _CONVOLUTIONS:
            convs.append(_conv_node_facts(node, owner))
        elif op in _JOINS:
            operands = node.args[0] if op == "cat" else node.args[:2]
            reached = [n for n in operands if isinstance(n, torch.fx.Node) and n in depth]
            if len(reached) >= 2:
                joins.append({"op": op.rstrip("_"), "depths": [depth[n] for n in reached], "shape": _shape(node)})
        if _is_global_pool(node, op):
            pools.append(
                {
                    "kind": "avg" if op in _AVERAGES else "max",
                    "op": op,
                    "input": _shape(node.args[0]),
                    "output": _shape(node),
                }
            )
    averages = {n for n in depth if _is_global_pool(n, _op(n)) and _op(n) in _AVERAGES}
    return {
        "graph_convs": convs,
        "joins": joins,
        "global_pools": pools,
        "output_reachable": _reaches_output(image, set()),
        "output_reachable_without_gap": _reaches_output(image, averages),
        "flattened_maps": _flattened_maps(image, averages),
    }


def _conv_node_facts(node: torch.fx.Node, owner: dict) -> dict:
    weight = node.args[1]
    shape = _shape(weight) or (0, 0, 0, 0)
    groups = int(node.args[8]) if len(node.args) > 8 else 1
    stride = node.args[3] if len(node.args) > 3 else (1, 1)
    return {
        "name": _parameter_name(weight, owner),
        "kernel": tuple(shape[2:]),
        "in": shape[1] * groups,
        "out": shape[0],
        "groups": groups,
        "stride": tuple(int(s) for s in stride),
    }


def _parameter_name(weight: Any, owner: dict) -> str:
    """The module a convolution's weight belongs to (`layer1.0.conv1`), searching back from derived weights."""
    seen, frontier = set(), [weight]
    while frontier:
        node = frontier.pop(0)
        if node in owner:
            return owner[node].removesuffix(".weight")
        if isinstance(node, torch.fx.Node) and node not in seen:
            seen.add(node)
            frontier.extend(node.all_input_nodes)
    return "a convolution called in forward"


def _is_global_pool(node: torch.fx.Node, op: str) -> bool:
    """A mean or max over every position of an (N, C, ...) map: the output is (N, C) or (N, C, 1, 1)."""
    if op not in _AVERAGES and op not in _MAXIMA:
        return False
    before, after = _shape(node.args[0]) if node.args else None, _shape(node)
    if before is None or after is None or len(before) < 3 or after[:2] != before[:2]:
        return False
    positions = 1
    for size in before[2:]:
        positions *= size
    remaining = 1
    for size in after[2:]:
        remaining *= size
    return positions > 1 and remaining == 1


def _reaches_output(image: torch.fx.Node, blocked: set) -> bool:
    seen, frontier = {image}, [image]
    while frontier:
        for user in frontier.pop().users:
            if user.op == "output":
                return True
            if user not in seen and user not in blocked:
                seen.add(user)
                frontier.append(user)
    return False


def _flattened_maps(image: torch.fx.Node, blocked: set) -> list:
    """(C, H, W) of every feature map flattened into a vector on a path that skips global average pooling."""
    seen, frontier, found = {image}, [image], []
    while frontier:
        node = frontier.pop()
        before, after = _shape(node.args[0]) if node.args else None, _shape(node)
        if (
            _op(node) in _VIEWS
            and before
            and after
            and len(before) == 4
            and len(after) == 2
            and before[2] * before[3] > 1
        ):
            found.append(before[1:])
        for user in node.users:
            if user not in seen and user not in blocked and user.op != "output":
                seen.add(user)
                frontier.append(user)
    return sorted(set(found))


# -- learning -----------------------------------------------------------------------------------


@probe
def learning(module: Any, num_classes: int, batch: int, steps: int) -> dict:
    """`steps` Adam steps (lr 1e-3, train mode) on one fixed batch of random images with labels 0, 1, 2...

    Returns {"losses": [loss before each step], "error": what stopped it or None,
    "cut": parameters of modules that ran in the forward pass but got no gradient,
    "frozen": parameters with requires_grad=False}.
    """
    torch.set_num_threads(1)
    model = _build(module, num_classes)
    if not isinstance(model, nn.Module):
        return {"losses": [], "error": f"build_model returned {_type_name(model)}", "cut": [], "frozen": []}
    model.train()
    ran: set[nn.Module] = set()
    handles = [m.register_forward_hook(lambda m, i, o: ran.add(m)) for m in model.modules()]
    images, labels = _images(batch), torch.arange(batch) % num_classes
    frozen = [name for name, p in model.named_parameters() if not p.requires_grad]
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=1e-3) if trainable else None
    losses, cut = [], []
    torch.manual_seed(0)
    for step in range(steps):
        output = model(images)
        if not isinstance(output, torch.Tensor) or tuple(output.shape) != (batch, num_classes):
            return {
                "losses": losses,
                "error": f"the forward pass returned {_output_facts(output)}",
                "cut": cut,
                "frozen": frozen,
            }
        loss = F.cross_entropy(output, labels)
        losses.append(float(loss.item()))
        if optimizer is None or not loss.requires_grad:
            return {
                "losses": losses,
                "error": "the loss does not depend on any trainable parameter",
                "cut": cut,
                "frozen": frozen,
            }
        optimizer.zero_grad()
        loss.backward()
        if step == 0:
            for handle in handles:
                handle.remove()
            cut = [
                f"{owner}.{name}".lstrip(".")
                for owner, m in model.named_modules()
                if m in ran
                for name, p in m.named_parameters(recurse=False)
                if p.requires_grad and p.grad is None
            ]
        optimizer.step()
    return {"losses": losses, "error": None, "cut": cut, "frozen": frozen}


@probe
def notes(module: Any) -> dict:
    """{"type": the type of DESIGN_NOTES, or None if it is missing; "text": it, if it is a str}."""
    if not hasattr(module, "DESIGN_NOTES"):
        return {"type": None, "text": None}
    value = module.DESIGN_NOTES
    return {"type": _type_name(value), "text": value if isinstance(value, str) else None}
