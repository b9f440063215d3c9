"""The course check's report: one table row per exercise, then what is wrong and every survivor as a diff."""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from grader.authoring.check import CheckReport, ExerciseCheck


def table(report: CheckReport) -> Table:
    """One row per exercise; narrow enough for an 80-column CI log."""
    grid = Table(
        title="course check",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    for name in ("exercise", "ref.", "stub", "points", "equiv.", "killed", "score", "", "time"):
        grid.add_column(name, justify="left" if name in ("exercise", "") else "right", no_wrap=True)
    for check in report.exercises:
        grid.add_row(*row(check))
    return grid


def row(check: ExerciseCheck) -> list[str]:
    """The cells of one exercise: tests passing on the reference, hidden tests failing on the stub,
    points, equivalent mutants, mutants killed of those counted, the score, the verdict, the time."""
    measured = check.mutation and check.mutants
    counted = len(check.mutants) - check.equivalent
    return [
        check.id,
        f"{check.reference_passed}/{check.tests}",
        f"{check.stub_failed_hidden}/{check.hidden_tests}",
        f"{check.points:g}",
        str(check.equivalent) if measured else "-",
        f"{check.killed}/{counted}" if measured else "-",
        f"{check.score:.1f}%" if check.score is not None else "-",
        "ok" if check.ok else "FAIL",
        "cached" if check.cached else f"{check.seconds:.0f} s",
    ]


def details(report: CheckReport, *, survivors: bool = True) -> Group:
    """Problems, warnings and (unless asked not to) each surviving mutant with its diff."""
    parts: list = [Text(f"{problem}", style="red") for problem in report.problems]
    for check in report.exercises:
        for problem in check.problems:
            parts.append(Text(f"{check.id}: {problem}", style="red"))
        for warning in check.warnings:
            parts.append(Text(f"{check.id}: warning: {warning}", style="yellow"))
        if survivors and check.survivors:
            parts.append(
                Text(
                    f"\n{check.id}: {len(check.survivors)} mutant(s) survive the hidden suite "
                    "(add a test that tells them apart, or declare them equivalent with a reason)",
                    style="bold",
                )
            )
            for mutant in check.survivors:
                note = " (a public test catches it)" if mutant.public_catches else ""
                parts.append(Text(f"  mutant: {mutant.id}{note}", style="bold"))
                parts.append(Text("\n".join("    " + line for line in mutant.diff.splitlines()[2:])))
    parts.append(Text(summary(report), style="green" if report.ok else "red"))
    return Group(*parts)


def summary(report: CheckReport) -> str:
    failing = [c.id for c in report.exercises if not c.ok]
    if report.ok:
        return (
            f"course check passed: {len(report.exercises)} exercise(s), every mutation score at or above "
            f"{report.min_mutation_score:g}% ({report.seconds:.0f} s)"
        )
    return f"course check failed: {', '.join(failing) or 'the course'} ({report.seconds:.0f} s)"
