"""Hidden suite for residual: blocks against the reference with its weights, stage shapes, counts, gradients.

Both sides fill every state-dict entry from the same seed (`fill_state`), with
BatchNorm's running statistics random too, so BatchNorm is not the identity in
eval mode and a missing or misplaced BatchNorm shows. A difference is located
at the first submodule (in the order the reference runs them) whose output
differs. Oracles besides the reference: published parameter counts (the
tutorial's, torchvision's) and shapes worked out from strides; the public suite
adds the skip connection's gradient, computed in numpy.
"""

import numpy as np
import pytest

from grader.suite import (
    Mismatch,
    array_difference,
    ask,
    behaviour_difference,
    describe_model,
    expect_equal,
    model,
    module_difference,
    state_difference,
)

BLOCKS = [  # (in_channels, out_channels, stride): identity, channels change, stride only, both
    (16, 16, 1),
    (16, 32, 1),
    (16, 16, 2),
    (16, 32, 2),
]
BLOCK_HINTS = {
    "conv1": "conv1 is Conv2d(in, out, 3, stride=stride, padding=1, bias=False): the stride goes on the first conv",
    "bn1": "bn1 normalises conv1's output; the ReLU comes after bn1",
    "conv2": "conv2 is Conv2d(out, out, 3, stride=1, padding=1, bias=False) applied to relu(bn1(conv1(x)))",
    "bn2": "bn2 normalises conv2's output, with no ReLU in between",
    "shortcut": "the shortcut is the identity, or Conv2d(in, out, 1, stride=stride, bias=False) then BatchNorm2d",
    "block": "out = bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x), and the ReLU comes after the addition",
}
STAGES = {  # MiniResNet on (2, 3, 32, 32): stage, expected output shape, what it should do
    "prep": ((2, 64, 32, 32), "prep keeps 32x32 and makes 64 channels (3x3 conv, padding 1)"),
    "layer1": ((2, 64, 32, 32), "layer1 keeps 64 channels and the resolution (stride 1)"),
    "layer2": ((2, 128, 16, 16), "the first block of layer2 should halve the resolution (stride 2), 128 channels"),
    "layer3": ((2, 256, 8, 8), "the first block of layer3 should halve the resolution (stride 2), 256 channels"),
    "avg_pool": ((2, 256, 1, 1), "avg_pool is AdaptiveAvgPool2d(1): one average per channel"),
    "fc": ((2, 10), "fc is Linear(256, num_classes) on the flattened (N, 256) features"),
}
RESNET18_STAGES = {  # resnet18 on (1, 3, 64, 64)
    "conv1": ((1, 64, 32, 32), "conv1 is Conv2d(3, 64, 7, stride=2, padding=3, bias=False)"),
    "maxpool": ((1, 64, 16, 16), "maxpool is MaxPool2d(3, stride=2, padding=1)"),
    "layer1": ((1, 64, 16, 16), "layer1 keeps 64 channels and the resolution"),
    "layer2": ((1, 128, 8, 8), "the first block of layer2 should halve the resolution, 128 channels"),
    "layer3": ((1, 256, 4, 4), "the first block of layer3 should halve the resolution, 256 channels"),
    "layer4": ((1, 512, 2, 2), "the first block of layer4 should halve the resolution, 512 channels"),
    "fc": ((1, 1000), "fc is Linear(512, num_classes) on the flattened average-pooled features"),
}


def expect_loadable(student, reference, spec, hint=None):
    difference = state_difference(ask(student, "describe", spec)["state"], ask(reference, "describe", spec)["state"])
    if difference:
        raise Mismatch(
            f"the reference's weights do not fit {describe_model(spec)}: its state dict {difference}", hint=hint
        )


def expect_same_outputs(student, reference, spec, x, *, top=None, final=BLOCK_HINTS["block"]):
    """Outputs equal to the reference's with its weights; else the first submodule that differs, by name.

    Hints: `top` for the model's own submodules (prep, fc, ...), BLOCK_HINTS inside
    blocks, `final` when every submodule agrees and only the model's output differs.
    """
    expect_loadable(student, reference, spec)
    found = behaviour_difference(student, reference, spec, x)
    if found is None:
        return
    if found.input_differs:
        hint = "the submodules before it agree, so forward hands it another input: check the order of the calls"
    else:
        hint = final if found.name is None else hint_for(found.name, top or {})
    where = "the output" if found.name is None else found.name if found.input_differs else f"{found.name}'s output"
    raise Mismatch(
        f"{describe_model(spec)}: {where} {found.text}, with the reference's weights and input",
        details=(f"everything before it matches (up to {found.matching[-1]})",) if found.matching else (),
        hint=hint,
    )


def hint_for(name, top):
    """The hint for a submodule: the model's own (top-level) ones first, then a block's parts."""
    if "." not in name:
        return top.get(name) or BLOCK_HINTS.get(name)
    if ".shortcut" in name:
        return BLOCK_HINTS["shortcut"]
    last = name.rpartition(".")[2]
    return BLOCK_HINTS["block"] if last.isdigit() else BLOCK_HINTS.get(last)


def projection_hint(c_in, c_out, stride):
    if stride != 1 or c_in != c_out:
        why = "the stride changes the resolution" if stride != 1 else "the channels change"
        return f"here {why}: the shortcut must be a projection, 1x1 Conv2d with stride, then BatchNorm2d"
    return "here the shapes match: the shortcut is the identity, an empty nn.Sequential (no weights)"


@pytest.mark.points(1)
@pytest.mark.parametrize("c_in, c_out, stride", BLOCKS, ids=lambda v: str(v))
def test_block_layers_match_the_reference(student, reference, c_in, c_out, stride):
    """ResidualBlock's layers and weights are the tutorial's, with a projection exactly when shapes change"""
    spec = model("ResidualBlock", c_in, c_out, stride=stride)
    got, expected = ask(student, "describe", spec), ask(reference, "describe", spec)
    names = [name for name, *_ in expected["modules"] if name and name != "shortcut"]
    difference = module_difference(got["modules"], expected["modules"], names=names)
    if difference:
        name = next((n for n in names if f"'{n}'" in difference), "")
        raise Mismatch(
            f"{describe_model(spec)} {difference}",
            hint=projection_hint(c_in, c_out, stride) if name.startswith("shortcut") else BLOCK_HINTS.get(name),
        )
    expect_loadable(student, reference, spec, hint=projection_hint(c_in, c_out, stride))


@pytest.mark.points(1)
@pytest.mark.parametrize("c_in, c_out, stride", BLOCKS, ids=lambda v: str(v))
def test_block_computes_like_the_reference(student, reference, c_in, c_out, stride):
    """ResidualBlock with the reference's weights gives the reference's output (eval mode)"""
    x = np.random.default_rng(c_in + c_out + stride).standard_normal((2, c_in, 8, 8)).astype(np.float32)
    expect_same_outputs(student, reference, model("ResidualBlock", c_in, c_out, stride=stride), x)


@pytest.mark.points(1)
@pytest.mark.hint("PlainBlock is ResidualBlock without the shortcut: relu(bn2(conv2(relu(bn1(conv1(x))))))")
def test_plain_block_computes_like_the_reference(student, reference):
    """PlainBlock(16, 32, stride=2) has no shortcut and gives the reference's output with its weights"""
    x = np.random.default_rng(3).standard_normal((2, 16, 8, 8)).astype(np.float32)
    expect_same_outputs(
        student,
        reference,
        model("PlainBlock", 16, 32, stride=2),
        x,
        final="PlainBlock: relu(bn2(conv2(relu(bn1(conv1(x)))))), nothing added",
    )


def expect_stage_shapes(student, spec, x, stages):
    shapes = dict(reversed(ask(student, "forward", spec, x, {"shapes": True})["shapes"]))  # first call wins
    for name, (shape, explanation) in stages.items():
        if name not in shapes:
            raise Mismatch(
                f"{describe_model(spec)} has no submodule {name!r} that runs in forward",
                hint="use the attribute names the docstring gives",
            )
        if shapes[name] != shape:
            raise Mismatch(f"{name} output has shape {shapes[name]}, expected {shape}: {explanation}")


@pytest.mark.points(2)
@pytest.mark.hint("a 3x3 conv with padding 1 and stride s maps H to (H - 1) // s + 1")
def test_mini_resnet_stage_shapes(student):
    """MiniResNet's stages produce (64, 32, 32), (64, 32, 32), (128, 16, 16), (256, 8, 8) on 32x32 images"""
    x = np.random.default_rng(4).standard_normal((2, 3, 32, 32)).astype(np.float32)
    expect_stage_shapes(student, model("MiniResNet"), x, STAGES)


@pytest.mark.points(2)
def test_mini_resnet_computes_like_the_reference(student, reference):
    """MiniResNet with the reference's weights gives the reference's scores, block by block"""
    x = np.random.default_rng(5).standard_normal((2, 3, 32, 32)).astype(np.float32)
    top = {
        "prep": "prep: Conv2d(3, 64, 3, padding=1, bias=False), BatchNorm2d(64), ReLU()",
        "avg_pool": "avg_pool is AdaptiveAvgPool2d(1)",
        "fc": "fc takes the flattened (N, 256) features",
    }
    expect_same_outputs(
        student,
        reference,
        model("MiniResNet"),
        x,
        top=top,
        final="forward: prep, layer1, layer2, layer3, avg_pool, flatten, fc, and nothing after fc",
    )


@pytest.mark.points(1)
@pytest.mark.hint("skip=False builds every stage from PlainBlocks: no shortcut, no projection weights")
def test_mini_resnet_without_skip_uses_plain_blocks(student, reference):
    """MiniResNet(skip=False) is built from PlainBlocks: 2,735,946 parameters and the reference's output"""
    spec = model("MiniResNet", skip=False)
    expect_equal(
        ask(student, "describe", spec)["parameters"], 2735946, what="the number of parameters of MiniResNet(skip=False)"
    )
    x = np.random.default_rng(6).standard_normal((2, 3, 16, 16)).astype(np.float32)
    expect_same_outputs(student, reference, spec, x, final="with skip=False, every block is a PlainBlock")


@pytest.mark.points(1)
@pytest.mark.hint("only fc depends on num_classes: 256 * num_classes + num_classes parameters")
def test_mini_resnet_num_classes(student):
    """MiniResNet(num_classes=100) has 2,777,674 + 90 * 257 parameters"""
    expect_equal(
        ask(student, "describe", model("MiniResNet", num_classes=100))["parameters"],
        2777674 + 90 * 257,
        what="the number of parameters of MiniResNet(num_classes=100)",
    )


@pytest.mark.points(1)
@pytest.mark.section("ResNet (2015)")
@pytest.mark.hint("every layer must stay on the autograd graph: no .detach(), .data or numpy in forward")
def test_gradients_reach_the_first_layer(student, reference):
    """in training, the gradient reaching MiniResNet's first convolution is the reference's"""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 3, 16, 16)).astype(np.float32)
    options = {"train": True, "direction": rng.standard_normal((4, 10)).astype(np.float32)}
    expect_loadable(student, reference, model("MiniResNet"))
    result = ask(student, "gradients", model("MiniResNet"), x, options)
    expect_equal(getattr(result["output"], "shape", None), (4, 10), what="the shape of MiniResNet()'s output")
    got = result["grad_norms"]
    expected = ask(reference, "gradients", model("MiniResNet"), x, options)["grad_norms"]
    for name in ("prep.0.weight", "layer1.0.conv1.weight", "layer2.0.shortcut.0.weight", "fc.weight"):
        if got.get(name) is None or not np.isfinite(got[name]) or got[name] == 0:
            raise Mismatch(
                f"no gradient reaches {name}",
                expected=f"a gradient of norm {expected[name]:.4g}",
                got="None" if got.get(name) is None else f"norm {got[name]:.4g}",
            )
        if abs(got[name] - expected[name]) > 1e-3 * expected[name]:
            raise Mismatch(
                f"the gradient reaching {name} differs from the reference's",
                expected=f"norm {expected[name]:.4g}",
                got=f"norm {got[name]:.4g}",
            )


@pytest.mark.points(1)
@pytest.mark.section("ResNet (2015)")
def test_block_input_gradient_is_the_references(student, reference):
    """dL/dx through ResidualBlock(16, 32, stride=2) is the reference's: skip and branch both contribute"""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 16, 8, 8)).astype(np.float32)
    options = {"direction": rng.standard_normal((2, 32, 4, 4)).astype(np.float32)}
    spec = model("ResidualBlock", 16, 32, stride=2)
    expect_loadable(student, reference, spec)
    got = ask(student, "gradients", spec, x, options)
    expect_equal(
        getattr(got["output"], "shape", None), (2, 32, 4, 4), what=f"the shape of {describe_model(spec)}'s output"
    )
    difference = array_difference(got["input_grad"], ask(reference, "gradients", spec, x, options)["input_grad"])
    if difference:
        raise Mismatch(
            f"dL/dx of {describe_model(spec)} {difference}",
            hint="dL/dx = dL/dy * (1 + dF/dx) before the final ReLU: the projection's path and F's add up",
        )


@pytest.mark.points(1)
@pytest.mark.hint("conv1 7x7 stride 2 (9,408), four stages of two ResidualBlocks, fc 512 -> num_classes")
def test_resnet18_parameter_counts(student):
    """resnet18() has 11,689,512 parameters, resnet18(num_classes=10) 11,181,642"""
    expect_equal(
        ask(student, "describe", model("resnet18"))["parameters"],
        11689512,
        what="the number of parameters of resnet18()",
    )
    expect_equal(
        ask(student, "describe", model("resnet18", num_classes=10))["parameters"],
        11689512 - 990 * 513,
        what="the number of parameters of resnet18(num_classes=10)",
    )


@pytest.mark.points(1)
@pytest.mark.hint("conv1 (stride 2) and maxpool (stride 2) divide H by 4; layer2..layer4 each halve it")
def test_resnet18_stage_shapes(student):
    """resnet18 on a 64x64 image: 32x32 after conv1, 16x16 after maxpool, then 16, 8, 4, 2"""
    x = np.random.default_rng(9).standard_normal((1, 3, 64, 64)).astype(np.float32)
    expect_stage_shapes(student, model("resnet18"), x, RESNET18_STAGES)


@pytest.mark.points(1)
def test_resnet18_computes_like_the_reference(student, reference):
    """resnet18 with the reference's weights gives the reference's scores"""
    x = np.random.default_rng(10).standard_normal((1, 3, 64, 64)).astype(np.float32)
    top = {
        "conv1": "conv1 is Conv2d(3, 64, 7, stride=2, padding=3, bias=False), then bn1 and relu",
        "maxpool": "maxpool is MaxPool2d(3, stride=2, padding=1)",
        "fc": "fc takes the flattened (N, 512) average-pooled features",
    }
    expect_same_outputs(
        student,
        reference,
        model("resnet18", num_classes=10),
        x,
        top=top,
        final="conv1, bn1, relu, maxpool, layer1..layer4, avgpool, flatten, fc: nothing after fc",
    )
