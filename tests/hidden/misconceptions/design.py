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

from grader.diagnosis import misconception
from grader.student import StudentRaised

RESNET = "ResNet (2015)"
POOLING = "Pooling"
VGG = "VGGNet (2014)"
EXAMPLE = "PyTorch ResNet Example"
PRACTICE = "Practice Exercises"

MAX_PARAMETERS = 5_000_000

#: The probes' reports, per submission: one detector's probe run serves the others (the
#: diagnosis has 10 s of the student's time for all of them). A probe that raised raises again.
_REPORTS: dict[tuple, tuple[object, bool, object]] = {}


def _report(student, name, *args):
    """`student.probe(name, *args)` ("design.structure"), run once per submission."""
    key = (id(student), name, repr(args))
    if key not in _REPORTS or _REPORTS[key][0] is not student:  # the student kept: its id stays its own
        try:
            _REPORTS[key] = (student, True, student.probe(name, *args))
        except Exception as error:  # noqa: BLE001 - kept, so a failing probe is not rerun
            _REPORTS[key] = (student, False, error)
    _, ok, value = _REPORTS[key]
    if not ok:
        raise value
    return value


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


def _names(names):
    shown = ", ".join(names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _learning(student):
    return _report(student, "design.learning", 50, 2, 1)


# -- the logits --------------------------------------------------------------------------


@misconception("class_count_hard_coded", section=PRACTICE,
               summary="hard-codes the number of classes ({found})",
               explanation="build_model(num_classes) must end in num_classes outputs, "
                           "nn.Linear(features, num_classes); nothing else should depend on it")
def class_count_hard_coded(student, reference):
    shapes = [_logits_shape(student, k, 2) for k in (10, 7)]
    if any(s is None or len(s) != 2 or s[0] != 2 for s in shapes):
        return False
    widths = {s[1] for s in shapes}
    if len(widths) != 1 or widths & {10, 7}:
        return False
    return f"build_model(10) and build_model(7) both give {widths.pop()} logits per image"


@misconception("squeeze_drops_batch", section=EXAMPLE,
               summary="squeezes away the batch dimension ({found})",
               explanation="squeeze() removes every dimension of size 1, the batch too when N = 1: "
                           "flatten from dimension 1 (nn.Flatten(), x.flatten(1) or x.view(x.size(0), -1))")
def squeeze_drops_batch(student, reference):
    if _logits_shape(student, 10, 1) == (10,) and _logits_shape(student, 10, 2) == (2, 10):
        return "build_model(10) gives shape (10,) on one image, (2, 10) on two"
    return False


@misconception("flatten_whole_batch", section=EXAMPLE,
               summary="flattens the batch dimension into the features ({found})",
               explanation="torch.flatten(x) starts at dimension 0, unlike nn.Flatten(): "
                           "use x.flatten(1) (or x.view(x.size(0), -1)) to keep one row per image")
def flatten_whole_batch(student, reference):
    if _logits_shape(student, 10, 1) != (10,):
        return False
    two = _logits_shape(student, 10, 2)
    if two == (2, 10):
        return False
    return "build_model(10) gives shape (10,) on one image, " + ("an error" if two is None else f"shape {two}") + \
        " on two"


# -- learning ------------------------------------------------------------------------------


@misconception("frozen_parameters", section=RESNET,
               summary="freezes {found} (requires_grad=False), so they never learn",
               explanation="the rubric trains the whole network: leave every parameter trainable "
                           "(no requires_grad_(False) on your own layers)")
def frozen_parameters(student, reference):
    summary = _report(student, "design.summary", 50)
    if not summary.get("is_module") or summary["trainable"] >= summary["parameters"]:
        return False
    frozen = _learning(student)["frozen"]
    return _names(frozen) if frozen else f"{summary['parameters'] - summary['trainable']:,} parameters"


# -- structure -----------------------------------------------------------------------------


@misconception("imagenet_7x7_stem", section=VGG,
               summary="opens with an ImageNet-style stem, {found}",
               explanation="two stacked 3x3 convolutions (the first at stride 2) see as far with fewer weights "
                           "and one more non-linearity; the rubric asks for 3x3 (1x1 only for projections)")
def imagenet_7x7_stem(student, reference):
    facts = _report(student, "design.structure", 50)
    if not facts.get("is_module"):
        return False
    convs = facts["graph_convs"] if facts.get("traced") else facts["hooked_convs"]
    first = next((c for c in convs if c["in"] == 3), None)
    if first is None or max(first["kernel"]) <= 3:
        return False
    (kh, kw), (sh, _) = first["kernel"], first["stride"]
    return f"{first['name']}, a {kh}x{kw} convolution at stride {sh}"


@misconception("global_max_pool", section=POOLING,
               summary="pools the last feature map with a global maximum ({found}) where the rubric asks "
                       "for the average",
               explanation="global average pooling keeps how strongly each feature is present over the whole "
                           "image and passes a gradient to every position; use nn.AdaptiveAvgPool2d(1) or "
                           "x.mean(dim=(2, 3))")
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
    return f"{named[0]}, an AdaptiveMaxPool2d over {size}" if len(named) == 1 else f"{pool['op']} over {size}"


@misconception("flattened_classifier", section=POOLING,
               summary="feeds the classifier {found} instead of each channel's average",
               explanation="global average pooling (nn.AdaptiveAvgPool2d(1), then flatten) gives one number per "
                           "channel whatever the map's size, and the classifier a few thousand weights instead "
                           "of hundreds of thousands")
def flattened_classifier(student, reference):
    facts = _traced(student)
    if facts is None or not facts["output_reachable_without_gap"] or not facts["flattened_maps"]:
        return False
    if any(p["kind"] == "max" for p in facts["global_pools"]):
        return False
    c, h, w = facts["flattened_maps"][-1]
    return f"the {c}x{h}x{w} feature map flattened into {c * h * w:,} features"


@misconception("no_skip_connection", section=RESNET,
               summary="has no skip connection: no block adds its input back to its output",
               explanation="a residual block returns F(x) + x (with a 1x1 convolution on x where the shape "
                           "changes), which gives the gradient a direct path through the network")
def no_skip_connection(student, reference):
    facts = _traced(student)
    return facts is not None and not facts["joins"]


@misconception("join_skips_nothing", section=RESNET,
               summary="joins only paths through the same number of layers ({found}), so nothing is skipped",
               explanation="a skip connection adds the block's input x (or its 1x1 projection) to F(x), the path "
                           "through the convolutions; out + out only doubles F(x)")
def join_skips_nothing(student, reference):
    facts = _traced(student)
    if facts is None or not facts["joins"] or any(min(j["depths"]) < max(j["depths"]) for j in facts["joins"]):
        return False
    ops = [j["op"] for j in facts["joins"]]
    words = {"add": ("addition", "additions"), "cat": ("concatenation", "concatenations")}
    return ", ".join(f"{ops.count(op)} {words.get(op, (op, op + 's'))[ops.count(op) > 1]}" for op in dict.fromkeys(ops))


@misconception("imagenet_widths", section=PRACTICE,
               summary="takes ImageNet widths ({found}), over the 5,000,000-parameter budget",
               explanation="a 3x3 convolution has 9 x C_in x C_out weights, so one 512-channel layer costs 2.4M; "
                           "for 50 classes of 100x100 images, stages up to 256 channels are plenty")
def imagenet_widths(student, reference):
    summary = _report(student, "design.summary", 50)
    if not summary.get("is_module") or summary["parameters"] <= MAX_PARAMETERS:
        return False
    facts = _report(student, "design.structure", 50)
    convs = facts["graph_convs"] if facts.get("traced") else facts["hooked_convs"]
    widest = max((c["out"] for c in convs), default=0)
    if widest < 512:
        return False
    return f"convolutions up to {widest} channels, {summary['parameters']:,} parameters"


# -- the graph ------------------------------------------------------------------------------


@misconception("detached_in_forward", section=RESNET,
               summary="detaches part of the forward pass, so {found} get no gradient",
               explanation=".detach(), .data and torch.no_grad() in forward cut the graph: the layers before "
                           "the cut take part in the forward pass but never learn")
def detached_in_forward(student, reference):
    if _traced(student) is None:
        return False
    cut = _learning(student)["cut"]
    return _names(cut) if cut else False


@misconception("numpy_in_forward", section=RESNET,
               summary="leaves torch in forward (numpy, .tolist() or a new tensor), so {found} get no gradient",
               explanation="autograd only follows torch operations on the same tensors: keep the whole forward "
                           "pass in torch (torch.clamp instead of np.clip)")
def numpy_in_forward(student, reference):
    facts = _report(student, "design.structure", 50)
    if not facts.get("is_module") or (facts.get("traced") and facts.get("output_reachable")):
        return False
    cut = _learning(student)["cut"]
    return _names(cut) if cut else False
