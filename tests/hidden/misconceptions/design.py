"""Known mistakes in the design exercise, each detected from what the student's network does.

The design is open-ended: a DenseNet, functional convolutions or pre-activation
bottlenecks are all right answers. So no entry compares the student's network with
ours; each looks for one mistake the rubric names, in the reports of the design
probes (grader/probes/design.py: the traced forward pass, a training step, the
logits' shapes), and fires only when that mistake is what makes a rubric item fail.

Where the mistakes come from: our corpus (tests/engine/corpus/design/); the PyTorch
forum threads "torch.flatten vs nn.Flatten" (torch.flatten flattens from dimension 0)
and "squeeze() removes the batch dimension when batch size is 1"; "why is my
layer not learning" threads (requires_grad=False left on, .detach() or numpy in
forward); students copying torchvision's ImageNet ResNet (7x7 stem, widths 64 to
512) for small images; CS231n's notes on global average pooling versus flattening
(and max pooling) before the classifier; "my residual block" threads where the
block adds its own output (out + out) instead of its input.
"""

from grader.suite import StudentRaised, misconception, remembered

# Which failing tests a mistake accounts for, told apart by the design probe each runs (its arguments):
# `learning(num_classes, batch, steps)` trains the model; `structure(n)` and `summary(n)` trace or count it.


def _trains(call):
    return len(call.args) == 3


def _traces(call):
    return len(call.args) == 1 and isinstance(call.args[0], int)


def _cases(call):
    """The (num_classes, batch) pairs of an `outputs(cases)` call, which runs the model on each; () for others."""
    if len(call.args) == 1 and isinstance(call.args[0], (list, tuple)):
        return [tuple(case) for case in call.args[0]]
    return []


def _logits(call):
    return bool(_cases(call))


def _logits_of_one_image(call):
    return any(batch == 1 for _, batch in _cases(call))


def _runs_a_batch(call):
    """The call runs the model on more than one image: `outputs` with a batch over 1, `learning` (a batch of
    `call.args[1]`), `structure` (traced on a batch of 2; `summary(n)`, which only counts, takes the same argument)."""
    if _trains(call):
        return call.args[1] > 1
    if _traces(call):
        return "traced" in call.description
    return any(batch > 1 for _, batch in _cases(call))


RESNET = "ResNet (2015)"
POOLING = "Pooling"
VGG = "VGGNet (2014)"
EXAMPLE = "PyTorch ResNet Example"
PRACTICE = "Practice Exercises"

MAX_PARAMETERS = 5_000_000


def _report(student, name, *args):
    """`student.probe(name, *args)` ("design.structure"), run once per submission."""
    return remembered(student, (name, repr(args)), lambda: student.probe(name, *args))


def _logits_shape(student, num_classes, batch):
    """The output shape of build_model(num_classes) on `batch` images; None when the student's code raised
    or returned something else than a tensor (a probe that could not run at all raises)."""
    try:
        (output,) = _report(student, "design.outputs", [(num_classes, batch)])
    except StudentRaised:
        return None
    return tuple(output["shape"]) if output.get("type") == "tensor" else None


def _traced(student):
    """The structure report when the forward pass was traced and the logits depend on the image, else None."""
    facts = _report(student, "design.structure", 50)
    if facts.get("is_module") and facts.get("traced") and facts.get("output_reachable"):
        return facts
    return None


def _modules(parameters):
    """The modules that own these parameters ("stem.0.weight" -> "stem.0"), the first three named."""
    owners = list(dict.fromkeys(name.rpartition(".")[0] or name for name in parameters))
    return ", ".join(owners[:3]) + (f" and {len(owners) - 3} more" if len(owners) > 3 else "")


def _learning(student):
    return _report(student, "design.learning", 50, 2, 1)


# -- the logits --------------------------------------------------------------------------


@misconception(
    "class_count_hard_coded",
    explains=_logits,
    section=PRACTICE,
    summary="hard-codes the class count ({found})",
    explanation="end in nn.Linear(features, num_classes); nothing else depends on num_classes",
)
def class_count_hard_coded(student, reference):
    shapes = [_logits_shape(student, k, 2) for k in (10, 7)]
    if any(s is None or len(s) != 2 or s[0] != 2 for s in shapes):
        return False
    widths = {s[1] for s in shapes}
    if len(widths) != 1 or widths & {10, 7}:
        return False
    return f"{widths.pop()} logits for 10 and for 7 classes"


@misconception(
    "squeeze_drops_batch",
    explains=_logits_of_one_image,
    section=EXAMPLE,
    summary="squeezes away the batch dimension ({found})",
    explanation="squeeze() drops every size-1 dimension, the batch too: use x.flatten(1) or nn.Flatten()",
)
def squeeze_drops_batch(student, reference):
    if _logits_shape(student, 10, 1) == (10,) and _logits_shape(student, 10, 2) == (2, 10):
        return "shape (10,) for one image"
    return False


@misconception(
    "flatten_whole_batch",
    explains=_runs_a_batch,
    section=EXAMPLE,
    summary="flattens the batch into the features ({found})",
    explanation="torch.flatten(x) starts at dim 0, nn.Flatten() at 1: use x.flatten(1)",
)
def flatten_whole_batch(student, reference):
    if _logits_shape(student, 10, 1) != (10,):
        return False
    two = _logits_shape(student, 10, 2)
    if two == (2, 10):
        return False
    return "shape (10,) for one image, " + ("an error" if two is None else f"{two}") + " for two"


# -- learning ------------------------------------------------------------------------------


@misconception(
    "frozen_parameters",
    explains=_trains,
    section=RESNET,
    summary="freezes {found} (requires_grad=False)",
    explanation="the rubric trains every layer: leave all your parameters trainable",
)
def frozen_parameters(student, reference):
    summary = _report(student, "design.summary", 50)
    if not summary.get("is_module") or summary["trainable"] >= summary["parameters"]:
        return False
    frozen = _learning(student)["frozen"]
    return _modules(frozen) if frozen else f"{summary['parameters'] - summary['trainable']:,} parameters"


# -- structure -----------------------------------------------------------------------------


@misconception(
    "imagenet_7x7_stem",
    explains=_traces,
    section=VGG,
    summary="opens with an ImageNet-style stem ({found})",
    explanation="two stacked 3x3 convolutions see as far with fewer weights; the rubric allows 3x3 (and 1x1) only",
)
def imagenet_7x7_stem(student, reference):
    facts = _report(student, "design.structure", 50)
    if not facts.get("is_module"):
        return False
    convs = facts["graph_convs"] if facts.get("traced") else facts["hooked_convs"]
    first = next((c for c in convs if c["in"] == 3), None)
    if first is None or max(first["kernel"]) <= 3:
        return False
    (kh, kw), (sh, _) = first["kernel"], first["stride"]
    return f"{first['name']}, {kh}x{kw} at stride {sh}"


@misconception(
    "global_max_pool",
    explains=_traces,
    section=POOLING,
    summary="pools globally with a maximum ({found})",
    explanation="the rubric asks for the average, nn.AdaptiveAvgPool2d(1) or x.mean(dim=(2, 3)), which every position feeds",
)
def global_max_pool(student, reference):
    facts = _traced(student)
    if facts is None or not facts["output_reachable_without_gap"]:
        return False
    pool = next((p for p in facts["global_pools"] if p["kind"] == "max"), None)
    if pool is None:
        return False
    size = "x".join(str(n) for n in pool["input"][2:])
    try:
        described = _report(student, "models.describe", {"factory": "build_model", "args": [50], "kwargs": {}})
        named = [name for name, kind, *_ in described["modules"] if kind == "AdaptiveMaxPool2d"]
    except Exception:  # noqa: BLE001 - the op still names the pool
        named = []
    return f"{named[0]}, an AdaptiveMaxPool2d" if len(named) == 1 else f"{pool['op']} over {size}"


@misconception(
    "flattened_classifier",
    explains=_traces,
    section=POOLING,
    summary="flattens {found} into the classifier",
    explanation="average each channel first (nn.AdaptiveAvgPool2d(1)): one number per channel, whatever the map's size",
)
def flattened_classifier(student, reference):
    facts = _traced(student)
    if facts is None or not facts["output_reachable_without_gap"] or not facts["flattened_maps"]:
        return False
    if any(p["kind"] == "max" for p in facts["global_pools"]):
        return False
    c, h, w = facts["flattened_maps"][-1]
    return f"a {c}x{h}x{w} map ({c * h * w:,} features)"


@misconception(
    "no_skip_connection",
    explains=_traces,
    section=RESNET,
    summary="has no skip connection",
    explanation="a residual block returns F(x) + x (x through a 1x1 convolution where the shape changes), a direct path for the gradient",
)
def no_skip_connection(student, reference):
    facts = _traced(student)
    return facts is not None and not facts["joins"]


@misconception(
    "join_skips_nothing",
    explains=_traces,
    section=RESNET,
    summary="only joins paths through equally many layers ({found})",
    explanation="a skip adds the block's input x (or its 1x1 projection) to F(x); out + out skips nothing",
)
def join_skips_nothing(student, reference):
    facts = _traced(student)
    if facts is None or not facts["joins"] or any(min(j["depths"]) < max(j["depths"]) for j in facts["joins"]):
        return False
    ops = [j["op"] for j in facts["joins"]]
    words = {"add": ("addition", "additions"), "cat": ("concatenation", "concatenations")}
    return ", ".join(f"{ops.count(op)} {words.get(op, (op, op + 's'))[ops.count(op) > 1]}" for op in dict.fromkeys(ops))


@misconception(
    "imagenet_widths",
    explains=_traces,
    section=PRACTICE,
    summary="uses ImageNet widths ({found})",
    explanation="one 512-channel 3x3 layer has 2.4M weights, half the 5M budget; 256 channels are plenty here",
)
def imagenet_widths(student, reference):
    summary = _report(student, "design.summary", 50)
    if not summary.get("is_module") or summary["parameters"] <= MAX_PARAMETERS:
        return False
    facts = _report(student, "design.structure", 50)
    convs = facts["graph_convs"] if facts.get("traced") else facts["hooked_convs"]
    widest = max((c["out"] for c in convs), default=0)
    if widest < 512:
        return False
    return f"up to {widest} channels, {summary['parameters'] / 1e6:.1f}M parameters"


# -- the graph ------------------------------------------------------------------------------


@misconception(
    "detached_in_forward",
    explains=_trains,
    section=RESNET,
    summary="cuts the graph in forward: {found} get no gradient",
    explanation=".detach(), .data and torch.no_grad() stop the gradient, so the layers before them never learn",
)
def detached_in_forward(student, reference):
    if _traced(student) is None:
        return False
    cut = _learning(student)["cut"]
    return _modules(cut) if cut else False


@misconception(
    "numpy_in_forward",
    explains=_trains,
    section=RESNET,
    summary="leaves torch in forward: {found} get no gradient",
    explanation="autograd follows torch operations only: no numpy, .tolist() or torch.tensor(...) in forward",
)
def numpy_in_forward(student, reference):
    facts = _report(student, "design.structure", 50)
    if not facts.get("is_module") or (facts.get("traced") and facts.get("output_reachable")):
        return False
    cut = _learning(student)["cut"]
    return _modules(cut) if cut else False
