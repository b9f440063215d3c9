"""The report a student reads in the terminal: a score table, then each failing test in a few lines."""

from __future__ import annotations

import io

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from grader import score
from grader.results import ExerciseResult, GradeReport, TestResult

_STYLES = {"passed": "green", "partial": "yellow", "failed": "red", "not implemented": "dim", "error": "magenta"}


def build(report: GradeReport) -> RenderableType:
    parts: list[RenderableType] = [_score_table(report)]
    for exercise in report.exercises:
        parts.extend(_exercise_details(exercise))
    parts.extend(Text(f"note: {note}", style="italic") for note in report.notes)
    if report.lateness is not None:
        parts.append(_lateness_line(report))
    return Group(*parts)


def render(report: GradeReport, *, width: int = 100) -> str:
    """Plain text, the same on every machine (fixed width, no colour)."""
    console = Console(file=io.StringIO(), width=width, color_system=None, highlight=False)
    console.print(build(report))
    return console.file.getvalue()


def _lateness_line(report: GradeReport) -> Text:
    lateness = report.lateness
    days = score.days_late(lateness)
    if days == 0:
        return Text(f"assignment {lateness.assignment}: on time (due {lateness.due})", style="green")
    penalty = score.late_penalty_percent(report)
    what = "refused: late submissions score 0" if lateness.policy == "refuse" else f"penalty {penalty:g}%"
    return Text(f"assignment {lateness.assignment}: {days} day{'s' if days > 1 else ''} late (due {lateness.due}, "
                f"submitted {lateness.submitted_at}): {what}; "
                f"{score.raw_total_score(report):g} points before the penalty", style="yellow")


def _score_table(report: GradeReport) -> Table:
    table = Table(title=report.course, title_justify="left", show_footer=True, box=None, pad_edge=False)
    table.add_column("exercise", footer="total")
    table.add_column("title")
    table.add_column("score", justify="right", footer=f"{score.total_score(report):g}/{score.total_max_score(report):g}")
    table.add_column("status", footer=f"{score.percentage(report):.0f}%")
    for exercise in report.exercises:
        status = score.exercise_status(exercise)
        pending = score.pending_points(exercise)
        table.add_row(exercise.id, exercise.title,
                      f"{score.exercise_score(exercise):g}/{score.exercise_max_score(exercise):g}",
                      Text(status + (f" (+{pending:g} pending)" if pending else ""), style=_STYLES[status]))
    return table


def _exercise_details(exercise: ExerciseResult) -> list[RenderableType]:
    failing = [t for t in exercise.tests if not t.passed and score.is_graded_here(t)]
    pending = [t for t in exercise.tests if not score.is_graded_here(t)]
    lines: list[RenderableType] = []
    if exercise.problem or failing or pending or exercise.hidden_points_not_run:
        lines.append(Text(f"\n{exercise.id}: {exercise.title}", style="bold"))
    if exercise.problem:
        lines.append(Text(f"  {exercise.problem}", style="magenta"))
    graded = [t for t in exercise.tests if score.is_graded_here(t)]
    if failing and all(t.reason == "not_implemented" for t in failing) and len(failing) == len(graded):
        lines.append(Text(f"  not implemented yet ({len(failing)} tests, {exercise.points:g} points)", style="dim"))
    else:
        lines.extend(_test_lines(t) for t in score.shown_failures(failing))
    lines.extend(_pending_lines(t) for t in pending)
    if exercise.hidden_points_not_run:
        lines.append(Text(f"  hidden tests worth {exercise.hidden_points_not_run:g} more points were not run",
                          style="italic"))
    if exercise.output.strip() and failing:
        shown = exercise.output.strip().splitlines()[:5]
        lines.append(Text("  your code printed:\n" + "\n".join(f"    | {line}" for line in shown), style="dim"))
    return lines


def _pending_lines(test: TestResult) -> Text:
    text = Text(f"  … {test.name} ", style="blue")
    text.append(f"(left to the instructor, {test.points:g} points)", style="dim")
    for line in test.message:
        text.append(f"\n      {line}")
    return text


def _test_lines(test: TestResult) -> Text:
    _, label = score.classify(test)
    text = Text(f"  ✗ {test.name} ", style="red")
    text.append(f"({label}, 0/{test.points:g})", style="dim")
    for line in test.message:
        text.append(f"\n      {line}")
    if test.hint:
        text.append(f"\n      hint: {test.hint}", style="cyan")
    return text
