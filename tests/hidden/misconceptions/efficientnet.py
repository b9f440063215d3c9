"""Known mistakes in MBConv and EfficientNet, each found in the submission's structure or behaviour.

Where they come from: the MobileNetV2 and EfficientNet papers' own warnings (the linear
bottleneck: no activation after the projection; the identity skip only when shapes match),
forum and issue threads ("depthwise conv forgot groups", "SE reduction from expanded or
input channels" in lukemelas/EfficientNet-PyTorch and timm, "torchvision's
SqueezeExcitation defaults to ReLU", "swish vs ReLU6"), ResNet habits carried over (a 1x1
projection skip, the stride on a 1x1 conv as in the original ResNet bottleneck), the
rounding of depth multipliers (ceil in the paper's code), and our corpus
(tests/engine/corpus/efficientnet/).

Every entry is a detector `(student, reference) -> False | str` naming the module or model
that shows the mistake. The student may name MBConv's parts freely, so structure is read
from layer kinds and hyper-parameters, and behaviour is compared with weights given by
position (`grader.probes.architectures`): a behavioural entry fires only when the student's
output is exactly that of a variant of the reference making the one mistake.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from typing import Any

import numpy as np
from torch import nn

from grader.suite import (
    PROBES,
    array_difference,
    ask,
    builds,
    describe_model,
    misconception,
    model,
    remembered,
    run_by_position,
)

# -- which failing tests a mistake accounts for: the blocks and networks they build ----------------


def blocks(test, *, runs=None):
    """MBConv(in, out, kernel, stride, ratio) for which `test` holds, and the networks made of MBConv."""
    return builds(
        "MBConv",
        "efficientnet",
        runs=runs,
        where=lambda spec: spec["factory"] == "efficientnet" or len(spec["args"]) == 5 and test(*spec["args"]),
    )


ANY_BLOCK = blocks(lambda *args: True)
RUNNING = blocks(lambda *args: True, runs=True)

SECTION = "EfficientNet (2019)"

WIDE = model("MBConv", 24, 24, 5, 1, 6)  # skip; expanded 144, squeezed to 6 (144 // 4 = 36 would be wrong)
NARROW = model("MBConv", 16, 24, 3, 1, 6)  # no skip (the channels change)
RATIO_ONE = model("MBConv", 32, 16, 3, 1, 1)  # no expansion conv
WIDENING = model("MBConv", 40, 80, 3, 1, 6)  # channels change at stride 1
STRIDED = model("MBConv", 16, 24, 3, 2, 6)  # the depthwise conv carries the stride
STRIDED_SAME = model("MBConv", 12, 12, 5, 2, 4)  # equal channels at stride 2: still no skip


# -- asking both sides, once per submission ------------------------------------------


def _describe(target: Any, spec: dict) -> dict:
    return remembered(target, ("describe", repr(spec)), lambda: ask(target, "describe", spec))


def _modules(target: Any, spec: dict) -> list[tuple[str, str, dict]]:
    """[(qualified name, class name, hyper-parameters)] of the model `spec` builds, in order."""
    return [(name, kind, dict(hyper)) for name, kind, hyper, _ in _describe(target, spec)["modules"]]


def _pair(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value, value)


def _convs(target: Any, spec: dict, kernel: int | None = None) -> list[tuple[str, dict]]:
    return [
        (name, hyper)
        for name, kind, hyper in _modules(target, spec)
        if kind == "Conv2d" and (kernel is None or _pair(hyper.get("kernel_size")) == (kernel, kernel))
    ]


def _inputs(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _output(target: Any, reference: Any, spec: dict, shape: tuple[int, ...]) -> Any:
    """The model's output with the reference's weights by position, on a fixed input of `shape`."""
    layout = _describe(reference, spec)["state"]
    x = _inputs(shape, 21)
    return remembered(
        target, ("run", repr(spec), shape), lambda: run_by_position(target, spec, layout, x, {"seed": 0})["output"]
    )


def _variant(reference: Any, change: Callable[[nn.Module], None]) -> Any:
    """The reference's MBConv with one mistake made to each block it builds."""

    def factory(*args: Any) -> nn.Module:
        block = reference.MBConv(*args)
        change(block)
        return block

    return types.SimpleNamespace(MBConv=factory)


def _computes_like(student: Any, reference: Any, changes: list[Callable], spec: dict, shape: tuple[int, ...]) -> bool:
    """The student's output is that of a variant of the reference (same weights), and not the reference's."""
    got = _output(student, reference, spec, shape)
    if array_difference(got, _output(reference, reference, spec, shape)) is None:
        return False
    return any(
        array_difference(got, _output(_variant(reference, change), reference, spec, shape)) is None
        for change in changes
    )


def _swap(module: nn.Module, old: type, new: Callable[[], nn.Module]) -> None:
    for name, child in module.named_children():
        if isinstance(child, old):
            setattr(module, name, new())
        else:
            _swap(child, old, new)


def _se(block: nn.Module) -> nn.Module:
    return next(m for m in block.modules() if hasattr(m, "fc2"))


def _main_path(block: nn.Module) -> list[nn.Module]:
    """The expansion, depthwise and projection conv_bn parts of the reference's block (not the SE)."""
    return [part for part in block.block if not hasattr(part, "fc2")]


# -- the layers of MBConv ----------------------------------------------------------------


@misconception(
    "depthwise_is_a_full_conv",
    explains=ANY_BLOCK,
    section=SECTION,
    summary="makes {found} a full conv, not depthwise",
    explanation="the depthwise conv is Conv2d(C, C, k, groups=C): one k x k filter per channel",
)
def depthwise_is_a_full_conv(student, reference):
    for name, hyper in _convs(student, WIDE, kernel=5):
        if hyper.get("in_channels") == hyper.get("out_channels") == 144 and hyper.get("groups") == 1:
            return f"{name} of {describe_model(WIDE)}"
    return False


@misconception(
    "expansion_at_ratio_one",
    explains=blocks(lambda c_in, c_out, kernel, stride, ratio: ratio == 1),
    section=SECTION,
    summary="keeps an expansion conv {found} at expand_ratio 1",
    explanation="at ratio 1 MBConv starts with the depthwise conv: no 1x1 expansion",
)
def expansion_at_ratio_one(student, reference):
    extra = _describe(student, RATIO_ONE)["parameters"] - _describe(reference, RATIO_ONE)["parameters"]
    for name, hyper in _convs(student, RATIO_ONE, kernel=1):
        if hyper.get("in_channels") == hyper.get("out_channels") == 32 and extra == 32 * 32 + 2 * 32:
            return f"{name} of {describe_model(RATIO_ONE)}"
    return False


def _layer_size(kind: str, hyper: dict) -> tuple | None:
    """(inputs, outputs, bias) of a 1x1 Conv2d or a Linear, else None."""
    if kind == "Linear":
        return hyper.get("in_features"), hyper.get("out_features"), hyper.get("bias")
    if kind == "Conv2d" and _pair(hyper.get("kernel_size")) == (1, 1):
        return hyper.get("in_channels"), hyper.get("out_channels"), hyper.get("bias")
    return None


@misconception(
    "se_squeezes_expanded_channels",
    explains=ANY_BLOCK,
    section=SECTION,
    summary="squeezes the SE to expanded // 4 channels in {found}",
    explanation="the SE squeezes to max(1, in_channels // 4): 6 here, not 36",
)
def se_squeezes_expanded_channels(student, reference):
    sizes = {name: _layer_size(kind, hyper) for name, kind, hyper in _modules(student, WIDE)}
    squeeze = next((name for name, size in sizes.items() if size == (144, 36, True)), None)
    if squeeze and (36, 144, True) in sizes.values():
        return f"{squeeze} of {describe_model(WIDE)}"
    return False


@misconception(
    "projection_skip",
    explains=blocks(lambda c_in, c_out, kernel, stride, ratio: stride != 1 or c_in != c_out),
    section=SECTION,
    summary="adds a projection shortcut, {found}",
    explanation="MBConv adds x only when stride is 1 and channels match; otherwise no skip at all",
)
def projection_skip(student, reference):
    for spec, (c_in, c_out) in ((WIDENING, (40, 80)), (STRIDED, (16, 24))):
        extra = _describe(student, spec)["parameters"] - _describe(reference, spec)["parameters"]
        if extra not in (c_in * c_out, c_in * c_out + 2 * c_out):  # the shortcut's conv (and BN), nothing else
            continue
        for name, hyper in _convs(student, spec, kernel=1):
            if (hyper.get("in_channels"), hyper.get("out_channels")) == (c_in, c_out):
                return f"{name} of {describe_model(spec)}"
    return False


@misconception(
    "stride_on_expansion",
    explains=blocks(lambda c_in, c_out, kernel, stride, ratio: stride != 1),
    section=SECTION,
    summary="strides the 1x1 expansion conv {found}",
    explanation="the stride belongs to the depthwise k x k conv",
)
def stride_on_expansion(student, reference):
    convs = _convs(student, STRIDED)
    strided_1x1 = [
        name
        for name, hyper in convs
        if _pair(hyper.get("kernel_size")) == (1, 1) and _pair(hyper.get("stride")) == (2, 2)
    ]
    depthwise = [hyper for _, hyper in convs if (hyper.get("groups") or 1) > 1]
    if strided_1x1 and depthwise and all(_pair(hyper.get("stride")) == (1, 1) for hyper in depthwise):
        return f"{strided_1x1[0]} of {describe_model(STRIDED)}"
    return False


# -- what MBConv computes ------------------------------------------------------------------


def _name_of(student: Any, spec: dict, kinds: tuple[str, ...]) -> str:
    """'<first module of one of `kinds`> of <model>', or the model alone when forward uses a function."""
    name = next((name for name, kind, _ in _modules(student, spec) if kind in kinds), None)
    return f"{name} of {describe_model(spec)}" if name else describe_model(spec)


@misconception(
    "activation_after_projection",
    explains=RUNNING,
    section=SECTION,
    summary="applies an activation after the projection {found}",
    explanation="the projection is a linear bottleneck: 1x1 conv and BN only",
)
def activation_after_projection(student, reference):
    changes = [lambda b: b.block[-1].append(nn.SiLU()), lambda b: b.block[-1].append(nn.ReLU())]
    if not _computes_like(student, reference, changes, NARROW, (2, 16, 5, 5)):
        return False
    projections = [
        name
        for name, hyper in _convs(student, NARROW, kernel=1)
        if (hyper.get("in_channels"), hyper.get("out_channels")) == (96, 24)
    ]
    return f"{projections[-1]} of {describe_model(NARROW)}" if projections else f"of {describe_model(NARROW)}"


@misconception(
    "no_skip",
    explains=blocks(lambda c_in, c_out, kernel, stride, ratio: stride == 1 and c_in == c_out, runs=True),
    section=SECTION,
    summary="never adds the identity skip in {found}",
    explanation="with stride 1 and equal channels MBConv returns block(x) + x",
)
def no_skip(student, reference):
    change = [lambda b: setattr(b, "use_skip", False)]
    return describe_model(WIDE) if _computes_like(student, reference, change, WIDE, (2, 24, 5, 5)) else False


@misconception(
    "skip_ignores_stride",
    explains=blocks(lambda c_in, c_out, kernel, stride, ratio: stride != 1 and c_in == c_out, runs=True),
    section=SECTION,
    summary="adds the skip at stride 2 in {found}",
    explanation="the identity skip is only for stride 1 and equal channels (a 1x1 input shows it)",
)
def skip_ignores_stride(student, reference):
    change = [lambda b: setattr(b, "use_skip", True)]
    found = _computes_like(student, reference, change, STRIDED_SAME, (2, 12, 1, 1))
    return describe_model(STRIDED_SAME) if found else False


@misconception(
    "relu_instead_of_silu",
    explains=RUNNING,
    section=SECTION,
    summary="uses ReLU instead of SiLU in {found}",
    explanation="EfficientNet's activation is SiLU (swish), x * sigmoid(x), also inside the SE",
)
def relu_instead_of_silu(student, reference):
    def everywhere(kind):
        return lambda b: _swap(b, nn.SiLU, kind)

    def main_path(kind):
        return lambda b: [_swap(part, nn.SiLU, kind) for part in _main_path(b)]

    changes = [everywhere(nn.ReLU), main_path(nn.ReLU), everywhere(nn.ReLU6), main_path(nn.ReLU6)]
    if not _computes_like(student, reference, changes, NARROW, (2, 16, 5, 5)):
        return False
    return _name_of(student, NARROW, ("ReLU", "ReLU6"))


@misconception(
    "se_relu_activation",
    explains=RUNNING,
    section=SECTION,
    summary="has a ReLU in the SE, {found}",
    explanation="the SE is sigmoid(W2 SiLU(W1 GAP(x))): SiLU, not torchvision's default ReLU",
)
def se_relu_activation(student, reference):
    change = [lambda b: setattr(_se(b), "act", nn.ReLU())]
    if not _computes_like(student, reference, change, NARROW, (2, 16, 5, 5)):
        return False
    return _name_of(student, NARROW, ("ReLU",))


@misconception(
    "se_gate_without_sigmoid",
    explains=RUNNING,
    section=SECTION,
    summary="gates the channels without a sigmoid in {found}",
    explanation="the SE gate is sigmoid(...), one weight in (0, 1) per channel",
)
def se_gate_without_sigmoid(student, reference):
    change = [lambda b: setattr(_se(b), "gate", nn.Identity())]
    return describe_model(NARROW) if _computes_like(student, reference, change, NARROW, (2, 16, 5, 5)) else False


# -- the network -------------------------------------------------------------------------------


def _block_strides(target: Any, spec: dict) -> list[tuple[str, int]]:
    """(name, largest conv stride) of each MBConv in the model, in order."""
    modules = _modules(target, spec)
    blocks = [name for name, kind, _ in modules if kind == "MBConv"]
    return [
        (
            block,
            max(
                (
                    _pair(hyper.get("stride"))[0]
                    for name, kind, hyper in modules
                    if kind == "Conv2d" and name.startswith(block + ".")
                ),
                default=1,
            ),
        )
        for block in blocks
    ]


@misconception(
    "stride_on_every_block",
    explains=builds("efficientnet"),
    section=SECTION,
    summary="strides every block of a stage, e.g. {found}",
    explanation="only a stage's first block has its stride; the others have stride 1",
)
def stride_on_every_block(student, reference):
    spec = model("efficientnet", "b0")
    got, expected = _block_strides(student, spec), _block_strides(reference, spec)
    if len(got) != len(expected):
        return False
    extra = [i for i, ((_, have), (_, want)) in enumerate(zip(got, expected)) if have != want]
    continues_a_strided_run = all(
        expected[i][1] == 1 and got[i][1] == 2 and i > 0 and got[i - 1][1] == 2 for i in extra
    )
    if extra and continues_a_strided_run:
        return f"{got[extra[0]][0]} (MBConv {extra[0] + 1} of {len(got)} in b0)"
    return False


@misconception(
    "head_not_scaled",
    explains=builds("efficientnet"),
    section=SECTION,
    summary="keeps B0's 1280-channel head, {found}",
    explanation="the head conv has round_filters(1280, w) channels, so it grows with the width",
)
def head_not_scaled(student, reference):
    spec = model("efficientnet", "b2")
    expected = [(name, hyper) for name, hyper in _convs(reference, spec, kernel=1) if hyper["out_channels"] == 1408]
    head_input = expected[-1][1]["in_channels"]
    for name, hyper in _convs(student, spec, kernel=1):
        if (hyper.get("in_channels"), hyper.get("out_channels")) == (head_input, 1280):
            return f"{name} of efficientnet('b2') (expected 1408)"
    return False


def _scaled_repeats(
    student: Any, reference: Any, variant: str, rounding: Callable[[float], int]
) -> tuple[int, int, int]:
    """(the student's MBConv count, the count with `rounding` of B0's repeats, the reference's count)."""
    depth = reference.VARIANTS[variant][1]
    count = sum(kind == "MBConv" for _, kind, _ in _modules(student, model("efficientnet", variant)))
    expected = sum(kind == "MBConv" for _, kind, _ in _modules(reference, model("efficientnet", variant)))
    return count, sum(rounding(stage[5] * depth) for stage in reference.B0_STAGES), expected


@misconception(
    "repeats_not_rounded_up",
    explains=builds("efficientnet"),
    section=SECTION,
    summary="rounds scaled repeats {found}",
    explanation="a stage of n blocks gets ceil(depth * n): use scale_stages",
)
def repeats_not_rounded_up(student, reference):
    for variant in ("b1", "b3"):  # the student's own scaling.py must be right, or the mistake is there
        width, depth = reference.VARIANTS[variant][:2]
        theirs = (
            student.probe("architectures.scaled_stages", width, depth)
            if hasattr(student, "probe")
            else PROBES["architectures.scaled_stages"](student, width, depth)
        )
        right = reference.scale_stages(reference.B0_STAGES, width, depth)
        if [tuple(s) for s in theirs.get("stages", ())] != [tuple(s) for s in right]:
            return False
    for words, rounding in (("to nearest", round), ("down", math.floor)):
        counts = [_scaled_repeats(student, reference, variant, rounding) for variant in ("b1", "b3")]
        if all(got == mistaken != expected for got, mistaken, expected in counts):
            got, _, expected = counts[0]
            return f"{words}, not up, in efficientnet('b1') ({got} blocks, expected {expected})"
    return False
