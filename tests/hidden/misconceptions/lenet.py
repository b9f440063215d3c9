"""Known mistakes in LeNet-5, each found from the submission's structure or behaviour.

Where they come from: the forum threads that keep asking "LeNet max pooling vs average
pooling" and "why ReLU in my LeNet", PyTorch tutorials written for 28x28 MNIST (a padded
first convolution) and d2l.ai's LeNet (sigmoid activations, padding=2), code ported from
Keras (channels-last flattening), x.view(-1, ...) and reshape mistakes that mix the
images of a batch, a softmax left in forward before nn.CrossEntropyLoss, and our corpus
(tests/engine/corpus/lenet/).

Each detector looks at the student's model only through the probes the suite uses:
`describe` (the module tree, on the meta device) and `forward` with the test weights,
recording what each layer received and produced. Behaviour is read from how one layer's
output becomes the next layer's input in the student's own model (tanh? ReLU? nothing?),
so a model written with torch.nn.functional, an nn.Tanh module or a loop reads the same.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from grader.suite import arrays_close, ask, builds, described_modules, misconception, model, remembered

LENET = "LeNet-5 (1998)"
POOLING = "Pooling"
PADDING = "Padding and Stride"

SPEC = model("LeNet5")
#: the failing tests a mistake accounts for: in the layers' kinds and sizes, any test of LeNet5;
#: in what forward computes between them, only the tests that run it
STRUCTURE = builds("LeNet5")
BEHAVIOUR = builds("LeNet5", runs=True)
#: how one layer's output becomes the next layer's input, checked in this order
ACTIVATIONS = {"tanh": torch.tanh, "nothing": lambda t: t, "ReLU": torch.relu, "sigmoid": torch.sigmoid}
#: (layer, the module right after its activation): the pairs an activation sits between
AFTER = [("conv1", "pool1"), ("conv2", "pool2"), ("fc1", "fc2"), ("fc2", "fc3")]
#: (pool, the module after it)
AFTER_POOL = {"pool1": "conv2", "pool2": "fc1"}


def _run(student) -> dict:
    """The student's LeNet5() on three images with the test weights: every layer's input and output."""
    x = np.random.default_rng(7).standard_normal((3, 1, 32, 32)).astype(np.float32)
    return remembered(
        student, "run", lambda: ask(student, "forward", SPEC, x, {"seed": 0, "record": "all", "record_inputs": "all"})
    )


def _modules(target, spec=SPEC) -> list:
    return described_modules(target, spec)


def _link(run: dict, layer: str, after: str) -> str | None:
    """What the student applies between `layer`'s output and `after`'s input ("tanh", "ReLU", ...)."""
    out, into = run["records"].get(layer), run["inputs"].get(after)
    if out is None or into is None:
        return None
    if into.size != out.size:
        return None
    out, into = torch.from_numpy(out), into.reshape(out.shape)  # fc1 takes pool2's output flattened
    return next((name for name, f in ACTIVATIONS.items() if arrays_close(into, f(out).numpy())), None)


def _pool_link(run: dict) -> str | None:
    """How conv1's output becomes conv2's input, as "<pool> of <activation>" or "<activation> of <pool>"."""
    out, into = run["records"].get("conv1"), run["inputs"].get("conv2")
    if out is None or into is None:
        return None
    out = torch.from_numpy(out)
    for pool_name, pool in (("avg", F.avg_pool2d), ("max", F.max_pool2d)):
        for act_name, act in ACTIVATIONS.items():
            if arrays_close(into, pool(act(out), 2).numpy()):
                return f"{pool_name} of {act_name}"
            if arrays_close(into, act(pool(out, 2)).numpy()):
                return f"{act_name} of {pool_name}"
    return None


def _join(names: list[str]) -> str | None:
    """'conv1', 'conv1 and fc2', 'conv1, conv2 and fc2'; None for no names."""
    return None if not names else names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


#: the module classes of the activations `_link` names
MODULES = {"ReLU": "ReLU", "sigmoid": "Sigmoid"}


def _activation_after(student, kind: str) -> str | None:
    """The layers the student follows with `kind`, or its `kind` modules that ran (under other names).

    A module that squashes fc3's scores is left to `activation_on_scores`: that is the mistake there.
    """
    run = _run(student)
    found = [layer for layer, after in AFTER if _link(run, layer, after) == kind]
    if not found and (_pool_link(run) or "").endswith(f"of {kind}"):
        found = ["conv1"]
    if not found:
        found = [
            f"{name} ({type_})"
            for name, type_, _, _ in _modules(student)
            if type_ == MODULES[kind] and name in run["records"] and not _takes_scores(run, name)
        ][:1]
    return _join(found)


def _takes_scores(run: dict, name: str) -> bool:
    scores, taken = run["records"].get("fc3"), run["inputs"].get(name)
    return scores is not None and taken is not None and arrays_close(taken, scores)


def _ran(student) -> set[str] | None:
    """The names of the modules that ran in the forward pass; None when it cannot run."""
    try:
        return set(_run(student)["records"])
    except Exception:  # noqa: BLE001 - a forward pass that fails: judge by the structure alone
        return None


@misconception(
    "max_pooling",
    explains=STRUCTURE,
    section=POOLING,
    summary="max-pools at {found}, where LeNet-5 averages",
    explanation="LeNet-5 subsamples by averaging each 2x2 window, nn.AvgPool2d(2); max pooling came later",
)
def max_pooling(student, reference):
    ran = _ran(student)
    maxed = [
        f"{name} ({kind})"
        for name, kind, _, _ in _modules(student)
        if kind in ("MaxPool2d", "AdaptiveMaxPool2d") and (ran is None or name in ran)
    ]
    if maxed and not any(kind == "MaxPool2d" for _, kind, _, _ in _modules(reference)):
        return maxed[0]
    if (_pool_link(_run(student)) or "").startswith("max of"):
        return "the pool before conv2"
    return False


@misconception(
    "relu_activation",
    explains=BEHAVIOUR,
    section=LENET,
    summary="applies ReLU after {found}, where LeNet-5 uses tanh",
    explanation="LeNet-5 predates ReLU: tanh follows conv1, conv2, fc1 and fc2",
)
def relu_activation(student, reference):
    return _activation_after(student, "ReLU")


@misconception(
    "sigmoid_activation",
    explains=BEHAVIOUR,
    section=LENET,
    summary="applies a sigmoid after {found}, where LeNet-5 uses tanh",
    explanation="tanh follows conv1, conv2, fc1 and fc2 (d2l.ai's LeNet uses sigmoid, ours tanh)",
)
def sigmoid_activation(student, reference):
    return _activation_after(student, "sigmoid")


@misconception(
    "activation_after_pooling",
    explains=BEHAVIOUR,
    section=LENET,
    summary="applies tanh after {found} instead of before",
    explanation="with average pooling the order matters: pool1 averages tanh(conv1(x))",
)
def activation_after_pooling(student, reference):
    run = _run(student)
    found = [
        pool
        for conv, pool in AFTER[:2]
        if _link(run, conv, pool) == "nothing" and _link(run, pool, AFTER_POOL[pool]) == "tanh"
    ]
    if not found and _pool_link(run) == "tanh of avg":
        found = ["the pool before conv2"]
    return _join(found)


@misconception(
    "missing_activation",
    explains=BEHAVIOUR,
    section=LENET,
    summary="applies no activation after {found}",
    explanation="tanh follows conv1, conv2, fc1 and fc2; two linear layers with nothing between them act as one",
)
def missing_activation(student, reference):
    run = _run(student)
    found = [
        conv
        for conv, pool in AFTER[:2]
        if _link(run, conv, pool) == "nothing" and _link(run, pool, AFTER_POOL[pool]) == "nothing"
    ]
    if not found and _pool_link(run) == "avg of nothing":
        found = ["conv1"]
    found += [layer for layer, after in AFTER[2:] if _link(run, layer, after) == "nothing"]
    return _join(found)


@misconception(
    "activation_on_scores",
    explains=BEHAVIOUR,
    section=LENET,
    summary="applies {found} to fc3's scores",
    explanation="forward returns fc3's raw scores; nn.CrossEntropyLoss applies log-softmax itself",
)
def activation_on_scores(student, reference):
    run = _run(student)
    scores, output = run["records"].get("fc3"), run["outputs"][0]
    if scores is None or arrays_close(output, scores):
        return False
    scores = torch.from_numpy(scores)
    squashed = {
        "softmax": lambda t: torch.softmax(t, 1),
        "log_softmax": lambda t: torch.log_softmax(t, 1),
        "tanh": torch.tanh,
        "a sigmoid": torch.sigmoid,
        "ReLU": torch.relu,
    }
    return next((name for name, f in squashed.items() if arrays_close(output, f(scores).numpy())), False)


def _linear_outputs(modules) -> list:
    return [hyper.get("out_features") for _, kind, hyper, _ in modules if kind == "Linear"]


@misconception(
    "num_classes_ignored",
    explains=builds("LeNet5", where=lambda spec: spec["kwargs"].get("num_classes", 10) != 10),
    section=LENET,
    summary="ignores num_classes: LeNet5(num_classes=4) has {found}",
    explanation="the last layer has one output per class: nn.Linear(84, num_classes)",
)
def num_classes_ignored(student, reference):
    four = model("LeNet5", num_classes=4)
    got, expected = _linear_outputs(_modules(student, four)), _linear_outputs(_modules(reference, four))
    if got != expected and got == _linear_outputs(_modules(reference)):
        name = [name for name, kind, _, _ in _modules(student, four) if kind == "Linear"][-1]
        return f"{got[-1]} outputs at {name}"
    return False


def _convs(modules) -> list:
    return [(name, hyper) for name, kind, hyper, _ in modules if kind == "Conv2d"]


@misconception(
    "rgb_input",
    explains=STRUCTURE,
    section=LENET,
    summary="reads {found}, where LeNet-5 takes one grey channel",
    explanation="LeNet-5 reads 1x32x32 digits: conv1 is nn.Conv2d(1, 6, kernel_size=5)",
)
def rgb_input(student, reference):
    (name, hyper), (_, expected) = _convs(_modules(student))[0], _convs(_modules(reference))[0]
    channels = hyper["in_channels"]
    return f"{channels} input channels at {name}" if channels == 3 != expected["in_channels"] else False


@misconception(
    "first_conv_padded",
    explains=STRUCTURE,
    section=PADDING,
    summary="pads {found}, where LeNet-5 does not",
    explanation="padding=2 is for 28x28 MNIST; on 32x32 inputs conv1 is unpadded and pool2 gives 16x5x5 = 400 features",
)
def first_conv_padded(student, reference):
    for (name, got), (_, expected) in zip(_convs(_modules(student)), _convs(_modules(reference))):
        if got.get("padding") != expected.get("padding") and got.get("padding") != (0, 0):
            padding = got["padding"]
            return f"{name} (padding={padding[0] if len(set(padding)) == 1 else padding})"
    return False


def _flattening(student) -> tuple[np.ndarray, np.ndarray] | None:
    """pool2's output and fc1's input in the student's run, when both ran as modules and hold the same values."""
    run = _run(student)
    pooled, flat = run["records"].get("pool2"), run["inputs"].get("fc1")
    if pooled is None or flat is None or flat.size != pooled.size or flat.ndim != 2:
        return None
    if arrays_close(flat, pooled.reshape(len(pooled), -1)):
        return None
    if not arrays_close(np.sort(flat, axis=None), np.sort(pooled, axis=None)):
        return None
    return pooled, flat


def _rows_are_images(pooled: np.ndarray, flat: np.ndarray) -> bool:
    return flat.shape[0] == len(pooled) and all(
        arrays_close(np.sort(row), np.sort(image, axis=None)) for row, image in zip(flat, pooled)
    )


@misconception(
    "flatten_order",
    explains=BEHAVIOUR,
    section=LENET,
    summary="flattens {found} in another order than torch.flatten(x, 1)",
    explanation="fc1's weights follow PyTorch's (C, H, W) order, not Keras' (H, W, C)",
)
def flatten_order(student, reference):
    found = _flattening(student)
    return "pool2's output" if found and _rows_are_images(*found) else False


@misconception(
    "flatten_mixes_images",
    explains=BEHAVIOUR,
    section=LENET,
    summary="flattens {found} so that a row of fc1's input mixes images",
    explanation="keep the batch axis: torch.flatten(x, 1) gives one row of 400 features per image",
)
def flatten_mixes_images(student, reference):
    found = _flattening(student)
    return "pool2's output" if found and not _rows_are_images(*found) else False
