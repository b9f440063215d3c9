"""Naming a misconception: imitations replay the failing call, detectors look at the submission.

The catalogues themselves are checked against the corpus (test_corpus.py); this is the rule
that picks the entries that explain one failing test, on small made-up catalogues.
"""

from __future__ import annotations

import importlib.util
import re
import string
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest
from support import ROOT

from grader.diagnosis import CatalogueError, Found, Misconception, builds, diagnose, load_catalogue, misconception
from grader.engine.student import Call

REFERENCE = types.SimpleNamespace(double=lambda x: 2 * x)


def _imitation(name: str, mistaken) -> Misconception:
    return Misconception(
        name, f"{name} summary", "why", "Section", imitates="double", imitation=lambda reference, x: mistaken(x)
    )


def _detector(name: str, found, explains=("double",)) -> Misconception:
    return Misconception(
        name, "pools with {found}", "why", "Pooling", detect=lambda student, reference: found, explains=explains
    )


def _names(found) -> list[str]:
    return [entry.name for entry in found]


def _call(x, result, *, returned: bool = True) -> Call:
    return Call("double", (x,), {}, f"double({x!r})", returned=returned, result=result)


def test_an_imitation_that_reproduces_the_students_output_names_the_mistake():
    catalogue = [_imitation("tripled", lambda x: 3 * x), _imitation("squared", lambda x: x * x)]
    (found,) = diagnose(catalogue, _call(np.array([4.0]), np.array([16.0])), REFERENCE, student=None)
    assert found.name == "squared"
    assert found.lines() == ("Your output matches squared summary:", "  why (tutorial: Section)")


def test_no_diagnosis_where_the_reference_gives_the_same_answer_or_nothing_matches():
    squared = [_imitation("squared", lambda x: x * x)]
    assert diagnose(squared, _call(np.array([2.0]), np.array([4.0])), REFERENCE, None) == ()  # 2*2 == 2+2
    assert diagnose(squared, _call(np.array([3.0]), np.array([7.0])), REFERENCE, None) == ()
    assert diagnose(squared, _call(np.array([3.0]), None, returned=False), REFERENCE, None) == ()


def test_results_must_agree_in_dtype_and_shape_not_only_in_values():
    squared = [_imitation("squared", lambda x: x * x)]
    as_float32 = np.array([9.0], dtype=np.float32)
    assert diagnose(squared, _call(np.array([3.0]), as_float32), REFERENCE, None) == ()


def test_an_imitation_that_cannot_handle_the_call_explains_nothing():
    def refuses(x):
        raise ValueError("not this kind of input")

    catalogue = [_imitation("refuses", refuses), _imitation("squared", lambda x: x * x)]
    assert diagnose(catalogue, _call(np.array([3.0]), np.array([9.0])), REFERENCE, None)[0].name == "squared"


def test_a_detector_names_where_it_found_the_mistake():
    (found,) = diagnose([_detector("max_pool", "features.2, a MaxPool2d")], _call(1.0, 3.0), REFERENCE, None)
    assert found.lines() == ("Your code pools with features.2, a MaxPool2d:", "  why (tutorial: Pooling)")


def test_a_detector_that_finds_nothing_or_fails_says_nothing():
    def broken(student, reference):
        raise RuntimeError("the submission does not build")

    failing = Misconception("broken", "s", "e", "S", detect=broken, explains=("double",))
    catalogue = [_detector("absent", None), _detector("empty", ""), _detector("no_where", Found("", ())), failing]
    assert diagnose(catalogue, _call(1.0, 3.0), REFERENCE, None) == ()


def test_every_entry_that_explains_the_failure_is_named_in_the_catalogues_order():
    catalogue = [_detector("first", True), _detector("absent", False), _detector("second", "somewhere")]
    assert _names(diagnose(catalogue, _call(1.0, 3.0), REFERENCE, None)) == ["first", "second"]


def test_a_detector_explains_only_the_failing_calls_it_declares():
    """Two mistakes in one submission: each named on the tests whose own call shows it."""
    pools = _detector("max_pool", "pool1", explains=("LeNet5",))
    rounds = _detector("rounds_down", True, explains=("round_filters",))
    catalogue = [pools, rounds]
    lenet = Call("LeNet5", ({"factory": "LeNet5", "args": [], "kwargs": {}},), {}, "LeNet5()")
    assert _names(diagnose(catalogue, lenet, REFERENCE, None)) == ["max_pool"]
    assert _names(diagnose(catalogue, _call_of("layers.round_filters"), REFERENCE, None)) == ["rounds_down"]
    assert _names(diagnose(catalogue, _call_of("round_repeats"), REFERENCE, None)) == []
    assert _names(diagnose(catalogue, None, REFERENCE, None)) == []  # a test that names no call


def test_a_detector_must_declare_the_tests_it_explains():
    """Without `explains` a detector would be named on every failing test, also on those its mistake
    cannot touch (the other mistake's): the catalogue is refused, naming the entry and what to add."""
    with pytest.raises(CatalogueError, match=r"'pools_with_max' .*explains="):
        misconception("pools_with_max", summary="s", explanation="e", section="S")(lambda student, reference: True)
    misconception("rounded", summary="s", explanation="e", section="S", imitates="double")(lambda reference, x: x)


def test_a_detector_that_found_its_mistake_in_one_function_explains_only_calls_to_that_one():
    """A window mistake found in max_pool2d alone is not named on avg_pool2d's failures."""
    window = _detector(
        "default_stride_one", Found("max_pool2d", ("max_pool2d",)), explains=("max_pool2d", "avg_pool2d")
    )
    (found,) = diagnose([window], _call_of("max_pool2d"), REFERENCE, None)
    assert found.lines()[0] == "Your code pools with max_pool2d:"
    assert diagnose([window], _call_of("avg_pool2d"), REFERENCE, None) == ()


def _call_of(function: str) -> Call:
    return Call(function, (3, 1.1), {}, f"{function}(3, 1.1)", returned=True, result=3)


def test_a_behaviour_shows_only_in_tests_that_run_the_model_and_a_structure_in_any():
    """`builds(..., runs=True)`: a wrong activation cannot explain a test that only reads the layers."""
    block = {"factory": "ResidualBlock", "args": [16, 32], "kwargs": {"stride": 2}}
    described = Call("ResidualBlock", (block,), {}, "ResidualBlock(16, 32, stride=2)")
    ran = Call("ResidualBlock", (block, np.zeros((1, 16, 4, 4)), {}), {}, "ResidualBlock(16, 32, stride=2), ...")
    behaviour = builds("ResidualBlock", runs=True)
    projecting = builds("ResidualBlock", where=lambda spec: spec["kwargs"].get("stride", 1) != 1)
    assert (behaviour(described), behaviour(ran)) == (False, True)
    assert (projecting(described), projecting(ran)) == (True, True)
    identity = Call("ResidualBlock", ({**block, "kwargs": {}},), {}, "ResidualBlock(16, 32)")
    assert projecting(identity) is False and builds("MiniResNet")(described) is False


def test_two_imitations_together_name_both_mistakes_on_a_call_that_makes_both():
    """A flipped kernel AND a dropped bias: neither alone reproduces the output, the two together do."""
    reference = types.SimpleNamespace(affine=lambda x, w, b: w * x + b)
    flipped = Misconception(
        "negated", "s", "e", "S", imitates="affine", imitation=lambda ref, x, w, b: ref.affine(x, -w, b)
    )
    dropped = Misconception(
        "bias_dropped", "s", "e", "S", imitates="affine", imitation=lambda ref, x, w, b: ref.affine(x, w, 0.0)
    )
    both = Call("affine", (2.0, 3.0, 1.0), {}, "affine(2, 3, 1)", returned=True, result=-6.0)
    assert _names(diagnose([flipped, dropped], both, reference, None)) == ["negated", "bias_dropped"]
    one = Call("affine", (2.0, 3.0, 1.0), {}, "affine(2, 3, 1)", returned=True, result=-5.0)
    assert _names(diagnose([flipped, dropped], one, reference, None)) == ["negated"]
    neither = Call("affine", (2.0, 3.0, 1.0), {}, "affine(2, 3, 1)", returned=True, result=4.0)
    assert _names(diagnose([flipped, dropped], neither, reference, None)) == []


def test_a_detector_runs_once_per_submission_however_many_tests_fail():
    runs = []
    counting = Misconception(
        "counted", "s", "e", "S", detect=lambda student, reference: runs.append(1) or True, explains=("double",)
    )
    submission = object()
    for x in range(3):
        assert _names(diagnose([counting], _call(x, 3 * x), REFERENCE, submission)) == ["counted"]
    assert len(runs) == 1


def test_floats_match_up_to_rounding_so_the_same_mistake_written_differently_is_named():
    cubed = Misconception("cubed", "s", "e", "S", imitates="double", imitation=lambda reference, x: x * x * x)
    written_otherwise = (0.3**1.5) ** 2  # 0.027 with another last bit
    assert written_otherwise != 0.3 * 0.3 * 0.3
    assert diagnose([cubed], _call(0.3, written_otherwise), REFERENCE, None)[0].name == "cubed"
    assert diagnose([cubed], _call(0.3, 0.0271), REFERENCE, None) == ()


def test_a_shared_probe_run_is_computed_once_per_submission_and_its_error_kept():
    from grader.diagnosis import remembered

    runs, submission, other = [], object(), object()

    def run():
        runs.append(1)
        raise RuntimeError("the model does not build")

    for _ in range(2):
        with pytest.raises(RuntimeError, match="the model does not build"):
            remembered(submission, "forward", run)
    assert remembered(other, "forward", lambda: 42) == 42
    assert len(runs) == 1


def test_an_int_and_a_float_of_the_same_value_are_the_same_answer_but_not_a_bool():
    powered = Misconception("two_to_the_phi", "s", "e", "S", imitates="double", imitation=lambda reference, phi: 2**phi)
    assert diagnose([powered], _call(3, 8.0), REFERENCE, None)[0].name == "two_to_the_phi"
    assert diagnose([powered], _call(3, 9.0), REFERENCE, None) == ()
    truthy = Misconception("truthy", "s", "e", "S", imitates="double", imitation=lambda reference, x: 1)
    assert diagnose([truthy], _call(5, True), REFERENCE, None) == ()


def test_scores_clipped_at_zero_name_the_last_layer_only_when_a_score_was_negative():
    from grader.diagnosis import clipped_scores

    scores = np.array([[1.5, -2.0, 0.5]])
    assert clipped_scores("fc3", {"records": {"fc3": scores}, "outputs": [np.maximum(scores, 0)]}) == "fc3"
    assert clipped_scores("fc3", {"records": {"fc3": scores}, "outputs": [scores]}) is None
    assert clipped_scores("fc3", {"records": {"fc3": np.abs(scores)}, "outputs": [np.abs(scores)]}) is None
    assert clipped_scores(None, {"records": {}, "outputs": [scores]}) is None


# -- the course's catalogues, on submissions made up here ------------------------------------------


def _module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pooling_submission(reference, *, max_stride_one: bool, avg_stride_one: bool, avg_takes_max: bool):
    """max_pool2d and avg_pool2d with the default stride mistaken for 1, and average pooling taking the maximum."""

    def pooling(stride_one, reduce):
        return lambda x, kernel, stride=None, padding=0: reduce(
            x, kernel, 1 if stride is None and stride_one else stride, padding
        )

    return types.SimpleNamespace(
        max_pool2d=pooling(max_stride_one, reference.max_pool2d),
        avg_pool2d=pooling(avg_stride_one, reference.max_pool2d if avg_takes_max else reference.avg_pool2d),
    )


def _pooling_diagnoses(student, function: str, x, kernel, **kwargs) -> dict[str, str]:
    catalogue = load_catalogue(ROOT / "tests/hidden/misconceptions/pooling.py")
    reference = _module(ROOT / "reference/pooling.py", "reference_pooling")
    call = Call(
        function, (x, kernel), kwargs, function, returned=True, result=getattr(student, function)(x, kernel, **kwargs)
    )
    return {entry.name: entry.summary for entry in diagnose(catalogue, call, reference, student)}


def test_a_pooling_window_mistake_is_named_in_both_functions_also_where_average_pooling_takes_the_maximum():
    """Average pooling that takes the maximum of windows one pixel apart shows the default-stride mistake
    too: it is named for both functions, on the calls without a stride only."""
    reference = _module(ROOT / "reference/pooling.py", "reference_pooling")
    student = _pooling_submission(reference, max_stride_one=True, avg_stride_one=True, avg_takes_max=True)
    x = np.random.default_rng(3).standard_normal((2, 3, 6, 6))
    no_stride = _pooling_diagnoses(student, "avg_pool2d", x, 2)
    assert list(no_stride) == ["default_stride_one"]
    assert "in max_pool2d and avg_pool2d when no stride" in no_stride["default_stride_one"]
    assert list(_pooling_diagnoses(student, "avg_pool2d", x, 2, stride=1)) == ["avg_takes_max"]


def test_a_pooling_window_mistake_in_max_pool2d_alone_is_not_named_on_average_pooling():
    reference = _module(ROOT / "reference/pooling.py", "reference_pooling")
    student = _pooling_submission(reference, max_stride_one=True, avg_stride_one=False, avg_takes_max=True)
    x = np.random.default_rng(3).standard_normal((2, 3, 6, 6))
    assert "in max_pool2d when" in _pooling_diagnoses(student, "max_pool2d", x, 2)["default_stride_one"]
    assert list(_pooling_diagnoses(student, "avg_pool2d", x, 2)) == ["avg_takes_max"]


def test_the_scaffolded_catalogue_teaches_explains_with_examples_that_load(tmp_path):
    """`grader new exercise` writes the catalogue from this template: an instructor learns there that a
    detector declares `explains`, and both of its example entries, written out, are valid entries."""
    template = (ROOT / "grader/templates/scaffold/misconceptions.py.tmpl").read_text(encoding="utf-8")
    text = string.Template(template).substitute(name="leaky", section="ResNet (2015)")
    examples = re.findall(r"\n((?:    @misconception.*\n)(?:    .*\n)+)", text)
    assert len(examples) == 2 and "explains=" in text
    catalogue = tmp_path / "leaky.py"
    catalogue.write_text(text + "\n\n" + "\n".join(textwrap.dedent(e) for e in examples), encoding="utf-8")
    imitation, detector = load_catalogue(catalogue)
    assert imitation.imitates == "leaky" and detector.explains == ("leaky",)
