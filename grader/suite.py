"""The API of suites and misconception catalogues: the one module of grader/ they import.

Public suites ship to students and hidden suites live in the course, so what they use must
stay stable; everything behind this module may move freely (tests/engine/test_layout.py holds
suites and catalogues to it). The instructor guide, "Writing suites", documents it.

- Checks compare in the judge and raise a described `Mismatch` (expected, got, hint).
- The `student` fixture is a proxy: a call crosses to the jailed process and comes back as
  plain data, or raises `StudentRaised` / `NotImplementedYet`; `Call` is the call it remembers.
- Probes inspect what cannot cross (a model, layers, a training run) where the student's code
  lives and report plain data: `model(...)` describes a model to build, `ask*` runs a probe and
  names the call in the feedback, the `*_difference` functions say in words how two reports differ.
- Catalogues declare the mistakes students make with `misconception`, and replay calls with the
  helpers beside it.
"""

from __future__ import annotations

from grader.checks import Mismatch, expect_array, expect_equal, expect_raises, leave_to_instructor
from grader.describe import describe_value, type_name
from grader.diagnosis import (
    Found,
    arrays_close,
    builds,
    clipped_scores,
    described_modules,
    misconception,
    remembered,
    same_result,
)
from grader.engine.student import Call, NotImplementedYet, StudentRaised
from grader.judging import asker
from grader.judging.architectures import layout_difference, run_by_position
from grader.judging.experiment import ask as ask_experiment
from grader.judging.experiment import expect_losses, read_answers, read_png
from grader.judging.layers import call_on_layers, describe
from grader.judging.models import (
    array_difference,
    ask,
    behaviour_difference,
    first_difference,
    module_difference,
    state_difference,
)
from grader.probes import PROBES
from grader.probes.architectures import make_accuracy
from grader.probes.experiment import accuracy, loader, small_cnn
from grader.probes.layers import build
from grader.probes.models import describe_model, fill_values, model

#: `ask_design(student, name, description, *args)`: the probe `design.<name>`, the call shown as `description`.
ask_design = asker("design")

__all__ = [
    # checks
    "Mismatch",
    "expect_array",
    "expect_equal",
    "expect_raises",
    "leave_to_instructor",
    # the student's proxy
    "Call",
    "NotImplementedYet",
    "StudentRaised",
    # describing values and models in feedback
    "describe",
    "describe_model",
    "describe_value",
    "type_name",
    # probes: describing what to build, asking, comparing
    "PROBES",
    "model",
    "build",
    "fill_values",
    "make_accuracy",
    "small_cnn",
    "loader",
    "accuracy",
    "ask",
    "ask_design",
    "ask_experiment",
    "call_on_layers",
    "run_by_position",
    "read_png",
    "expect_losses",
    "read_answers",
    "array_difference",
    "behaviour_difference",
    "first_difference",
    "layout_difference",
    "module_difference",
    "state_difference",
    # misconception catalogues
    "misconception",
    "Found",
    "arrays_close",
    "builds",
    "clipped_scores",
    "described_modules",
    "remembered",
    "same_result",
]
