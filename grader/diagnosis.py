"""Naming the misconception behind a wrong answer.

Each exercise may keep a catalogue beside its hidden suites: a module whose entries
imitate one known mistake each (`@misconception(...)` on a function that computes what
the mistaken code would return). When a test fails, the judge replays the failing call
through every entry that imitates the called function; an entry that reproduces the
student's output, where the reference does not, names the mistake. Entries may instead
`detect` a mistake from the submission's behaviour (for models), through the same
`student` proxy the suites use. All of this runs in the judge: the student's process
cannot influence it beyond what its code returns.

A finding is attached only to the tests it accounts for. An imitation explains the one
failing call it reproduces (two imitations may together reproduce a call that makes both
mistakes); a detector must declare, with `explains`, the failing calls that can show its mistake
(the student functions, the models by factory, or a predicate over the call), and may narrow
that, with `Found`, to the functions where it found the mistake. So two mistakes in one
exercise are each named on their own tests.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import itertools
import math
from pathlib import Path
from typing import Any, Callable

import numpy as np

from grader.engine.student import Call


@dataclasses.dataclass(frozen=True)
class Misconception:
    name: str  #: short id, counted across a class ("flipped_kernel")
    summary: str  #: completes "Your output matches ...": "a kernel flipped left-right and up-down"
    explanation: str  #: one or two sentences: why it is wrong, what the course computes
    section: str  #: the tutorial section to reread
    imitates: str | None = None  #: the student function whose output `imitation` reproduces
    imitation: Callable[..., Any] | None = None  #: (reference, *args, **kwargs) -> the mistaken output
    #: (student, reference) -> whether the mistake is present: falsy, True, or the text to put for
    #: "{found}" in the summary (the module that shows it: "features.2, a MaxPool2d")
    detect: Callable[[Any, Any], bool | str] | None = None
    #: for a detector (required), the failing calls it accounts for: student function names
    #: ("round_filters", also matching a probe "layers.round_filters"), model factories ("LeNet5": a
    #: probe that builds that model), or a predicate over the test's last `Call`
    explains: tuple[str, ...] | Callable[[Call], bool] | None = None

    def accounts_for(self, call: Call | None) -> bool:
        """Whether a test whose failing call is `call` can show this detector's mistake."""
        if call is None or self.explains is None:
            return False
        if callable(self.explains):
            try:
                return bool(self.explains(call))
            except Exception:  # noqa: BLE001 - a predicate that cannot read this call: not its test
                return False
        return any(name in self.explains for name in call_names(call))

    def lines(self) -> tuple[str, str]:
        """What the student reads first: the mistake named, then why it is one and what to reread."""
        opening = "Your output matches" if self.imitation is not None else "Your code"
        return f"{opening} {self.summary}:", f"  {self.explanation} (tutorial: {self.section})"


@dataclasses.dataclass(frozen=True)
class Found:
    """What a detector may return instead of a string: the text for "{found}" and the names (student
    functions or model factories, as in `explains`) of the calls where it found the mistake. The finding
    then accounts only for failing calls to those: "max_pool2d" when avg_pool2d is right."""

    text: str
    explains: tuple[str, ...]


class CatalogueError(ValueError):
    """A catalogue entry that cannot be used as written (the message names it and says what to add)."""


_REGISTERING: list[Misconception] = []


def misconception(
    name: str,
    *,
    summary: str,
    explanation: str,
    section: str,
    imitates: str | None = None,
    explains: tuple[str, ...] | Callable[[Call], bool] | None = None,
) -> Callable:
    """Register the decorated function as a catalogue entry.

    With `imitates`, the function imitates that student function: it takes the reference
    module and the call's arguments and returns the mistaken result; the message opens "Your
    output matches <summary>". Without, it is a detector taking (student, reference) and
    returning True when the mistake is present, or a string that names where (the module
    path, or a `Found`), put for "{found}" in the summary; the message opens "Your code <summary>". A
    detector must declare with `explains` which failing tests its mistake accounts for (see
    `Misconception`): only those whose own failing call or model can show it, so that two mistakes
    are each named on their own tests.
    """
    if isinstance(explains, str):
        explains = (explains,)
    if imitates is None and explains is None:
        raise CatalogueError(
            f"misconception {name!r} detects its mistake without saying which failing tests it "
            "explains: add explains=(the student functions or model factories those tests call) "
            "or explains=a predicate over the failing call (grader.diagnosis.builds(...))"
        )

    def register(function: Callable) -> Callable:
        entry = Misconception(
            name,
            summary,
            explanation,
            section,
            imitates,
            imitation=function if imitates else None,
            detect=None if imitates else function,
            explains=explains,
        )
        _REGISTERING.append(entry)
        return function

    return register


def load_catalogue(path: Path) -> list[Misconception]:
    """The entries of a catalogue module, in the order they are written."""
    _REGISTERING.clear()
    spec = importlib.util.spec_from_file_location(f"_catalogue_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    entries = list(_REGISTERING)
    _REGISTERING.clear()
    return entries


def diagnose(
    catalogue: list[Misconception], call: Call | None, reference: Any, student: Any
) -> tuple[Misconception, ...]:
    """Every entry that explains this failing call, in the catalogue's order.

    The imitations that reproduce the call's result on their own; else a pair of them that
    reproduces it together (a flipped kernel AND a dropped bias). Then the detectors that find
    their mistake in the submission and account for this call (`Misconception.explains`).
    """
    imitations = [entry for entry in catalogue if entry.imitation is not None]
    found = [entry for entry in imitations if _imitation_matches(entry, call, reference)]
    if not found:
        found = list(_matching_pair(imitations, call, reference))
    for entry in catalogue:
        if entry.detect is not None and entry.accounts_for(call) and (where := _detected(entry, student, reference)):
            if isinstance(where, Found):
                if not set(where.explains) & call_names(call):
                    continue  # found, but in functions this call does not reach
                where = where.text
            found.append(
                entry if where is True else dataclasses.replace(entry, summary=entry.summary.format(found=where))
            )
    return tuple(found)


def call_names(call: Call) -> set[str]:
    """What a failing call is about: the function called (with and without its probe's module) and
    the factory of every model it builds."""
    names = {call.function, call.function.rpartition(".")[2]}
    pending = [*call.args, *call.kwargs.values()]
    while pending:
        value = pending.pop()
        if isinstance(value, dict) and {"factory", "args", "kwargs"} <= set(value):
            names.add(str(value["factory"]))
            pending.extend([*value["args"], *value["kwargs"].values()])
    if call.args and isinstance(call.args[0], dict) and len(call.args) > 1 and isinstance(call.args[1], str):
        names.add(call.args[1])  # models.call_with_model(spec, "count_parameters", ...): the function called
    return names


def _matching_pair(imitations: list[Misconception], call: Call | None, reference: Any) -> tuple[Misconception, ...]:
    """Two imitations of the called function that, one on top of the other, reproduce its result."""
    if call is None or not call.returned:
        return ()
    relevant = [entry for entry in imitations if entry.imitates == call.function]
    for first, second in itertools.combinations(relevant, 2):
        for outer, inner in ((first, second), (second, first)):
            mistaken_reference = _Mistaken(reference, inner)
            if _imitation_matches(outer, call, reference, through=mistaken_reference):
                return (first, second)
    return ()


class _Mistaken:
    """The reference with one function replaced by an imitation's mistaken version."""

    def __init__(self, reference: Any, entry: Misconception):
        self._reference, self._entry = reference, entry

    def __getattr__(self, name: str) -> Any:
        if name == self._entry.imitates:
            return lambda *args, **kwargs: self._entry.imitation(self._reference, *args, **kwargs)
        return getattr(self._reference, name)


def _imitation_matches(entry: Misconception, call: Call | None, reference: Any, *, through: Any = None) -> bool:
    if call is None or not call.returned or call.function != entry.imitates:
        return False
    try:
        mistaken = entry.imitation(reference if through is None else through, *call.args, **call.kwargs)
    except Exception:  # noqa: BLE001 - an imitation that cannot handle these arguments explains nothing
        return False
    try:
        correct = getattr(reference, call.function)(*call.args, **call.kwargs)
    except Exception:  # noqa: BLE001 - the reference refuses: any returned value is the mistake
        correct = _REFUSED
    return same_result(mistaken, call.result) and not same_result(correct, call.result)


#: What each detector found in each submission. A detector looks at the submission, not at the
#: failing call, so it runs once per judge however many tests fail.
_DETECTED: dict[tuple[Misconception, int], tuple[Any, bool | str | Found]] = {}


def _detected(entry: Misconception, student: Any, reference: Any) -> bool | str | Found:
    key = (entry, id(student))
    if key not in _DETECTED or _DETECTED[key][0] is not student:  # an id is only reused once freed
        try:
            found = entry.detect(student, reference)
        except BaseException:  # noqa: BLE001 - a detector that cannot run on this submission says nothing
            found = False
        if isinstance(found, Found):
            found = found if found.text and found.explains else False
        _DETECTED[key] = (student, found if isinstance(found, (str, Found)) and found else bool(found))
    return _DETECTED[key][1]


_REFUSED = object()


def same_result(a: Any, b: Any) -> bool:
    """Equal as a student's result would be judged: arrays of the same shape and dtype with close
    values, containers of the same type, numbers close when one is a float, anything else equal
    and of one type."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and bool(np.allclose(a, b, rtol=1e-5, atol=1e-7, equal_nan=True))
        )
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(same_result(x, y) for x, y in zip(a, b))
    if _number(a) and _number(b) and (isinstance(a, float) or isinstance(b, float)):
        return math.isclose(
            a, b, rel_tol=1e-9, abs_tol=1e-12
        )  # the same mistake, written otherwise: 2 ** phi, 2.0 ** phi
    return type(a) is type(b) and a == b


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# -- for catalogues ---------------------------------------------------------------------------------


def builds(
    *factories: str, runs: bool | None = None, where: Callable[[dict], bool] | None = None
) -> Callable[[Call], bool]:
    """An `explains` predicate: the failing call builds one of `factories` (any model when none is
    given) and `where(spec)` holds for that model's description (`probes.models.model`: factory,
    args, kwargs). With `runs=True` only calls that run the model on an input (a behaviour the
    structure does not show); with `runs=False` only those that read its structure."""

    def explains(call: Call) -> bool:
        specs = [a for a in call.args if isinstance(a, dict) and {"factory", "args", "kwargs"} <= set(a)]
        ran = any(isinstance(a, np.ndarray) for a in call.args)
        if runs is not None and ran != runs:
            return False
        return any((not factories or spec["factory"] in factories) and (where is None or where(spec)) for spec in specs)

    return explains


#: Answers of the probe runs that catalogues' detectors share, per submission (or reference).
_REMEMBERED: dict[tuple[int, Any], tuple[Any, Any]] = {}


def remembered(target: Any, key: Any, compute: Callable[[], Any]) -> Any:
    """`compute()` once per target and key, and its error too: the run a catalogue's detectors share.

    Several detectors read one probe run (a model built and run once costs seconds); a
    submission whose run raises is asked once, and every detector that asks sees the error.
    """
    full = (id(target), key)
    if full not in _REMEMBERED or _REMEMBERED[full][0] is not target:  # an id is only reused once freed
        try:
            answer = compute()
        except Exception as error:  # noqa: BLE001 - the student's code raised: kept like an answer
            answer = error
        _REMEMBERED[full] = (target, answer)
    answer = _REMEMBERED[full][1]
    if isinstance(answer, Exception):
        raise answer
    return answer


def arrays_close(a: Any, b: Any) -> bool:
    """Same shape and the same values up to float32 rounding, relative to the size of `b`."""
    a, b = np.asarray(a), np.asarray(b)
    scale = max(float(np.max(np.abs(b), initial=0.0)), 1.0)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-4, atol=1e-5 * scale))


def described_modules(target: Any, spec: dict) -> list:
    """`models.describe`'s module list (name, kind, hyper-parameters, parameters) of `spec`, once per target."""
    from grader.judging.models import ask  # catalogues of models only

    return remembered(target, ("describe", repr(spec)), lambda: ask(target, "describe", spec)["modules"])


def clipped_scores(last_linear: str | None, run: dict) -> str | None:
    """`last_linear` when the model's output is its scores clipped at zero: a ReLU after the last layer.

    `run` is a `models.forward` report recorded with `record="all"`; scores with nothing
    negative cannot show the mistake.
    """
    scores, output = run["records"].get(last_linear), run["outputs"][0]
    if scores is None or arrays_close(output, scores) or not (scores < 0).any():
        return None
    return last_linear if arrays_close(output, np.maximum(scores, 0)) else None
