"""Hidden suite for design: the rubric items that need more than one model, or training.

There is no single right architecture, so there is nothing to compare with the
reference output for output: the checks are the rubric's, on other class
counts and batch sizes, and a short deterministic training run.
"""

import math

import pytest

from grader.suite import Mismatch
from grader.suite import ask_design as ask

CASES = [(10, 1), (7, 3), (1, 2), (137, 2)]
OTHER_CLASSES = 7


@pytest.mark.points(2)
@pytest.mark.hint("pass num_classes on to the last layer; nothing else should depend on it")
def test_logits_for_any_number_of_classes(student):
    """build_model(num_classes) gives (N, num_classes) logits for 1, 7, 10 and 137 classes, N from 1 to 3"""
    got = ask(
        student,
        "outputs",
        "build_model(num_classes) for num_classes 10, 7, 1, 137, then model.eval() and "
        "model(x) with x of shape (N, 3, 100, 100)",
        CASES,
    )
    for (num_classes, batch), output in zip(CASES, got):
        if output["type"] != "tensor" or output["shape"] != (batch, num_classes):
            raise Mismatch(
                f"build_model({num_classes}) on a batch of {batch}: wrong logits",
                expected=f"a tensor of shape {(batch, num_classes)}",
                got=f"shape {output['shape']}" if output["type"] == "tensor" else output["type"],
            )


@pytest.mark.points(3)
@pytest.mark.section("ResNet (2015)")
@pytest.mark.hint("the loss must fall when the model trains, and every layer it uses must receive a gradient")
def test_it_learns(student):
    """five Adam steps on one fixed batch lower the loss, and every layer used gets a gradient"""
    got = ask(
        student,
        "learning",
        "build_model(50), then 5 steps of Adam(lr=1e-3) in train mode on one batch of "
        "4 random (3, 100, 100) images with labels 0, 1, 2, 3",
        50,
        4,
        5,
    )
    losses = got["losses"]
    shown = "[" + ", ".join(f"{v:.3f}" for v in losses) + "]"
    if got["error"]:
        raise Mismatch(f"training stopped: {got['error']}", got=f"losses so far {shown}")
    if got["frozen"]:
        raise Mismatch(
            f"{len(got['frozen'])} parameter(s) are frozen (requires_grad=False) and cannot learn",
            got=", ".join(got["frozen"][:4]),
        )
    if got["cut"]:
        raise Mismatch(
            f"{len(got['cut'])} parameter(s) took part in the forward pass but got no gradient",
            expected="a gradient for every layer the forward pass used",
            got=", ".join(got["cut"][:4]),
            hint="something cuts the graph: .detach(), .data, torch.no_grad() or numpy in forward",
        )
    if not all(math.isfinite(v) for v in losses):
        raise Mismatch("the loss is not finite", got=shown, hint="check the initialisation and any division")
    if not losses[-1] < 0.8 * losses[0]:
        raise Mismatch(
            "the loss hardly falls while training on one fixed batch",
            expected="the fifth step's loss at least 20% below the first's",
            got=shown,
            hint="do the logits depend on the image? is there an activation after the last layer?",
        )


@pytest.mark.points(1)
@pytest.mark.section("Practice Exercises")
@pytest.mark.hint("the rubric holds for every num_classes: only the size of the classifier's output should change")
def test_structure_for_another_number_of_classes(student):
    """build_model(7) keeps the structure build_model(50) has: 3x3 convolutions, a skip connection, global average pooling

    Only what changes with the class count is charged here: the public tests grade the structure itself.
    """
    other = _structure(student, OTHER_CLASSES)
    usual = _structure(student, 50)
    lost = [item for item in _rubric_breaks(other) if item not in _rubric_breaks(usual)]
    if lost:
        raise Mismatch(
            f"build_model({OTHER_CLASSES}) breaks the rubric's structure where build_model(50) keeps it",
            expected="3x3 (or 1x1) convolutions, a skip connection, global average pooling for any class count",
            got=lost[0],
            details=tuple(lost[1:]),
        )


def _structure(student, num_classes: int) -> dict:
    facts = ask(
        student,
        "structure",
        f"build_model({num_classes}), traced on a (2, 3, 100, 100) batch in eval mode",
        num_classes,
    )
    if not facts["is_module"]:
        raise Mismatch(f"build_model({num_classes}) should return a torch.nn.Module", got=facts["type"])
    if not facts["traced"] or not facts["output_reachable"]:
        raise Mismatch(
            f"build_model({num_classes})'s structure could not be checked",
            expected="a forward pass in torch operations from the image to the logits",
            got=facts["trace_error"] or "logits that do not depend on the image through torch operations",
        )
    return facts


def _rubric_breaks(facts: dict) -> list[str]:
    """The structural rubric items the traced model breaks, each said once."""
    broken = [
        f"{c['name']} is a {c['kernel'][0]}x{c['kernel'][1]} convolution, neither 3x3 nor 1x1"
        for c in facts["graph_convs"]
        if tuple(c["kernel"]) not in ((3, 3), (1, 1))
    ][:2]
    if not any(tuple(c["kernel"]) == (3, 3) for c in facts["graph_convs"]):
        broken.append("no 3x3 convolution")
    if not any(min(j["depths"]) < max(j["depths"]) for j in facts["joins"]):
        broken.append("no skip connection: no addition or concatenation joins a shortcut with the path it skips")
    if facts["output_reachable_without_gap"]:
        broken.append("a path from the image to the logits skips global average pooling")
    return broken
