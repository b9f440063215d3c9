"""Known mistakes in the VGG exercise: configurations, layers, the classifier, the counting functions.

Where they come from: the configuration table of the paper copied by hand (a conv or an
"M" short), CIFAR-10 ports of VGG (global pooling to 1x1 and Linear(512, ...), conv
layers without padding), the "BatchNorm before or after ReLU?" forum threads, AlexNet's
classifier carried over, hard-coded constants (p=0.5, in_channels=3), the batch_norm flag
not passed on, counting tensors instead of numbers (len(list(model.parameters()))),
biases left out of the parameter formula (practice exercise 2), and our corpus
(tests/engine/corpus/vgg/).

Imitations come first: they only answer for a failing call of their own function and cost
nothing. Model detectors compare the student's layers of one kind with the reference's in
order, on small models built on the meta device; the two behaviour detectors, last, run a
VGG whose features are a single convolution (its classifier is the full 25088 x 4096 one).
"""

from __future__ import annotations

import types

import numpy as np

from grader.suite import (
    PROBES,
    arrays_close,
    ask,
    builds,
    clipped_scores,
    described_modules,
    misconception,
    model,
    remembered,
)

#: the failing tests a mistake accounts for, by what they call or build
CONFIGS = ("VGG_CONFIGS", "vgg", "vgg_parameter_count")
FEATURE_TESTS = builds("make_features", "vgg")
WITH_BATCH_NORM = builds("make_features", "vgg", where=lambda spec: spec["kwargs"].get("batch_norm") is True)
NETWORK = builds("VGG", "vgg")
#: count_parameters' own tests, and parameter_breakdown's: a breakdown that sums count_parameters
#: per kind shows the same count of tensors
COUNT_TESTS = ("count_parameters", "parameter_breakdown")

VGG = "VGGNet (2014)"
POOLING = "Pooling"
PADDING = "Padding and Stride"
PRACTICE = "Practice Exercises"

PAPER = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}
FEATURES = model("make_features", [8, "M", 16, 16, "M"])
BATCH_NORM = model("make_features", [8, 8], batch_norm=True)
CLASSIFIER = model("VGG", model("torch.nn.Conv2d", 3, 512, 3, padding=1), num_classes=10, dropout=0.25)
_CONTAINERS = ("VGG", "Sequential", "ModuleList", "ModuleDict")


def _modules(target, spec) -> list:
    return described_modules(target, spec)


def _layers(target, kind: str, spec) -> list:
    """[(name, hyper-parameters)] of the modules of one kind, in the order they are registered."""
    return [(name, hyper) for name, k, hyper, _ in _modules(target, spec) if k == kind]


def _leaves(target, spec) -> list[tuple[str, str]]:
    return [(name, kind) for name, kind, _, _ in _modules(target, spec) if name and kind not in _CONTAINERS]


def _layer(name: str) -> str:
    return f"layer {name}" if name.isdigit() else name


def _constant(target, name: str):
    if isinstance(target, types.ModuleType):
        return PROBES["models.constant"](target, name)
    return target.probe("models.constant", name)


# -- the counting functions (imitations and detectors) ---------------------------------------


@misconception(
    "count_forgets_biases",
    imitates="vgg_parameter_count",
    section=PRACTICE,
    summary="a count without the biases",
    explanation="each layer adds one bias per output: 9 * C_in * C_out + C_out for a 3x3 conv",
)
def count_forgets_biases(reference, name, num_classes=1000, batch_norm=False):
    total, in_channels = 0, 3
    for v in reference.VGG_CONFIGS[name]:
        if v != "M":
            total += 9 * in_channels * v + (2 * v if batch_norm else 0)
            in_channels = v
    return total + 512 * 7 * 7 * 4096 + 4096 * 4096 + 4096 * num_classes


@misconception(
    "count_parameters_counts_tensors",
    explains=COUNT_TESTS,
    section=PRACTICE,
    summary="counts parameter tensors in count_parameters, not the numbers in them",
    explanation="model.parameters() yields weight and bias tensors: add p.numel() of each",
)
def count_parameters_counts_tensors(student, reference):
    spec = model("torch.nn.Linear", 7, 3)
    return ask(student, "call_with_model", spec, "count_parameters", [], True) == 2


@misconception(
    "breakdown_bn_as_conv",
    explains="parameter_breakdown",
    section=PRACTICE,
    summary="counts BatchNorm2d parameters as convolution parameters in parameter_breakdown",
    explanation='BatchNorm2d is not a Conv2d: its 2 * C parameters go under "bn"',
)
def breakdown_bn_as_conv(student, reference):
    spec = model(
        "torch.nn.Sequential",
        model("torch.nn.Conv2d", 3, 4, 3),
        model("torch.nn.BatchNorm2d", 4),
        model("torch.nn.Linear", 2, 3),
    )
    got = ask(student, "call_with_model", spec, "parameter_breakdown", [], True)
    expected = ask(reference, "call_with_model", spec, "parameter_breakdown", [], True)
    return (
        isinstance(got, dict)
        and got.get("bn") == 0
        and got.get("fc") == expected["fc"]
        and got.get("conv") == expected["conv"] + expected["bn"]
    )


# -- the configurations ----------------------------------------------------------------------


def _blocks(config) -> list[int]:
    """Convolutions per block (a block ends with "M")."""
    counts, current = [], 0
    for v in config:
        if v == "M":
            counts.append(current)
            current = 0
        else:
            current += 1
    return counts + ([current] if current else [])


def _config_pairs(student, reference):
    configs = _constant(student, "VGG_CONFIGS")
    for name in PAPER:
        got = configs.get(name) if isinstance(configs, dict) else None
        if isinstance(got, (list, tuple)) and list(got) != reference.VGG_CONFIGS[name]:
            yield name, list(got), reference.VGG_CONFIGS[name]


@misconception(
    "config_missing_pool",
    explains=CONFIGS,
    section=VGG,
    summary="leaves out a pool: {found}",
    explanation='each of the five blocks ends with "M", which halves H and W: 224 / 2^5 = 7',
)
def config_missing_pool(student, reference):
    for name, got, expected in _config_pairs(student, reference):
        ints = [v for v in got if v != "M"]
        if ints == [v for v in expected if v != "M"] and got.count("M") < expected.count("M"):
            return (
                f"VGG_CONFIGS[{name!r}] has {got.count('M')} 'M', configuration {PAPER[name]} has {expected.count('M')}"
            )
    return False


@misconception(
    "config_conv_count",
    explains=CONFIGS,
    section=VGG,
    summary="puts {found}",
    explanation="A, B, D and E differ in convolutions per block: D (VGG-16) has 2, 2, 3, 3, 3",
)
def config_conv_count(student, reference):
    for name, got, expected in _config_pairs(student, reference):
        have, want = _blocks(got), _blocks(expected)
        if len(have) == len(want) and have != want:
            block = next(i for i, (a, b) in enumerate(zip(have, want)) if a != b)
            return (
                f"{have[block]} convolutions in block {block + 1} of VGG_CONFIGS[{name!r}] "
                f"(configuration {PAPER[name]}: {want[block]})"
            )
    return False


# -- make_features ---------------------------------------------------------------------------


@misconception(
    "avg_pooling",
    explains=FEATURE_TESTS,
    section=POOLING,
    summary='turns "M" into {found}, where VGG max-pools',
    explanation='"M" is nn.MaxPool2d(kernel_size=2, stride=2)',
)
def avg_pooling(student, reference):
    found = [
        f"{_layer(name)} ({kind})"
        for name, kind in _leaves(student, FEATURES)
        if kind in ("AvgPool2d", "AdaptiveAvgPool2d")
    ]
    return found[0] if found and not _layers(reference, "AvgPool2d", FEATURES) else False


@misconception(
    "conv_unpadded",
    explains=FEATURE_TESTS,
    section=PADDING,
    summary="leaves the 3x3 convolutions unpadded ({found})",
    explanation="every VGG convolution has padding=1 and keeps H and W; only the pools shrink",
)
def conv_unpadded(student, reference):
    for (name, got), (_, expected) in zip(_layers(student, "Conv2d", FEATURES), _layers(reference, "Conv2d", FEATURES)):
        if got.get("padding") == (0, 0) != expected.get("padding"):
            return f"{_layer(name)} has padding=(0, 0)"
    return False


@misconception(
    "batch_norm_after_relu",
    explains=WITH_BATCH_NORM,
    section=VGG,
    summary="puts BatchNorm2d after the ReLU ({found})",
    explanation="the order is Conv2d, BatchNorm2d, ReLU: the ReLU sees normalised values",
)
def batch_norm_after_relu(student, reference):
    got, expected = [k for _, k in _leaves(student, BATCH_NORM)], [k for _, k in _leaves(reference, BATCH_NORM)]
    if got == expected or sorted(got) != sorted(expected):
        return False
    norms = [i for i, k in enumerate(got) if k == "BatchNorm2d"]
    if norms and all(i >= 1 and got[i - 1] == "ReLU" for i in norms):
        return f"{_layer(_leaves(student, BATCH_NORM)[norms[0]][0])} follows the ReLU"
    return False


@misconception(
    "batch_norm_ignored",
    explains=WITH_BATCH_NORM,
    section=VGG,
    summary="builds no BatchNorm2d for batch_norm=True in {found}",
    explanation="it adds BatchNorm2d(c) after every convolution, in vgg as in make_features",
)
def batch_norm_ignored(student, reference):
    if not _layers(student, "BatchNorm2d", BATCH_NORM):
        return "make_features"
    spec = model("vgg", "vgg11", batch_norm=True)
    return "vgg" if not _layers(student, "BatchNorm2d", spec) and _layers(reference, "BatchNorm2d", spec) else False


@misconception(
    "in_channels_ignored",
    explains=builds("make_features", where=lambda spec: spec["kwargs"].get("in_channels", 3) != 3),
    section=VGG,
    summary="ignores in_channels: make_features([8], in_channels=1) has {found}",
    explanation="the first convolution reads in_channels channels",
)
def in_channels_ignored(student, reference):
    spec = model("make_features", [8], in_channels=1)
    ((name, got),) = _layers(student, "Conv2d", spec)[:1]
    return f"in_channels={got['in_channels']} at {_layer(name)}" if got.get("in_channels") == 3 else False


# -- the VGG class -----------------------------------------------------------------------------


@misconception(
    "global_average_pooling",
    explains=NETWORK,
    section=POOLING,
    summary="pools to {found}, where VGG keeps 7x7",
    explanation="avgpool is AdaptiveAvgPool2d((7, 7)); the first Linear takes 512 * 7 * 7 = 25088 features",
)
def global_average_pooling(student, reference):
    got = _layers(student, "AdaptiveAvgPool2d", CLASSIFIER)
    expected = _layers(reference, "AdaptiveAvgPool2d", CLASSIFIER)
    if not got or not expected or expected[0][1].get("output_size") in ((1, 1), 1):
        return False
    return f"1x1 at {got[0][0]}" if got[0][1].get("output_size") in ((1, 1), 1) else False


@misconception(
    "dropout_argument_ignored",
    explains=builds("VGG", where=lambda spec: "dropout" in spec["kwargs"]),
    section=VGG,
    summary="ignores the dropout argument: VGG(features, dropout=0.25) has {found}",
    explanation="pass it on: nn.Dropout(p=dropout)",
)
def dropout_argument_ignored(student, reference):
    got = _layers(student, "Dropout", CLASSIFIER)
    expected = [hyper.get("p") for _, hyper in _layers(reference, "Dropout", CLASSIFIER)]
    wrong = [f"p={hyper.get('p')} at {name}" for (name, hyper), p in zip(got, expected) if hyper.get("p") != p]
    return wrong[0] + (" and the other" if len(wrong) > 1 else "") if got and len(wrong) == len(got) else False


@misconception(
    "classifier_linear_only",
    explains=NETWORK,
    section=VGG,
    summary="keeps only the Linear layers in {found}",
    explanation="ReLU and Dropout belong in it too: their positions give the keys (classifier.3.weight)",
)
def classifier_linear_only(student, reference):
    head = ("Linear", "ReLU", "Dropout")
    got = [(name, kind) for name, kind in _leaves(student, CLASSIFIER) if kind in head]
    expected = [kind for _, kind in _leaves(reference, CLASSIFIER) if kind in head]
    if not got or [kind for _, kind in got] != [kind for kind in expected if kind == "Linear"]:
        return False
    return got[0][0].rpartition(".")[0] or "the model"


@misconception(
    "dropout_before_linear",
    explains=NETWORK,
    section=VGG,
    summary="puts Dropout before the hidden Linear layers ({found}), as AlexNet does",
    explanation="VGG's classifier is (Linear, ReLU, Dropout) twice, then Linear",
)
def dropout_before_linear(student, reference):
    got, expected = _leaves(student, CLASSIFIER), _leaves(reference, CLASSIFIER)
    kinds, wanted = [k for _, k in got], [k for _, k in expected]
    if (
        kinds == wanted
        or [k for k in kinds if k != "Dropout"] != [k for k in wanted if k != "Dropout"]
        or kinds.count("Dropout") != wanted.count("Dropout")
    ):
        return False
    dropouts = [i for i, k in enumerate(kinds) if k == "Dropout"]
    if dropouts and all(i + 1 < len(kinds) and kinds[i + 1] == "Linear" for i in dropouts):
        return " and ".join(got[i][0] for i in dropouts)
    return False


# -- behaviour (a full classifier: about a second each) -----------------------------------------


def _input(size: int) -> np.ndarray:
    return np.random.default_rng(4).standard_normal((1, 3, size, size)).astype(np.float32)


def _run(target, spec=CLASSIFIER, size: int = 7) -> dict:
    """`spec` on a 7x7 image (the features keep 7x7, so avgpool changes nothing), recording every module."""
    return remembered(
        target, f"run{size}", lambda: ask(target, "forward", spec, _input(size), {"seed": 0, "record": "all"})
    )


@misconception(
    "relu_after_scores",
    explains=builds("VGG", "vgg", runs=True),
    section=VGG,
    summary="clips the scores of {found}, the last Linear layer, with a ReLU",
    explanation="scores may be negative: nothing follows the last Linear layer",
)
def relu_after_scores(student, reference):
    linears = _layers(student, "Linear", CLASSIFIER)
    return clipped_scores(linears[-1][0] if linears else None, _run(student)) or False


@misconception(
    "forward_skips_avgpool",
    explains=builds("VGG", "vgg", runs=True),
    section=VGG,
    summary="never calls {found} in forward",
    explanation="AdaptiveAvgPool2d((7, 7)) is what lets sizes other than 224x224 work",
)
def forward_skips_avgpool(student, reference):
    pools = [name for name, _ in _layers(student, "AdaptiveAvgPool2d", CLASSIFIER)]
    run = _run(student)
    if not pools or pools[0] in run["records"] or not arrays_close(run["outputs"][0], _run(reference)["outputs"][0]):
        return False
    try:
        larger = ask(student, "forward", CLASSIFIER, _input(9), {"seed": 0})["outputs"][0]
    except Exception:  # noqa: BLE001 - the student's forward fails on 9x9 inputs: the mistake shows
        return pools[0]
    return pools[0] if not arrays_close(larger, _run(reference, size=9)["outputs"][0]) else False
