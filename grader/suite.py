"""The API that suites and misconception catalogues import: nothing else of grader/ is theirs to use.

Public suites ship to students and hidden ones live in the course: both import only this module,
so everything behind it may move freely. Checks raise a described `Mismatch`; probes run trusted
inspections beside student code and return plain data; `misconception` declares a catalogue entry.
"""

from __future__ import annotations

from grader.checks import (
    Mismatch,
    expect_array,
    expect_equal,
    expect_raises,
    leave_to_instructor,
)
from grader.describe import (
    describe_value,
    type_name,
)
from grader.diagnosis import (
    arrays_close,
    builds,
    clipped_scores,
    described_modules,
    misconception,
    remembered,
    same_result,
)
from grader.engine.student import (
    Call,
    NotImplementedYet,
    StudentRaised,
)
from grader.probes import (
    PROBES,
)
from grader.probes.architectures import (
    layout_difference,
    make_accuracy,
    run_by_position,
)
from grader.probes.design import (
    ask as ask_design,
)
from grader.probes.experiment import (
    accuracy,
    ask as ask_experiment,
    expect_losses,
    loader,
    read_png,
    small_cnn,
)
from grader.probes.layers import (
    build,
    call_on_layers,
    describe,
)
from grader.probes.models import (
    array_difference,
    ask,
    behaviour_difference,
    describe_model,
    fill_values,
    first_difference,
    model,
    module_difference,
    state_difference,
)

__all__ = ['Call', 'Mismatch', 'NotImplementedYet', 'PROBES', 'StudentRaised', 'accuracy', 'array_difference', 'arrays_close', 'ask', 'ask_design', 'ask_experiment', 'behaviour_difference', 'build', 'builds', 'call_on_layers', 'clipped_scores', 'describe', 'describe_model', 'describe_value', 'described_modules', 'expect_array', 'expect_equal', 'expect_losses', 'expect_raises', 'fill_values', 'first_difference', 'layout_difference', 'leave_to_instructor', 'loader', 'make_accuracy', 'misconception', 'model', 'module_difference', 'read_png', 'remembered', 'run_by_position', 'same_result', 'small_cnn', 'state_difference', 'type_name']
