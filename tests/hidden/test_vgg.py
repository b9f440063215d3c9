"""Hidden suite for vgg: configurations, layers, published parameter counts, behaviour.

Oracles: the published parameter counts of VGG-11..19 with and without batch
norm (as torchvision reports them), the reference's layers and state-dict
keys (torchvision's), networks built here from torch.nn layers alone (for the
counting functions), and the reference's outputs with the same weights,
filled on both sides by `fill_state` from a seed. Counting builds the models
on the meta device, so VGG-19 costs no memory; behaviour checks build a full
classifier (25088 x 4096), a second or two each.
"""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.suite import (
    Mismatch,
    NotImplementedYet,
    array_difference,
    ask,
    behaviour_difference,
    expect_equal,
    model,
    module_difference,
    state_difference,
)

NAMES = ["vgg11", "vgg13", "vgg16", "vgg19"]
PUBLISHED = {  # (name, batch_norm): parameters at 1000 classes, as torchvision reports them
    ("vgg11", False): 132863336,
    ("vgg13", False): 133047848,
    ("vgg16", False): 138357544,
    ("vgg19", False): 143667240,
    ("vgg11", True): 132868840,
    ("vgg13", True): 133053736,
    ("vgg16", True): 138365992,
    ("vgg19", True): 143678248,
}
WIRING = "the layers before it agree, so forward hands it another input: check the order of the calls in forward"
PAPER = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}
HINTS = {
    "Conv2d": "every convolution is Conv2d(C_in, c, kernel_size=3, padding=1)",
    "BatchNorm2d": "BatchNorm2d(c) comes right after its convolution, before the ReLU",
    "ReLU": "each convolution (and its BatchNorm) is followed by a ReLU",
    "MaxPool2d": '"M" is MaxPool2d(kernel_size=2, stride=2): the maximum of each 2x2 window',
    "AdaptiveAvgPool2d": "avgpool is AdaptiveAvgPool2d((7, 7)), then torch.flatten(x, 1) before the classifier",
    "Linear": "classifier: Linear(25088, 4096), ReLU, Dropout, Linear(4096, 4096), ReLU, Dropout, Linear(4096, n)",
    "Dropout": "Dropout is the identity in eval mode; the classifier's order is Linear, ReLU, Dropout",
}


def torch_vgg(config, batch_norm=False):
    """VGG from torch.nn layers alone (no student code): for checking the counting functions."""
    features, in_channels = [], 3
    for v in config:
        if v == "M":
            features.append(model("torch.nn.MaxPool2d", 2, 2))
            continue
        features.append(model("torch.nn.Conv2d", in_channels, v, 3, padding=1))
        features += [model("torch.nn.BatchNorm2d", v)] if batch_norm else []
        features.append(model("torch.nn.ReLU"))
        in_channels = v
    classifier = [
        model("torch.nn.Linear", 25088, 4096),
        model("torch.nn.ReLU"),
        model("torch.nn.Dropout"),
        model("torch.nn.Linear", 4096, 4096),
        model("torch.nn.ReLU"),
        model("torch.nn.Dropout"),
        model("torch.nn.Linear", 4096, 1000),
    ]
    return model(
        "torch.nn.Sequential",
        model("torch.nn.Sequential", *features),
        model("torch.nn.AdaptiveAvgPool2d", 7),
        model("torch.nn.Flatten"),
        model("torch.nn.Sequential", *classifier),
    )


def hint_for(difference):
    """The hint for the layer kind a difference mentions, preferring the one that was expected."""
    expected_part = difference.partition("expected")[2]
    return next((HINTS[k] for k in HINTS if k in expected_part), None) or next(
        (HINTS[k] for k in HINTS if k in difference), None
    )


def expect_same_layers(student, reference, spec, what):
    """Same modules in the same order (kinds and hyper-parameters), same state-dict keys and shapes."""
    got, expected = ask(student, "describe", spec), ask(reference, "describe", spec)
    difference = module_difference(got["modules"], expected["modules"], exact=True)
    if difference:
        raise Mismatch(f"{what} {difference}", hint=hint_for(difference))
    difference = state_difference(got["state"], expected["state"])
    if difference:
        raise Mismatch(f"{what}'s state dict {difference}")


def configs_of(student):
    """The student's VGG_CONFIGS; the stub's empty dict counts as not implemented yet."""
    configs = student.probe("models.constant", "VGG_CONFIGS")
    student.last_call = dataclasses.replace(student.last_call, function="VGG_CONFIGS", description="VGG_CONFIGS")
    if configs == {}:
        raise NotImplementedYet("VGG_CONFIGS is empty")
    return configs


@pytest.mark.points(2)
@pytest.mark.hint("the paper's configurations A, B, D, E: 8, 10, 13 and 16 convolutions in five blocks")
def test_configurations_are_the_papers(student, reference):
    """VGG_CONFIGS holds the paper's configurations for vgg11, vgg13, vgg16 and vgg19"""
    configs = configs_of(student)
    if not isinstance(configs, dict):
        raise Mismatch("VGG_CONFIGS should be a dict from names to lists", got=type(configs).__name__)
    for name in NAMES:
        got, expected = configs.get(name), reference.VGG_CONFIGS[name]
        if not isinstance(got, (list, tuple)):
            raise Mismatch(f"VGG_CONFIGS has no list for {name!r}")
        where = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
        if list(got) != expected:
            raise Mismatch(
                f"VGG_CONFIGS[{name!r}] differs from configuration {PAPER[name]} at position {where}",
                expected=str(expected[where : where + 4])[:-1] + " ...",
                got=str(list(got)[where : where + 4])[:-1] + " ...",
            )


configs = st.lists(st.one_of(st.integers(1, 12), st.just("M")), min_size=1, max_size=6)


@pytest.mark.points(2)
@pytest.mark.hint("conv 3x3 padding 1, then BatchNorm2d if asked, then ReLU; 'M' is MaxPool2d(2, 2)")
@given(config=configs, batch_norm=st.booleans(), in_channels=st.integers(1, 4))
def test_make_features_for_any_configuration(student, reference, config, batch_norm, in_channels):
    """make_features builds the reference's layers for any configuration, batch norm and input channels"""
    spec = model("make_features", config, batch_norm=batch_norm, in_channels=in_channels)
    expect_same_layers(
        student, reference, spec, f"make_features({config}, batch_norm={batch_norm}, in_channels={in_channels})"
    )


def expect_same_outputs(student, reference, spec, x, what):
    """Outputs equal to the reference's with its weights (eval mode); else name the first module that differs."""
    described = ask(reference, "describe", spec)
    difference = state_difference(ask(student, "describe", spec)["state"], described["state"])
    if difference:
        raise Mismatch(
            f"the reference's weights do not fit {what}: its state dict {difference}",
            hint="the keys follow from the names features, avgpool, classifier and the layers' positions",
        )
    kinds = {name: kind for name, kind, _, _ in described["modules"]}
    order = [name for name, kind in kinds.items() if name and "Sequential" not in kind]
    found = behaviour_difference(student, reference, spec, x, order)
    if found is None:
        return
    if found.name is None:
        raise Mismatch(
            f"{what}'s output {found.text}, with the reference's weights and input",
            details=("every submodule's output matches: check the forward method",),
            hint="forward: features, avgpool, torch.flatten(x, 1), classifier",
        )
    name = f"{layer(found.name)} ({kinds[found.name]})"
    raise Mismatch(
        f"{name if found.input_differs else name + ' output'} {found.text}, with the reference's weights and input",
        details=(f"everything before it matches (up to {layer(found.matching[-1])})",) if found.matching else (),
        hint=WIRING if found.input_differs else HINTS.get(kinds[found.name]),
    )


def layer(name):
    """How feedback names a submodule: 'features.3', or 'layer 3' of a bare nn.Sequential."""
    return f"layer {name}" if name.isdigit() else name


@pytest.mark.points(1)
def test_make_features_computes_like_the_reference(student, reference):
    """make_features([8, 'M', 16, 16, 'M'], batch_norm=True) computes the reference's features"""
    x = np.random.default_rng(1).standard_normal((2, 3, 12, 12)).astype(np.float32)
    expect_same_outputs(
        student,
        reference,
        model("make_features", [8, "M", 16, 16, "M"], batch_norm=True),
        x,
        "make_features([8, 'M', 16, 16, 'M'], batch_norm=True)",
    )


@pytest.mark.points(1)
@pytest.mark.hint("each conv adds 9 * C_in * C_out + C_out, each BatchNorm 2 * C, the classifier 123,642,856")
@pytest.mark.parametrize("batch_norm", [False, True], ids=["plain", "batch_norm"])
def test_published_parameter_counts(student, batch_norm):
    """vgg11, vgg13, vgg16 and vgg19 have the published parameter counts"""
    for name in NAMES:
        got = ask(student, "describe", model("vgg", name, batch_norm=batch_norm))["parameters"]
        expect_equal(
            got, PUBLISHED[name, batch_norm], what=f"the number of parameters of vgg({name!r}, batch_norm={batch_norm})"
        )


@pytest.mark.points(1)
@pytest.mark.hint("num_classes sets the last Linear layer: 4096 * num_classes + num_classes parameters")
def test_num_classes_sets_the_last_layer(student):
    """vgg('vgg13', num_classes=37) has the published count minus 963 output units"""
    got = ask(student, "describe", model("vgg", "vgg13", num_classes=37))["parameters"]
    expect_equal(got, PUBLISHED["vgg13", False] - 963 * 4097, what="the number of parameters of vgg('vgg13', 37)")


@pytest.mark.points(1)
@pytest.mark.parametrize("name, batch_norm", [("vgg16", False), ("vgg11", True)], ids=["vgg16", "vgg11_bn"])
def test_layers_and_state_dict_keys_are_torchvisions(student, reference, name, batch_norm):
    """the layers and state-dict keys of vgg16 and vgg11 with batch norm are torchvision's"""
    expect_same_layers(
        student, reference, model("vgg", name, batch_norm=batch_norm), f"vgg({name!r}, batch_norm={batch_norm})"
    )


@pytest.mark.points(1)
@pytest.mark.hint("pass dropout on to both Dropout layers of the classifier; avgpool is AdaptiveAvgPool2d((7, 7))")
def test_vgg_class_uses_its_arguments(student, reference):
    """VGG(features, num_classes=5, dropout=0.25) has the reference's avgpool and classifier"""
    spec = model("VGG", model("torch.nn.Conv2d", 3, 512, 3, padding=1), num_classes=5, dropout=0.25)
    got, expected = ask(student, "describe", spec), ask(reference, "describe", spec)
    names = [name for name, *_ in expected["modules"] if name.startswith(("avgpool", "classifier"))]
    difference = module_difference(got["modules"], expected["modules"], names=names)
    if difference:
        raise Mismatch(f"VGG(features, num_classes=5, dropout=0.25) {difference}")


@pytest.mark.points(2)
@pytest.mark.parametrize(
    "name, batch_norm, shape",
    [("vgg11", False, (2, 3, 32, 32)), ("vgg16", True, (1, 3, 40, 72))],
    ids=["vgg11_32x32", "vgg16_bn_40x72"],
)
def test_same_scores_as_the_reference_with_its_weights(student, reference, name, batch_norm, shape):
    """with the reference's weights, the reference's scores (eval mode), also for inputs smaller than 224x224"""
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    expect_same_outputs(
        student,
        reference,
        model("vgg", name, num_classes=10, batch_norm=batch_norm),
        x,
        f"vgg({name!r}, num_classes=10, batch_norm={batch_norm})",
    )


@pytest.mark.points(1)
@pytest.mark.hint("the classifier's two Dropout layers are active in train mode: outputs vary from pass to pass")
def test_dropout_is_active_in_train_mode_only(student):
    """in train mode two passes differ: dropout is active (eval mode is checked against the reference)"""
    spec = model("VGG", model("torch.nn.Conv2d", 3, 512, 3, padding=1), num_classes=10)
    x = np.random.default_rng(3).standard_normal((2, 3, 8, 8)).astype(np.float32)
    train = ask(student, "forward", spec, x, {"train": True, "runs": 2})["outputs"]
    if array_difference(train[0], train[1]) is None:
        raise Mismatch("VGG's classifier computed the same output twice in train mode: no dropout is active")


@pytest.mark.points(1)
@pytest.mark.hint("add p.numel() over model.parameters()")
def test_count_parameters_matches_the_closed_form(student):
    """count_parameters counts every weight and bias (checked on models built from torch.nn layers)"""
    cases = [
        (model("torch.nn.Linear", 7, 3), 7 * 3 + 3),
        (model("torch.nn.Conv2d", 4, 6, 5, bias=False), 4 * 6 * 25),
        (torch_vgg([16, "M", 32], batch_norm=True), 9 * 3 * 16 + 16 + 32 + 9 * 16 * 32 + 32 + 64 + 123642856),
    ]
    for spec, expected in cases:
        got = ask(student, "call_with_model", spec, "count_parameters", [], True)
        expect_equal(got, expected, what="the parameter count")


@pytest.mark.points(2)
@pytest.mark.hint("sum the parameters of Conv2d modules, of Linear modules and of BatchNorm2d modules")
def test_parameter_breakdown_of_vgg16(student, reference):
    """parameter_breakdown splits VGG-16 into 14,714,688 conv and 123,642,856 fc parameters"""
    expected = {"conv": 14714688, "fc": 123642856, "bn": 0}
    spec = torch_vgg(reference.VGG_CONFIGS["vgg16"])
    got = ask(student, "call_with_model", spec, "parameter_breakdown", [], True)
    expect_equal(got, expected, what="parameter_breakdown of VGG-16")


@st.composite
def small_networks(draw):
    """(spec, expected breakdown): a random small VGG-like network built from torch.nn alone, and its counts
    by the layer formulas (conv 3x3: 9 * C_in * C_out + C_out, BatchNorm 2 * C, Linear F_in * F_out + F_out)."""
    config = draw(
        st.lists(st.sampled_from([4, 8, 12, "M"]), min_size=1, max_size=6).filter(lambda c: any(v != "M" for v in c))
    )
    batch_norm, hidden, classes = draw(st.booleans()), draw(st.integers(3, 40)), draw(st.integers(2, 30))
    counts, channels = {"conv": 0, "fc": 0, "bn": 0}, 3
    for v in config:
        if v != "M":
            counts["conv"] += 9 * channels * v + v
            counts["bn"] += 2 * v if batch_norm else 0
            channels = v
    counts["fc"] = channels * 4 * hidden + hidden + hidden * classes + classes
    features = torch_vgg(config, batch_norm)["args"][0]
    spec = model(
        "torch.nn.Sequential",
        features,
        model("torch.nn.AdaptiveAvgPool2d", 2),
        model("torch.nn.Flatten"),
        model("torch.nn.Linear", channels * 4, hidden),
        model("torch.nn.ReLU"),
        model("torch.nn.Linear", hidden, classes),
    )
    return spec, counts


@pytest.mark.points(2)
@pytest.mark.hint("count every Conv2d, Linear and BatchNorm2d module of the model you are given, whatever its layout")
@settings(max_examples=10)
@given(case=small_networks())
def test_parameter_breakdown_of_generated_networks(student, case):
    """parameter_breakdown of random small networks (any convs, with or without BatchNorm, any classifier)"""
    spec, expected = case
    got = ask(student, "call_with_model", spec, "parameter_breakdown", [], True)
    expect_equal(got, expected, what="parameter_breakdown of a generated network")


@pytest.mark.points(1)
@pytest.mark.parametrize("batch_norm", [False, True], ids=["plain", "batch_norm"])
def test_vgg_parameter_count_from_the_config(student, batch_norm):
    """vgg_parameter_count gives the published counts without building a model"""
    for name in NAMES:
        expect_equal(
            student.vgg_parameter_count(name, batch_norm=batch_norm),
            PUBLISHED[name, batch_norm],
            what=f"vgg_parameter_count({name!r}, batch_norm={batch_norm})",
            hint="conv: 9 * C_in * C_out + C_out; BatchNorm: 2 * C; then the three Linear layers",
        )
    expect_equal(
        student.vgg_parameter_count("vgg19", num_classes=10),
        PUBLISHED["vgg19", False] - 990 * 4097,
        what="vgg_parameter_count('vgg19', num_classes=10)",
    )
