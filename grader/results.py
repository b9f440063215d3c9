"""What grading produced, as frozen data with one serialization path.

A `TestResult` records one test's outcome and the feedback lines; scoring
rules live in `score`, wording in `reports`. Results cross from the judge to
the runner (and later into the gradebook) as JSON with a `"$type"` tag,
never pickle.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

Outcome = Literal["passed", "failed", "error", "pending"]  #: pending: left to the instructor
Kind = Literal["public", "hidden"]

#: Why a test failed; the reports and the gradebook count these.
Reason = Literal[
    "mismatch",
    "exception",
    "not_implemented",
    "timeout",
    "crash",
    "import",
    "forbidden",
    "missing",
    "not_run",
    "grader",
    "manual",
]


@dataclasses.dataclass(frozen=True)
class Finding:
    """A named mistake that accounts for a test's failure, as the student reads it."""

    name: str  #: the catalogue entry ("flipped_kernel"), counted across a class
    lines: tuple[str, ...]  #: the mistake named, then why it is one and what to reread


@dataclasses.dataclass(frozen=True)
class TestResult:
    exercise: str
    test_id: str  #: pytest node id, stable across runs
    name: str  #: what the student reads
    kind: Kind
    points: float
    outcome: Outcome
    reason: Reason | None = None
    message: tuple[str, ...] = ()  #: feedback lines, already within the line budget
    hint: str | None = None
    diagnosis: str | None = None  #: the named misconception, when one matched (the first of `findings`)
    duration: float = 0.0  #: seconds; the only field that varies between runs
    awarded: float | None = None  #: points an instructor gave a manual item (`grader review`); None: by outcome
    #: every named mistake that accounts for this failure; their lines open `message`
    findings: tuple[Finding, ...] = ()

    __test__ = False  # not a pytest test class, despite the name

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    @property
    def diagnoses(self) -> tuple[str, ...]:
        """The names of every mistake named on this test (results saved before `findings`: `diagnosis`)."""
        return tuple(f.name for f in self.findings) or ((self.diagnosis,) if self.diagnosis else ())

    @property
    def difference(self) -> tuple[str, ...]:
        """`message` without the findings' lines that open it: what was called and how it differs."""
        return self.message[sum(len(f.lines) for f in self.findings) :]


@dataclasses.dataclass(frozen=True)
class ExerciseResult:
    id: str
    title: str
    section: str
    points: float  #: the exercise's points in course.toml
    tests: tuple[TestResult, ...]
    hidden_points_not_run: float = 0  #: points of hidden tests not run (public-only grading)
    problem: str | None = None  #: exercise-wide failure: import error, time limit, grader error
    output: str = ""  #: what the student's code printed, cut to a bounded size
    duration: float = 0.0


@dataclasses.dataclass(frozen=True)
class Lateness:
    """When an assignment was due and when the submission came; `score` turns this into a penalty."""

    assignment: str
    due: str  #: ISO 8601 with offset
    submitted_at: str  #: ISO 8601 with offset
    policy: str  #: "none", "penalty" or "refuse"
    penalty_per_day: float = 0.0  #: percent per started day late


@dataclasses.dataclass(frozen=True)
class GradeReport:
    course: str
    submission: str
    exercises: tuple[ExerciseResult, ...]
    public_only: bool = False
    notes: tuple[str, ...] = ()
    hidden_visibility: str = "after_due_date"  #: Gradescope visibility of hidden tests
    lateness: Lateness | None = None  #: set when grading an assignment
    tampered: tuple[
        str, ...
    ] = ()  #: release files changed, added or deleted since publishing (grader/publish/tamper.py)


_TYPES = {cls.__name__: cls for cls in (Finding, TestResult, ExerciseResult, Lateness, GradeReport)}


def to_json(value: Any) -> Any:
    """Dataclasses become dicts tagged with `"$type"`; tuples become lists."""
    if dataclasses.is_dataclass(value):
        fields = {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$type": type(value).__name__, **fields}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    return value


def from_json(data: Any) -> Any:
    if isinstance(data, list):
        return tuple(from_json(item) for item in data)
    if isinstance(data, dict) and "$type" in data:
        cls = _TYPES[data["$type"]]
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: from_json(v) for k, v in data.items() if k in names})
    return data
