"""Known mistakes in residual networks, each found in the submission's structure or behaviour.

Where they come from: the CS231n and d2l.ai ResNet exercises and their forum threads
("stride on conv1 or conv2?", "downsample without BatchNorm", "ReLU before or after the
addition", "why does my ResNet18 output 32x32 after layer1"), PyTorch forum threads on
detaching the identity, torchvision's BasicBlock (stride on conv1; its Bottleneck moved the
stride to the 3x3 conv, "ResNet v1.5"), the pre-activation ResNet paper (He et al., 2016,
no ReLU after the addition), and our corpus (tests/engine/corpus/residual/).

Every entry is a detector `(student, reference) -> False | str`: it builds small models on
both sides (`grader.probes.models`), with the same weights by state-dict key, and reports the
module that shows the mistake. Behavioural entries compare the student's output with a
variant of the reference that makes the one mistake, so they fire only when the student
computes exactly that, never on a correct alternative or on another bug.
"""

from __future__ import annotations

import itertools
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from grader.suite import PROBES, array_difference, ask, builds, describe_model, misconception, model, remembered

RESNET = "ResNet (2015)"
EXAMPLE = "PyTorch ResNet Example"

IDENTITY = model("ResidualBlock", 16, 16, stride=1)
PROJECTION = model("ResidualBlock", 16, 32, stride=2)
RESNET18_INPUT = (1, 3, 32, 32)  # 16x16 after conv1, 8x8 after the max pool, 1x1 after layer4


# -- which failing tests a mistake accounts for: the models they build ------------------------
NETWORKS = ("MiniResNet", "resnet18")


def _block_shape(spec: dict) -> tuple[int, int, int]:
    """(in_channels, out_channels, stride) of a ResidualBlock description."""
    args, kwargs = list(spec["args"]), spec["kwargs"]
    names = ("in_channels", "out_channels", "stride")
    return tuple(args[i] if len(args) > i else kwargs.get(name, 1) for i, name in enumerate(names))


def _with_residual_blocks(test):
    """Blocks for which `test(in, out, stride)` holds, and the networks made of residual blocks."""
    return builds(
        "ResidualBlock",
        *NETWORKS,
        where=lambda spec: spec["factory"] in NETWORKS
        and spec["kwargs"].get("skip", True)
        or spec["factory"] == "ResidualBlock"
        and test(*_block_shape(spec)),
    )


STRIDED_BLOCKS = _with_residual_blocks(lambda c_in, c_out, stride: stride != 1)
PROJECTING_BLOCKS = _with_residual_blocks(lambda c_in, c_out, stride: stride != 1 or c_in != c_out)
IDENTITY_BLOCKS = _with_residual_blocks(lambda c_in, c_out, stride: stride == 1 and c_in == c_out)
ANY_BLOCK = _with_residual_blocks(lambda c_in, c_out, stride: True)
#: what a block computes shows only when it runs, in any block and any network made of them
RUNNING_BLOCKS = builds("ResidualBlock", *NETWORKS, runs=True)


# -- asking both sides, once per submission ------------------------------------------


def _ask(target: Any, probe: str, spec: dict, *args: Any) -> Any:
    """`models.<probe>` on the student's proxy, the reference module or a variant of it; cached per target."""
    key = (probe, repr(spec), repr([(a.shape, a.tobytes()) if isinstance(a, np.ndarray) else a for a in args]))
    if hasattr(target, "probe") or isinstance(target, types.ModuleType):
        return remembered(target, key, lambda: ask(target, probe, spec, *args))
    return remembered(target, key, lambda: PROBES[f"models.{probe}"](target, spec, *args))


def _inputs(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _output(target: Any, spec: dict, shape: tuple[int, ...] = (2, 16, 6, 6)) -> Any:
    return _ask(target, "forward", spec, _inputs(shape, 11), {"seed": 0})["outputs"][0]


def _modules(target: Any, spec: dict) -> dict[str, tuple[str, dict]]:
    """{qualified name: (class name, hyper-parameters)} of the model `spec` builds."""
    return {name: (kind, dict(hyper)) for name, kind, hyper, _ in _ask(target, "describe", spec)["modules"]}


def _shortcut_layers(target: Any, spec: dict) -> dict[str, tuple[str, dict]]:
    return {name: found for name, found in _modules(target, spec).items() if name.startswith("shortcut.")}


def _projects(target: Any, spec: dict) -> bool:
    """Whether the block's shortcut holds a convolution (a projection)."""
    return any(kind == "Conv2d" for kind, _ in _shortcut_layers(target, spec).values())


def _pair(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value, value)


def _variant(reference: Any, forward: Callable) -> Any:
    """The reference's ResidualBlock with another forward: the one mistake, on the reference's layers."""
    block = type("ResidualBlockVariant", (reference.ResidualBlock,), {"forward": forward})
    return types.SimpleNamespace(ResidualBlock=block)


def _branch(block: Any, x: torch.Tensor) -> torch.Tensor:
    return block.bn2(block.conv2(torch.relu(block.bn1(block.conv1(x)))))


def _computes_like(student: Any, reference: Any, variants: list[Any], spec: dict = IDENTITY) -> bool:
    """The student's output is a variant's (same weights), and not the reference's."""
    got = _output(student, spec)
    if array_difference(got, _output(reference, spec)) is None:
        return False
    return any(array_difference(got, _output(variant, spec)) is None for variant in variants)


# -- the block's stride ----------------------------------------------------------------


@misconception(
    "block_ignores_stride",
    explains=STRIDED_BLOCKS,
    section=EXAMPLE,
    summary="does not downsample in {found}",
    explanation="conv1 and the projection carry the stride, so H' = (H - 1) // stride + 1",
)
def block_ignores_stride(student, reference):
    x = _inputs((1, 16, 8, 8), 12)
    got = _ask(student, "forward", PROJECTION, x, {"seed": 0})["outputs"][0]
    expected = _ask(reference, "forward", PROJECTION, x, {"seed": 0})["outputs"][0]
    if getattr(got, "shape", None) == (1, 32, 8, 8) and expected.shape == (1, 32, 4, 4):
        return f"{describe_model(PROJECTION)} (8x8 in and out)"
    return False


def _downsamples(target: Any) -> bool:
    """Whether ResidualBlock(16, 32, stride=2)'s residual path halves H and W (a stride on conv1 or conv2)."""
    strides = [
        _pair(hyper.get("stride"))
        for name, (kind, hyper) in _modules(target, PROJECTION).items()
        if name in ("conv1", "conv2") and kind == "Conv2d"
    ]
    return (2, 2) in strides


@misconception(
    "stride_on_second_conv",
    explains=STRIDED_BLOCKS,
    section=EXAMPLE,
    summary="puts the stride on {found}, not conv1",
    explanation="conv1 carries the stride (as in torchvision's BasicBlock); conv2 has stride 1",
)
def stride_on_second_conv(student, reference):
    got, expected = _modules(student, PROJECTION), _modules(reference, PROJECTION)
    conv1, conv2 = got.get("conv1", ("", {})), got.get("conv2", ("", {}))
    if (
        conv1[0] == conv2[0] == "Conv2d"
        and _pair(conv1[1].get("stride")) == (1, 1)
        and _pair(conv2[1].get("stride")) == _pair(expected["conv1"][1]["stride"]) == (2, 2)
    ):
        return f"conv2 of {describe_model(PROJECTION)}"
    return False


# -- the shortcut --------------------------------------------------------------------------


@misconception(
    "shortcut_without_batch_norm",
    explains=PROJECTING_BLOCKS,
    section=EXAMPLE,
    summary="projects the shortcut of {found} without BatchNorm2d",
    explanation="the projection is a 1x1 Conv2d then BatchNorm2d, like the main path",
)
def shortcut_without_batch_norm(student, reference):
    kinds = [kind for kind, _ in _shortcut_layers(student, PROJECTION).values()]
    norms = [kind for kind, _ in _modules(student, PROJECTION).values()].count("BatchNorm2d")
    expected = [kind for kind, _ in _modules(reference, PROJECTION).values()].count("BatchNorm2d")
    if "Conv2d" in kinds and "BatchNorm2d" not in kinds and norms == expected - 1:  # not merely named elsewhere
        return describe_model(PROJECTION)
    return False


@misconception(
    "projection_ignores_stride",
    explains=STRIDED_BLOCKS,
    section=EXAMPLE,
    summary="gives the projection {found} no stride",
    explanation="the projection needs the block's stride to match F(x)'s size",
)
def projection_ignores_stride(student, reference):
    if not _downsamples(student):
        return False
    for name, (kind, hyper) in _shortcut_layers(student, PROJECTION).items():
        if kind == "Conv2d" and _pair(hyper.get("kernel_size")) == (1, 1) and _pair(hyper.get("stride")) == (1, 1):
            return f"{name} of {describe_model(PROJECTION)}"
    return False


@misconception(
    "identity_shortcut_at_stride",
    explains=STRIDED_BLOCKS,
    section=EXAMPLE,
    summary="keeps an identity shortcut in {found}",
    explanation="project the shortcut when stride != 1 or the channels change",
)
def identity_shortcut_at_stride(student, reference):
    strided = model("ResidualBlock", 16, 16, stride=2)
    widening = model("ResidualBlock", 16, 32, stride=1)
    if (
        _projects(reference, strided)
        and not _projects(student, strided)
        and _projects(student, widening)
        and _ask(student, "describe", strided)["parameters"]
        == _ask(reference, "describe", model("ResidualBlock", 16, 16, stride=1))["parameters"]
    ):
        return describe_model(strided)
    return False


@misconception(
    "projection_when_shapes_match",
    explains=IDENTITY_BLOCKS,
    section=EXAMPLE,
    summary="projects the shortcut of {found}, where shapes match",
    explanation="there the shortcut is the identity (an empty nn.Sequential)",
)
def projection_when_shapes_match(student, reference):
    if _projects(student, IDENTITY) and not _projects(reference, IDENTITY):
        return describe_model(IDENTITY)
    return False


@misconception(
    "conv_bias_before_batch_norm",
    explains=ANY_BLOCK,
    section=EXAMPLE,
    summary="gives {found} a bias before BatchNorm",
    explanation="BatchNorm cancels it: convs before BatchNorm use bias=False",
)
def conv_bias_before_batch_norm(student, reference):
    for spec in (PROJECTION, model("MiniResNet"), model("resnet18")):
        try:
            got, expected = _modules(student, spec), _modules(reference, spec)
        except Exception:  # noqa: BLE001, S112 - a model that does not build shows nothing here
            continue
        biased = [
            name
            for name, (kind, hyper) in expected.items()
            if kind == "Conv2d"
            and hyper.get("bias") is False
            and got.get(name, ("", {}))[0] == "Conv2d"
            and got[name][1].get("bias") is True
        ]
        if biased:
            return f"{biased[0]}{' and others' if len(biased) > 1 else ''} of {describe_model(spec)}"
    return False


# -- the addition and the ReLU ---------------------------------------------------------------


@misconception(
    "relu_before_addition",
    explains=RUNNING_BLOCKS,
    section=RESNET,
    summary="applies a ReLU before the addition in {found}",
    explanation="y = relu(bn2(conv2(...)) + shortcut(x)): the ReLU comes after the sum",
)
def relu_before_addition(student, reference):
    before = _variant(reference, lambda self, x: torch.relu(_branch(self, x)) + self.shortcut(x))
    twice = _variant(reference, lambda self, x: torch.relu(torch.relu(_branch(self, x)) + self.shortcut(x)))
    return describe_model(IDENTITY) if _computes_like(student, reference, [before, twice]) else False


@misconception(
    "no_relu_after_addition",
    explains=RUNNING_BLOCKS,
    section=RESNET,
    summary="skips the ReLU after the addition in {found}",
    explanation="the block returns relu(F(x) + shortcut(x)), as in the tutorial",
)
def no_relu_after_addition(student, reference):
    linear = _variant(reference, lambda self, x: _branch(self, x) + self.shortcut(x))
    return describe_model(IDENTITY) if _computes_like(student, reference, [linear]) else False


@misconception(
    "no_skip",
    explains=RUNNING_BLOCKS,
    section=RESNET,
    summary="never adds the shortcut in {found}",
    explanation="a residual block returns relu(F(x) + shortcut(x)); without it there is no identity path",
)
def no_skip(student, reference):
    plain = _variant(reference, lambda self, x: torch.relu(_branch(self, x)))
    return describe_model(IDENTITY) if _computes_like(student, reference, [plain]) else False


@misconception(
    "detached_skip",
    explains=RUNNING_BLOCKS,
    section=RESNET,
    summary="detaches the skip connection in {found}",
    explanation="the identity path must carry the gradient: dL/dx = dL/dy * (1 + dF/dx)",
)
def detached_skip(student, reference):
    x = _inputs((2, 16, 6, 6), 13)
    options = {"direction": _inputs((2, 16, 6, 6), 14)}
    if array_difference(_output(student, IDENTITY), _output(reference, IDENTITY)) is not None:
        return False
    detached = _variant(reference, lambda self, x: torch.relu(_branch(self, x) + self.shortcut(x.detach())))
    got = _ask(student, "gradients", IDENTITY, x, options)["input_grad"]
    if (
        array_difference(got, _ask(reference, "gradients", IDENTITY, x, options)["input_grad"]) is not None
        and array_difference(got, _ask(detached, "gradients", IDENTITY, x, options)["input_grad"]) is None
    ):
        return describe_model(IDENTITY)
    return False


# -- the networks ----------------------------------------------------------------------------


@misconception(
    "skip_flag_ignored",
    explains=builds("MiniResNet", where=lambda spec: spec["kwargs"].get("skip") is False),
    section=RESNET,
    summary="builds {found} from ResidualBlocks",
    explanation="skip=False makes every block a PlainBlock, the same network without shortcuts",
)
def skip_flag_ignored(student, reference):
    plain, residual, x = model("MiniResNet", skip=False), model("MiniResNet"), _inputs((1, 3, 8, 8), 15)
    if _ask(student, "describe", plain)["parameters"] != _ask(reference, "describe", residual)["parameters"]:
        return False  # a cheap look first: the plain network has no projection weights
    got = _ask(student, "forward", plain, x, {"seed": 0})["outputs"][0]
    if (
        array_difference(got, _ask(reference, "forward", plain, x, {"seed": 0})["outputs"][0]) is not None
        and array_difference(got, _ask(reference, "forward", residual, x, {"seed": 0})["outputs"][0]) is None
    ):
        return describe_model(plain)
    return False


def _stage_shapes(target: Any, spec: dict, shape: tuple[int, ...]) -> dict[str, tuple]:
    shapes = _ask(target, "forward", spec, _inputs(shape, 16), {"seed": 0, "shapes": True})["shapes"]
    return {name: tuple(value) for name, value in reversed(shapes)}  # a module called twice: its first call


@misconception(
    "stage_does_not_downsample",
    explains=builds(*NETWORKS),
    section=EXAMPLE,
    summary="does not downsample in {found}",
    explanation="layer2 and later stages start with a stride-2 block that halves H and W",
)
def stage_does_not_downsample(student, reference):
    if not _downsamples(student):
        return False  # the block itself ignores its stride: block_ignores_stride
    for spec, shape, stages in (
        (model("MiniResNet"), (1, 3, 16, 16), ["prep", "layer1", "layer2", "layer3"]),
        (model("resnet18"), RESNET18_INPUT, ["maxpool", "layer1", "layer2", "layer3", "layer4"]),
    ):
        got, expected = _stage_shapes(student, spec, shape), _stage_shapes(reference, spec, shape)
        for before, stage in itertools.pairwise(stages):
            if stage not in got or before not in got or got[before] != expected[before]:
                break
            if got[stage] != expected[stage]:
                kept = got[stage][:2] == expected[stage][:2] and got[stage][2:] == got[before][2:]
                halved = expected[stage][2] * 2 == expected[before][2]
                if kept and halved:
                    side = got[stage][2]
                    return f"{stage} of {describe_model(spec)} ({side}x{side} in and out)"
                break
    return False


@misconception(
    "resnet18_without_maxpool",
    explains=builds("resnet18"),
    section=RESNET,
    summary="has no max pool after conv1 in {found}",
    explanation="the stem is conv 7x7/2, BN, ReLU, MaxPool2d(3, stride=2, padding=1)",
)
def resnet18_without_maxpool(student, reference):
    spec = model("resnet18")
    kinds = [kind for kind, _ in _modules(student, spec).values()]
    if "MaxPool2d" in kinds or "MaxPool2d" not in [kind for kind, _ in _modules(reference, spec).values()]:
        return False
    got, expected = _stage_shapes(student, spec, RESNET18_INPUT), _stage_shapes(reference, spec, RESNET18_INPUT)
    if got.get("conv1") == expected["conv1"] and got.get("layer1") == expected["conv1"] != expected["layer1"]:
        side, expected_side = got["layer1"][2], expected["layer1"][2]
        return f"resnet18() (layer1 at {side}x{side}, expected {expected_side}x{expected_side})"
    return False
