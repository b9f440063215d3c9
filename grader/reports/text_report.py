"""The report a student reads in the terminal: a score table, then each exercise's mistakes.

An exercise that lost points opens with its score; then each named mistake once, with the
tests it explains listed under it; then the failing tests no mistake explains, each with
what was called and how the result differs. Every line wraps with a hanging indent at the
terminal's width (80 columns when the output is not a terminal).
"""

from __future__ import annotations

import dataclasses
import io
import textwrap

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from grader import score
from grader.results import ExerciseResult, Finding, GradeReport, TestResult

_STYLES = {"passed": "green", "partial": "yellow", "failed": "red", "not implemented": "dim", "error": "magenta"}

#: Tests listed under a named mistake before "and N more".
LISTED_TESTS = 5


@dataclasses.dataclass(frozen=True)
class Line:
    """One logical line: wrapped at the console's width, its continuation lines indented by `hang` more."""

    text: str
    indent: int = 0
    hang: int = 2
    style: str = ""
    cut: bool = False  #: shortened to one line with "…" instead of wrapped (a test's name in a list)
    tail: str = ""  #: kept whole after `text` when a cut line is shortened (a case id, the points)


class Wrapped:
    """Lines that wrap with a hanging indent at whatever width the console has."""

    def __init__(self, lines: list[Line]):
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines:
            for physical in wrap(line, options.max_width):
                yield Text(physical, style=line.style, no_wrap=True, overflow="ignore")


def wrap(line: Line, width: int) -> list[str]:
    """`line` as physical lines of at most `width` columns (its own leading spaces add to the indent)."""
    body = line.text.lstrip(" ")
    indent = line.indent + len(line.text) - len(body)
    if line.cut:
        room = max(width - indent - len(line.tail), 8)
        return [" " * indent + (body if len(body) <= room else body[: room - 1] + "…") + line.tail]
    hang = min(indent + line.hang, max(width // 2, 1))
    return textwrap.wrap(
        body,
        max(width, hang + 8),
        initial_indent=" " * indent,
        subsequent_indent=" " * hang,
        break_on_hyphens=False,
        replace_whitespace=False,
    ) or [""]


def paragraphs(text: str) -> list[str]:
    """`text` (a quiz prompt) as the lines to wrap: the lines of a paragraph joined into one, so a hard
    line break written in the source reflows; an indented line (a matrix, a formula) and a blank line
    kept as they are."""
    found: list[str] = []
    joining = False
    for line in text.splitlines():
        if line.strip() and not line[0].isspace():
            if joining:
                found[-1] += " " + line.strip()
            else:
                found.append(line.rstrip())
            joining = True
        else:
            found.append(line.rstrip())
            joining = False
    return found


def build(report: GradeReport) -> RenderableType:
    parts: list[RenderableType] = [
        Text(report.course, style="bold", no_wrap=True, overflow="ellipsis"),
        _score_table(report),
    ]
    for exercise in report.exercises:
        lines = exercise_lines(exercise)
        if lines:
            parts.append(Wrapped(lines))
    notes = [Line(f"note: {note}", style="italic") for note in report.notes]
    if report.lateness is not None:
        notes.append(_lateness_line(report))
    if notes:
        parts.append(Wrapped(notes))
    return Group(*parts)


def render(report: GradeReport, *, width: int = 80) -> str:
    """Plain text, the same on every machine (fixed width, no colour)."""
    console = Console(file=io.StringIO(), width=width, color_system=None, highlight=False)
    console.print(build(report))
    return console.file.getvalue()


def exercise_text(exercise: ExerciseResult, *, width: int = 80) -> str:
    """One exercise's part of the plain-text report (a blank line first), as `render` prints it."""
    console = Console(file=io.StringIO(), width=width, color_system=None, highlight=False)
    console.print(Wrapped(exercise_lines(exercise)))
    return console.file.getvalue()


def _lateness_line(report: GradeReport) -> Line:
    lateness = report.lateness
    days = score.days_late(lateness)
    if days == 0:
        return Line(f"assignment {lateness.assignment}: on time (due {lateness.due})", style="green")
    penalty = score.late_penalty_percent(report)
    what = "refused: late submissions score 0" if lateness.policy == "refuse" else f"penalty {penalty:g}%"
    return Line(
        f"assignment {lateness.assignment}: {days} day{'s' if days > 1 else ''} late (due {lateness.due}, "
        f"submitted {lateness.submitted_at}): {what}; "
        f"{score.raw_total_score(report):g} points before the penalty",
        style="yellow",
    )


def _score_table(report: GradeReport) -> Table:
    table = Table(show_footer=True, box=None, pad_edge=False)
    table.add_column("exercise", footer="total")
    table.add_column("title")
    table.add_column(
        "score", justify="right", footer=f"{score.total_score(report):g}/{score.total_max_score(report):g}"
    )
    table.add_column("status", footer=f"{score.percentage(report):.0f}%")
    for exercise in report.exercises:
        status = score.exercise_status(exercise)
        pending = score.pending_points(exercise)
        table.add_row(
            exercise.id,
            exercise.title,
            f"{score.exercise_score(exercise):g}/{score.exercise_max_score(exercise):g}",
            Text(status + (f" (+{pending:g} pending)" if pending else ""), style=_STYLES[status]),
        )
    return table


def exercise_lines(exercise: ExerciseResult) -> list[Line]:
    """An exercise's part of the report: nothing when it lost no points and nothing is pending."""
    failing = [t for t in exercise.tests if not t.passed and score.is_graded_here(t)]
    pending = [t for t in exercise.tests if not score.is_graded_here(t)]
    if not (exercise.problem or failing or pending or exercise.hidden_points_not_run):
        return []
    lines = [
        Line(""),
        Line(
            f"{exercise.id}: {exercise.title} ({score.exercise_score(exercise):g}/"
            f"{score.exercise_max_score(exercise):g})",
            style="bold",
        ),
    ]
    if exercise.problem:
        lines.append(Line(exercise.problem, indent=2, style="magenta"))
    graded = [t for t in exercise.tests if score.is_graded_here(t)]
    if failing and all(t.reason == "not_implemented" for t in failing) and len(failing) == len(graded):
        lines.append(
            Line(f"not implemented yet ({len(failing)} tests, {exercise.points:g} points)", indent=2, style="dim")
        )
    else:
        shown = score.shown_failures(failing)
        for finding, tests in _named_mistakes(shown):
            lines.extend(_mistake_lines(finding, tests))
        for test in shown:
            if not test.findings:
                lines.extend(_test_lines(test, _sharing(test, failing)))
    for test in pending:
        lines.extend(_pending_lines(test))
    if exercise.hidden_points_not_run:
        lines.append(
            Line(
                f"hidden tests worth {exercise.hidden_points_not_run:g} more points were not run",
                indent=2,
                style="italic",
            )
        )
    if exercise.output.strip() and failing:
        lines.append(Line("your code printed:", indent=2, style="dim"))
        lines.extend(
            Line(f"| {text}", indent=4, style="dim", cut=True) for text in exercise.output.strip().splitlines()[:5]
        )
    return lines


def _named_mistakes(failing: list[TestResult]) -> list[tuple[Finding, list[TestResult]]]:
    """Each named mistake once, in the order the tests show them, with the tests it explains."""
    named: dict[str, tuple[Finding, list[TestResult]]] = {}
    for test in failing:
        for finding in test.findings:
            named.setdefault(finding.name, (finding, []))[1].append(test)
    return list(named.values())


def _mistake_lines(finding: Finding, tests: list[TestResult]) -> list[Line]:
    points = sum(t.points for t in tests)
    lines = [Line(f"✗ {finding.lines[0]}", indent=2, style="red")]
    lines.extend(Line(text, indent=4, style="cyan") for text in finding.lines[1:])
    lines.append(
        Line(
            f"it shows in {_count(len(tests), 'test')} ({points:g} {'point' if points == 1 else 'points'}):",
            indent=6,
            style="dim",
        )
    )
    lines.extend(_listed(test) for test in tests[:LISTED_TESTS])
    if len(tests) > LISTED_TESTS:
        lines.append(Line(f"and {_count(len(tests) - LISTED_TESTS, 'more test')}", indent=8, style="dim"))
    return lines


def _listed(test: TestResult) -> Line:
    """A test's name on one line, its case id (" [16-32-2]") and points kept when the name is cut."""
    name, case = test.name, ""
    if name.endswith("]") and " [" in name:
        name, case = name[: name.rindex(" [")], name[name.rindex(" [") :]
    return Line(f"- {name}", indent=6, cut=True, tail=f"{case} (0/{test.points:g})")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _pending_lines(test: TestResult) -> list[Line]:
    lines = [Line(f"… {test.name} (left to the instructor, {test.points:g} points)", indent=2, style="blue")]
    return lines + [Line(text, indent=6) for text in test.message]


def _sharing(test: TestResult, failing: list[TestResult]) -> list[TestResult]:
    """The failing tests that `test` stands for: all those with its import error, else itself."""
    if test.reason != "import":
        return [test]
    return [t for t in failing if t.reason == "import" and t.message == test.message]


def _test_lines(test: TestResult, sharing: list[TestResult]) -> list[Line]:
    _, label = score.classify(test)
    if len(sharing) > 1:
        points = sum(t.points for t in sharing)
        title = f"✗ {label}: every test fails ({len(sharing)} tests, 0/{points:g})"
    else:
        title = f"✗ {test.name} ({label}, 0/{test.points:g})"
    lines = [Line(title, indent=2, style="red")]
    lines.extend(Line(text, indent=6, hang=4) for text in test.difference)
    if test.hint:
        lines.append(Line(f"hint: {test.hint}", indent=6, hang=6, style="cyan"))
    return lines
