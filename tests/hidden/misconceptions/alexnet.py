"""Known mistakes in AlexNet, found from the submission's structure and behaviour, and in alexnet_shapes.

Where they come from: the paper itself, read literally (96/256/384/384/256 filters split
over two GPUs, local response normalisation after the first two convolutions: torchvision
follows the later single-GPU version without either), LeNet habits carried over (tanh,
2x2 pools), Keras/VGG-style classifiers (dropout after the hidden layer), the "224 or
227?" forum threads about the first convolution's padding, hard-coded constants
(num_classes, p=0.5), and our corpus (tests/engine/corpus/alexnet/). alexnet_shapes
mistakes: the output-size formula rounded up, ReLUs left out of the table, the batch axis
kept in.

Imitations of alexnet_shapes come first: they answer only for a failing call of their own
function. Model detectors compare the student's layers of one kind with the reference's
layers of that kind in order (the first Conv2d with the first Conv2d), so models built in
a loop or through an OrderedDict read the same; behaviour comes from `forward` with the
test weights, last, as it costs a second or two.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from grader.suite import arrays_close, ask, builds, clipped_scores, described_modules, misconception, model, remembered

ALEXNET = "AlexNet (2012)"
POOLING = "Pooling"
PADDING = "Padding and Stride"
OUTPUT_SIZE = "Output Size Formula"

SPEC = model("AlexNet", num_classes=10)
#: the failing tests a mistake accounts for: in the layers, any test of AlexNet; in what forward
#: computes between them, only the tests that run it
STRUCTURE = builds("AlexNet")
BEHAVIOUR = builds("AlexNet", runs=True)
#: the paper's two-GPU filter counts (torchvision: 64, 192, 384, 256, 256)
PAPER_FILTERS = [96, 256, 384, 384, 256]
_CONTAINERS = ("AlexNet", "Sequential", "ModuleList", "ModuleDict")


def _modules(target, spec=SPEC) -> list:
    return described_modules(target, spec)


def _layers(target, kind: str, spec=SPEC) -> list:
    """[(name, hyper-parameters)] of the modules of one kind, in the order they are registered."""
    return [(name, hyper) for name, k, hyper, _ in _modules(target, spec) if k == kind]


def _images(size: int) -> np.ndarray:
    return np.random.default_rng(5).standard_normal((1, 3, size, size)).astype(np.float32)


def _run(target, size: int = 224) -> dict:
    """AlexNet(num_classes=10) on one image with the test weights, recording every submodule's output."""
    return remembered(
        target, f"run{size}", lambda: ask(target, "forward", SPEC, _images(size), {"seed": 0, "record": "all"})
    )


def _ran(target) -> set[str] | None:
    """The names of the modules that ran in the forward pass; None when it cannot run."""
    try:
        return set(_run(target)["records"])
    except Exception:  # noqa: BLE001 - a forward pass that fails: judge by the structure alone
        return None


def _more(names: list[str]) -> str:
    return names[0] + (f" (and {len(names) - 1} more)" if len(names) > 1 else "")


# -- alexnet_shapes ----------------------------------------------------------------------


def _reference_features(reference):
    with torch.device("meta"):
        return list(reference.AlexNet().features)


@misconception(
    "shapes_rounded_up",
    imitates="alexnet_shapes",
    section=OUTPUT_SIZE,
    summary="the output-size formula rounded up",
    explanation="a window that does not fit is dropped: H' = floor((H - K + 2P) / S) + 1 (55, not 56)",
)
def shapes_rounded_up(reference):
    channels, size, shapes = 3, 224, []
    for layer in _reference_features(reference):
        if hasattr(layer, "kernel_size"):
            kernel, stride, padding = (
                v if isinstance(v, int) else v[0] for v in (layer.kernel_size, layer.stride, layer.padding)
            )
            size = math.ceil((size - kernel + 2 * padding) / stride) + 1
        channels = getattr(layer, "out_channels", channels)
        shapes.append((channels, size, size))
    return shapes


@misconception(
    "shapes_without_relus",
    imitates="alexnet_shapes",
    section=ALEXNET,
    summary="a table without the ReLU layers",
    explanation="features has 13 layers, ReLUs included: one (C, H, W) after each",
)
def shapes_without_relus(reference):
    return [
        shape
        for shape, layer in zip(reference.alexnet_shapes(), _reference_features(reference))
        if not isinstance(layer, torch.nn.ReLU)
    ]


@misconception(
    "shapes_with_batch_axis",
    imitates="alexnet_shapes",
    section=ALEXNET,
    summary="shapes that keep the batch axis, (1, C, H, W)",
    explanation="list (C, H, W) per layer: tuple(x.shape[1:])",
)
def shapes_with_batch_axis(reference):
    return [(1, *shape) for shape in reference.alexnet_shapes()]


# -- the layers ------------------------------------------------------------------------


@misconception(
    "non_overlapping_pools",
    explains=STRUCTURE,
    section=ALEXNET,
    summary="pools without overlap at {found}",
    explanation="AlexNet's pools overlap, MaxPool2d(kernel_size=3, stride=2): they overfit less than 2x2",
)
def non_overlapping_pools(student, reference):
    for (name, got), (_, expected) in zip(_layers(student, "MaxPool2d"), _layers(reference, "MaxPool2d")):
        if got.get("kernel_size") == got.get("stride") != expected.get("kernel_size"):
            return f"{name} ({got['kernel_size'][0]}x{got['kernel_size'][1]}, stride {got['stride'][0]})"
    return False


@misconception(
    "tanh_activations",
    explains=BEHAVIOUR,
    section=ALEXNET,
    summary="uses {found} where AlexNet uses ReLU",
    explanation="ReLU, max(0, x), does not saturate: the paper trained six times faster with it",
)
def tanh_activations(student, reference):
    ran = _ran(student)
    saturating = [
        f"{kind} at {name}"
        for name, kind, _, _ in _modules(student)
        if kind in ("Tanh", "Sigmoid") and (ran is None or name in ran)
    ]
    if saturating and not any(kind in ("Tanh", "Sigmoid") for _, kind, _, _ in _modules(reference)):
        return _more(saturating)
    return False


@misconception(
    "first_conv_unpadded",
    explains=STRUCTURE,
    section=PADDING,
    summary="leaves the first convolution, {found}, unpadded",
    explanation="torchvision pads it by 2: (224 - 11 + 4) / 4 + 1 = 55, where no padding gives 54",
)
def first_conv_unpadded(student, reference):
    (name, got), (_, expected) = _layers(student, "Conv2d")[0], _layers(reference, "Conv2d")[0]
    return name if got.get("padding") == (0, 0) != expected.get("padding") else False


@misconception(
    "paper_filter_counts",
    explains=STRUCTURE,
    section=ALEXNET,
    summary="gives {found} the paper's two-GPU filter count",
    explanation="the course builds torchvision's single-GPU AlexNet: 64, 192, 384, 256, 256 filters",
)
def paper_filter_counts(student, reference):
    got = [(name, hyper.get("out_channels")) for name, hyper in _layers(student, "Conv2d")]
    expected = [hyper.get("out_channels") for _, hyper in _layers(reference, "Conv2d")]
    for index, ((name, channels), wanted) in enumerate(zip(got, expected)):
        if channels != wanted:
            paper = index < len(PAPER_FILTERS) and channels == PAPER_FILTERS[index]
            return f"{name} ({channels} filters)" if paper else False
    return False


@misconception(
    "local_response_norm",
    explains=STRUCTURE,
    section=ALEXNET,
    summary="adds local response normalisation at {found}",
    explanation="the paper had it; torchvision's AlexNet, which the course builds, leaves it out",
)
def local_response_norm(student, reference):
    found = [name for name, kind, _, _ in _modules(student) if kind in ("LocalResponseNorm", "CrossMapLRN2d")]
    return _more(found) if found and not _layers(reference, "LocalResponseNorm") else False


@misconception(
    "missing_layer",
    explains=STRUCTURE,
    section=ALEXNET,
    summary="has {found}",
    explanation="its 8 layers are those with weights; pools, ReLUs and dropouts come on top",
)
def missing_layer(student, reference):
    counts = [(len(_layers(target, "Conv2d")), len(_layers(target, "Linear"))) for target in (student, reference)]
    (convs, linears), (want_convs, want_linears) = counts
    if (convs, linears) == (want_convs, want_linears) or convs + linears == 0:
        return False
    return (
        f"{convs} convolutions and {linears} fully connected layers, where AlexNet has {want_convs} and {want_linears}"
    )


@misconception(
    "num_classes_ignored",
    explains=builds("AlexNet", where=lambda spec: spec["kwargs"].get("num_classes", 1000) != 1000),
    section=ALEXNET,
    summary="ignores num_classes: AlexNet(num_classes=10) has {found}",
    explanation="the last layer has one output per class: nn.Linear(4096, num_classes)",
)
def num_classes_ignored(student, reference):
    outputs = [
        [h.get("out_features") for _, h in _layers(t, "Linear", s)]
        for t, s in ((student, SPEC), (reference, SPEC), (reference, model("AlexNet")))
    ]
    if outputs[0] != outputs[1] and outputs[0] == outputs[2]:
        return f"{outputs[0][-1]} outputs at {_layers(student, 'Linear')[-1][0]}"
    return False


@misconception(
    "dropout_argument_ignored",
    explains=builds("AlexNet", where=lambda spec: "dropout" in spec["kwargs"]),
    section=ALEXNET,
    summary="ignores the dropout argument: AlexNet(dropout=0.25) has {found}",
    explanation="pass it on: nn.Dropout(p=dropout)",
)
def dropout_argument_ignored(student, reference):
    spec = model("AlexNet", num_classes=10, dropout=0.25)
    got = [(name, hyper.get("p")) for name, hyper in _layers(student, "Dropout", spec)]
    expected = [hyper.get("p") for _, hyper in _layers(reference, "Dropout", spec)]
    wrong = [f"p={p} at {name}" for (name, p), wanted in zip(got, expected) if p != wanted]
    return _more(wrong) if got and len(wrong) == len(got) else False


def _leaves(target, spec=SPEC) -> list[tuple[str, str]]:
    return [(name, kind) for name, kind, _, _ in _modules(target, spec) if name and kind not in _CONTAINERS]


@misconception(
    "dropout_after_linear",
    explains=STRUCTURE,
    section=ALEXNET,
    summary="puts Dropout after the ReLUs, at {found}",
    explanation="AlexNet's classifier is (Dropout, Linear, ReLU) twice, then Linear: the weights' keys follow",
)
def dropout_after_linear(student, reference):
    got, expected = _leaves(student), _leaves(reference)
    kinds, wanted = [k for _, k in got], [k for _, k in expected]
    if (
        kinds == wanted
        or [k for k in kinds if k != "Dropout"] != [k for k in wanted if k != "Dropout"]
        or kinds.count("Dropout") != wanted.count("Dropout")
    ):
        return False
    dropouts = [i for i, k in enumerate(kinds) if k == "Dropout"]
    if all(i >= 2 and kinds[i - 2 : i] == ["Linear", "ReLU"] for i in dropouts):
        return " and ".join(got[i][0] for i in dropouts)
    return False


# -- behaviour ---------------------------------------------------------------------------


@misconception(
    "relu_after_scores",
    explains=BEHAVIOUR,
    section=ALEXNET,
    summary="clips the scores of {found}, the last Linear layer, with a ReLU",
    explanation="scores may be negative: nothing follows the last Linear layer",
)
def relu_after_scores(student, reference):
    linears = _layers(student, "Linear")
    return clipped_scores(linears[-1][0] if linears else None, _run(student)) or False


@misconception(
    "forward_skips_avgpool",
    explains=BEHAVIOUR,
    section=ALEXNET,
    summary="never calls {found} in forward",
    explanation="AdaptiveAvgPool2d((6, 6)) is what lets sizes other than 224x224 work",
)
def forward_skips_avgpool(student, reference):
    pools = [name for name, _ in _layers(student, "AdaptiveAvgPool2d")]
    run = _run(student)
    if not pools or pools[0] in run["records"] or not arrays_close(run["outputs"][0], _run(reference)["outputs"][0]):
        return False
    try:
        smaller = ask(student, "forward", SPEC, _images(100), {"seed": 0})["outputs"][0]
    except Exception:  # noqa: BLE001 - the student's forward fails on 100x100 images: the mistake shows
        return pools[0]
    expected = ask(reference, "forward", SPEC, _images(100), {"seed": 0})["outputs"][0]
    return pools[0] if not arrays_close(smaller, expected) else False
