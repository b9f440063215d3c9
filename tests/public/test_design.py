"""Public tests for exercises/design.py: the design rubric, one test per item.

Run them with `grader grade design --public-only`. Your model stays in your
process: probes (grader/probes/design.py) build it there, run and trace one
forward pass, and report what it computed (its convolutions, where tensors are
added or concatenated, where maps are averaged). The verdicts below are reached
from those reports alone, so any architecture that does the right things
passes, whatever its parts are called.
"""

import pytest

from grader.suite import Mismatch, leave_to_instructor
from grader.suite import ask_design as ask

MAX_PARAMETERS = 5_000_000
_TRACED: dict = {"student": None, "reports": {}}  # one trace per submission serves the three structure items


def structure(student, num_classes=50):
    """The structure probe's report on build_model(num_classes), traced once per submission."""
    if _TRACED["student"] is not student:  # a new submission (`grader check` grades many in one process)
        _TRACED.update(student=student, reports={})
    reports = _TRACED["reports"]
    if num_classes not in reports:
        facts = ask(
            student,
            "structure",
            f"build_model({num_classes}), traced on a (2, 3, 100, 100) batch in eval mode",
            num_classes,
        )
        reports[num_classes] = facts, student.last_call
    facts, student.last_call = reports[num_classes]
    if not facts["is_module"]:
        raise Mismatch("build_model should return a torch.nn.Module", got=facts["type"])
    return facts


def untraced(facts, item):
    """The Mismatch for an item the trace could not establish."""
    if not facts["traced"]:
        return Mismatch(
            f"{item} could not be checked: the forward pass could not be traced",
            got=facts["trace_error"],
            hint="keep the forward pass in torch operations (no numpy, no tensor storage tricks)",
        )
    return Mismatch(
        f"{item} could not be checked: the logits do not depend on the image through torch operations",
        hint="does the forward pass go through numpy, .tolist() or a new torch.tensor(...)?",
    )


@pytest.mark.points(2)
@pytest.mark.hint("the last layer maps to num_classes outputs: nn.Linear(features, num_classes)")
def test_logits_for_fifty_classes(student):
    """build_model() maps a (2, 3, 100, 100) batch to (2, 50) logits"""
    (got,) = ask(
        student, "outputs", "build_model(), then model.eval() and model(x) with x of shape (2, 3, 100, 100)", [(50, 2)]
    )
    if got["type"] != "tensor":
        raise Mismatch("the forward pass should return a tensor of logits", got=got["type"])
    if got["shape"] != (2, 50) or not got["dtype"].startswith("float"):
        raise Mismatch(
            "the logits have the wrong shape", expected="float (2, 50)", got=f"{got['dtype']} {got['shape']}"
        )


@pytest.mark.points(2)
@pytest.mark.section("Pooling")
@pytest.mark.hint("most parameters sit in fully connected layers on flattened maps and in the widest stages")
def test_at_most_five_million_parameters(student):
    """the model has at most 5,000,000 parameters"""
    got = ask(student, "summary", "build_model(50), counting sum(p.numel() for p in model.parameters())", 50)
    if not got["is_module"]:
        raise Mismatch("build_model should return a torch.nn.Module", got=got["type"])
    if got["parameters"] > MAX_PARAMETERS:
        raise Mismatch(
            "the model is over the parameter budget",
            expected=f"at most {MAX_PARAMETERS:,}",
            got=f"{got['parameters']:,}",
        )


@pytest.mark.points(3)
@pytest.mark.section("VGGNet (2014)")
@pytest.mark.hint("two stacked 3x3 convolutions see 5x5 with fewer weights; use 1x1 only to change channels")
def test_convolutions_are_3x3(student):
    """every convolution is 3x3, or 1x1 as a projection"""
    facts = structure(student)
    convs = facts["graph_convs"] if facts["traced"] else facts["hooked_convs"]
    partial = (
        ()
        if facts["traced"]
        else (f"(the forward pass could not be traced: only nn.Conv2d modules were checked; {facts['trace_error']})",)
    )
    others = [c for c in convs if tuple(c["kernel"]) not in ((3, 3), (1, 1))]
    if others:
        shown = [f"{c['name']}: {c['kernel'][0]}x{c['kernel'][1]}, {c['in']} -> {c['out']} channels" for c in others]
        raise Mismatch(
            f"{len(others)} of {len(convs)} convolutions are neither 3x3 nor 1x1",
            expected="3x3 kernels (1x1 for projections)",
            got=shown[0],
            details=tuple(shown[1:4]) + partial,
        )
    if not any(tuple(c["kernel"]) == (3, 3) for c in convs):
        raise Mismatch(
            "the model has no 3x3 convolution",
            expected="3x3 convolutions",
            got=f"{len(convs)} convolution(s), none 3x3",
            details=partial,
        )


@pytest.mark.points(4)
@pytest.mark.section("ResNet (2015)")
@pytest.mark.hint("in a block, out = F(x) + shortcut(x): add the block's input (or its 1x1 projection) to its output")
def test_has_a_skip_connection(student):
    """at least one skip connection: an addition (or concatenation) that bypasses a convolution"""
    facts = structure(student)
    if not facts["traced"] or not facts["output_reachable"]:
        raise untraced(facts, "the skip connection")
    skips = [j for j in facts["joins"] if min(j["depths"]) < max(j["depths"])]
    if not skips:
        joins = facts["joins"]
        found = (
            f"{len(joins)} addition(s)/concatenation(s), each joining paths through the same number of "
            f"layers ({joins[0]['depths'][0]})"
            if joins
            else "no addition or concatenation of two feature maps"
        )
        raise Mismatch(
            "found no skip connection",
            expected="a join of a shortcut with the path it skips, as in F(x) + x",
            got=found,
        )


@pytest.mark.points(3)
@pytest.mark.section("Pooling")
@pytest.mark.hint("nn.AdaptiveAvgPool2d(1) (or x.mean(dim=(2, 3))) on the last feature map, then the classifier")
def test_global_average_pooling_before_the_classifier(student):
    """the classifier sees each feature map averaged over H and W (global average pooling)"""
    facts = structure(student)
    if not facts["traced"] or not facts["output_reachable"]:
        raise untraced(facts, "global average pooling")
    if facts["output_reachable_without_gap"]:
        details = [
            f"a feature map of shape {tuple(s)} is flattened into {s[0] * s[1] * s[2]:,} features"
            for s in facts["flattened_maps"][:2]
        ]
        details += [
            f"found a global {p['kind']} pool ({p['op']} over {tuple(p['input'][2:])}), not an average"
            for p in facts["global_pools"]
            if p["kind"] == "max"
        ][:1]
        raise Mismatch(
            "the logits can be reached from the image without global average pooling",
            expected="every path to the classifier through a mean over H and W",
            got="a path without one",
            details=tuple(details),
        )


@pytest.mark.points(5)
@pytest.mark.manual
@pytest.mark.section("Practice Exercises")
def test_design_notes_justify_the_choices(student):
    """DESIGN_NOTES justifies each design choice"""
    notes = ask(student, "notes", "DESIGN_NOTES")
    if notes["type"] is None:
        leave_to_instructor('DESIGN_NOTES is missing: define DESIGN_NOTES = """...""" with your reasons')
    if notes["text"] is None or not notes["text"].strip():
        leave_to_instructor(
            f"DESIGN_NOTES is {'empty' if notes['text'] is not None else 'a ' + notes['type']}: "
            "write why you chose each part of the design, as a string"
        )
    words, paragraphs = len(notes["text"].split()), len([p for p in notes["text"].split("\n\n") if p.strip()])
    leave_to_instructor(f"submitted: {words} words in {paragraphs} paragraph(s)")
