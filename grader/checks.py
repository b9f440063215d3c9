"""Comparisons for suites: cheap checks first, each failure stating expected and got.

The cascade follows PrairieLearn's `check_numpy_array_features`: None, type,
shape, dtype, non-finite values, then closeness with the tolerances printed.
Every check raises `Mismatch`, whose fields (not its prose) the reports read.
Values compared here were decoded from plain data in the judge: the student's
process cannot reach this code or the expected values.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from grader.describe import describe_value, type_name
from grader.engine.student import StudentRaised


class Mismatch(AssertionError):
    """A result that differs from the expected one, described for the student."""

    def __init__(
        self,
        summary: str,
        *,
        expected: str | None = None,
        got: str | None = None,
        details: tuple[str, ...] = (),
        hint: str | None = None,
        kind: str | None = None,
    ):
        super().__init__(summary)
        self.summary = summary
        self.expected = expected
        self.got = got
        self.details = details
        self.hint = hint
        #: what differs, for a test's hint that fits one kind of failure (`@pytest.mark.hint(text, on=...)`):
        #: "none", "type", "shape", "dtype", "non-finite", "values" or "refusal"; None when not said
        self.kind = kind

    def lines(self) -> list[str]:
        lines = [self.summary]
        if self.expected is not None:
            lines.append(f"  expected: {self.expected}")
        if self.got is not None:
            lines.append(f"  got:      {self.got}")
        return lines + [f"  {detail}" for detail in self.details]


class ForInstructor(Exception):
    """Raised by `leave_to_instructor`: the item is graded by a person, not by this suite."""

    def __init__(self, summary: str, details: tuple[str, ...] = ()):
        super().__init__(summary)
        self.lines = (summary, *details)


def leave_to_instructor(summary: str, *details: str) -> None:
    """End the test as pending: its points are neither given nor withheld until an instructor grades it."""
    raise ForInstructor(summary, details)


def expect_array(
    got: Any,
    expected: np.ndarray,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    what: str = "the result",
    hint: str | None = None,
) -> None:
    """`got` must be an ndarray of `expected`'s shape and dtype, close to it."""
    if got is None:
        raise Mismatch(f"{what} is None: is a `return` missing?", hint=hint, kind="none")
    if not isinstance(got, np.ndarray):
        raise Mismatch(
            f"{what} has the wrong type", expected="numpy.ndarray", got=type_name(got), hint=hint, kind="type"
        )
    if got.shape != expected.shape:
        raise Mismatch(
            f"{what} has the wrong shape",
            expected=str(tuple(expected.shape)),
            got=str(tuple(got.shape)),
            hint=hint,
            kind="shape",
        )
    if got.dtype != expected.dtype:
        raise Mismatch(
            f"{what} has the wrong dtype (keep the input's dtype)",
            expected=str(expected.dtype),
            got=str(got.dtype),
            hint=hint,
            kind="dtype",
        )
    _expect_finite_where_expected(got, expected, what, hint)
    close = np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return
    wrong = np.argwhere(~close)
    first = tuple(int(i) for i in wrong[0])
    error = np.abs(got.astype(np.float64) - expected.astype(np.float64))
    raise Mismatch(
        f"{what} has the right shape but wrong values at {len(wrong)} of {expected.size} positions",
        expected=f"{describe_value(expected[first])} at index {first}",
        got=f"{describe_value(got[first])}",
        details=(f"max abs error {np.nanmax(error):.3g} (rtol={rtol:g}, atol={atol:g})",),
        hint=hint,
        kind="values",
    )


def _expect_finite_where_expected(got: np.ndarray, expected: np.ndarray, what: str, hint: str | None) -> None:
    if got.dtype.kind not in "fc":
        return
    bad = ~np.isfinite(got) & np.isfinite(expected)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise Mismatch(
            f"{what} contains {describe_value(got[first])} at index {first}",
            expected=describe_value(expected[first]),
            hint=hint,
            kind="non-finite",
        )


def expect_equal(got: Any, expected: Any, *, what: str = "the result", hint: str | None = None) -> None:
    """Exact equality of plain values (ints, tuples, strings), with the exact type."""
    if type(got) is not type(expected) and not (_is_int(got) and _is_int(expected)):
        raise Mismatch(
            f"{what} has the wrong type",
            expected=f"{type_name(expected)} {describe_value(expected)}",
            got=f"{type_name(got)} {describe_value(got)}",
            hint=hint,
            kind="type",
        )
    if got != expected:
        raise Mismatch(
            f"{what} is wrong", expected=describe_value(expected), got=describe_value(got), hint=hint, kind="values"
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def expect_raises(
    exception_type: type[BaseException],
    function: Callable[..., Any],
    *args: Any,
    hint: str | None = None,
    **kwargs: Any,
) -> StudentRaised:
    """Calling `function` must raise `exception_type` (a subclass counts)."""
    try:
        result = function(*args, **kwargs)
    except StudentRaised as raised:
        if raised.is_a(exception_type):
            return raised
        raise Mismatch(
            "raised the wrong exception",
            expected=exception_type.__name__,
            got=f"{raised.type_name}: {raised.text}",
            hint=hint,
            kind="refusal",
        ) from None
    raise Mismatch(
        "should refuse these arguments",
        expected=f"{exception_type.__name__} with a message",
        got=f"returned {describe_value(result)}",
        hint=hint,
        kind="refusal",
    )
