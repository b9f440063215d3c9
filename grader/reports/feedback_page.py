"""A student's feedback page, in Markdown and in HTML: scores, each failing test, what to reread.

`page` gathers what the student may see (hidden tests' details only when the instructor
allows); `render_markdown` and `render_html` lay the same `Page` out, so both always agree.
Scores and labels come from `grader.score`.
"""

from __future__ import annotations

import dataclasses
import html

from grader import score
from grader.results import ExerciseResult, GradeReport, TestResult

_STATUS_COLOURS = {
    "passed": "#1a7f37",
    "partial": "#9a6700",
    "failed": "#cf222e",
    "not implemented": "#6e7781",
    "error": "#8250df",
    "broken": "#8250df",
    "missing": "#6e7781",
}


@dataclasses.dataclass(frozen=True)
class FailedTest:
    name: str
    label: str  #: from score.classify: "wrong result", "timed out", ...
    points: float
    lines: tuple[str, ...]  #: the feedback: call, expected, got
    hint: str | None = None
    diagnosis: str | None = None


@dataclasses.dataclass(frozen=True)
class ManualItem:
    """An item the instructor graded by hand (`grader review`): the points given and the comment."""

    name: str
    awarded: float
    points: float
    lines: tuple[str, ...]  #: the instructor's comment, then who graded it and when


@dataclasses.dataclass(frozen=True)
class ExerciseFeedback:
    id: str
    title: str
    section: str  #: the tutorial section to reread
    score: float
    max_score: float
    status: str
    problem: str | None
    not_implemented: bool  #: nothing was attempted: one line says so
    failed: tuple[FailedTest, ...]
    hidden_withheld: tuple[int, float]  #: (tests, points) of failed hidden tests whose details are withheld
    pending: tuple[tuple[str, float], ...]  #: (name, points) left to the instructor
    hidden_not_run: float
    manual: tuple[ManualItem, ...] = ()

    @property
    def to_reread(self) -> bool:
        return self.status not in ("passed", "not implemented")


@dataclasses.dataclass(frozen=True)
class Page:
    student: str
    course: str
    score: float | None
    max_score: float | None
    percentage: float | None
    exercises: tuple[ExerciseFeedback, ...] = ()
    notes: tuple[str, ...] = ()
    error: str | None = None  #: the grader could not grade the submission
    lateness: str | None = None  #: when it was due and came, and the penalty, for an assignment


def page(report: GradeReport, *, student: str, show_hidden: bool = False) -> Page:
    return Page(
        student=student,
        course=report.course,
        score=score.total_score(report),
        max_score=score.total_max_score(report),
        percentage=score.percentage(report),
        exercises=tuple(_exercise(e, show_hidden=show_hidden) for e in report.exercises),
        notes=report.notes,
        lateness=lateness_line(report),
    )


def lateness_line(report: GradeReport) -> str | None:
    """One sentence on the hand-in time and any late penalty (numbers from `score`)."""
    lateness = report.lateness
    if lateness is None:
        return None
    days, penalty = score.days_late(lateness), score.late_penalty_percent(report)
    text = f"Assignment {lateness.assignment}, due {lateness.due}, handed in {lateness.submitted_at}: "
    if days == 0:
        return text + "on time."
    text += f"{days} day{'s' * (days > 1)} late"
    if penalty:
        text += f", a {penalty:g}% late penalty ({score.raw_total_score(report):g} points before it)"
    return text + "."


def broken_page(*, student: str, course: str, error: str) -> Page:
    """The page of a submission the grader could not grade."""
    return Page(student=student, course=course, score=None, max_score=None, percentage=None, error=error)


def _exercise(exercise: ExerciseResult, *, show_hidden: bool) -> ExerciseFeedback:
    manual = [t for t in exercise.tests if t.awarded is not None]
    graded = [t for t in exercise.tests if score.is_graded_here(t) and t.awarded is None]
    not_implemented = bool(graded) and all(t.reason == "not_implemented" for t in graded)
    failing = [t for t in graded if not t.passed and not not_implemented]  # "not implemented yet" says it all
    withheld = [t for t in failing if t.kind == "hidden" and not show_hidden]
    shown = score.shown_failures([t for t in failing if t not in withheld])
    return ExerciseFeedback(
        id=exercise.id,
        title=exercise.title,
        section=exercise.section,
        score=score.exercise_score(exercise),
        max_score=score.exercise_max_score(exercise),
        status=score.exercise_status(exercise),
        problem=exercise.problem,
        not_implemented=not_implemented,
        failed=tuple(_failed(t) for t in shown),
        hidden_withheld=(len(withheld), sum(t.points for t in withheld)),
        pending=tuple((t.name, t.points) for t in exercise.tests if not score.is_graded_here(t)),
        hidden_not_run=exercise.hidden_points_not_run,
        manual=tuple(ManualItem(t.name, score.test_score(t), t.points, t.message) for t in manual),
    )


def _failed(test: TestResult) -> FailedTest:
    return FailedTest(
        name=test.name,
        label=score.classify(test)[1],
        points=test.points,
        lines=test.message,
        hint=test.hint,
        diagnosis=test.diagnosis,
    )


# -- Markdown ----------------------------------------------------------------------------------------------


def render_markdown(feedback: Page) -> str:
    lines = [f"# Feedback for {feedback.student}", "", f"*{feedback.course}*", ""]
    if feedback.error is not None:
        lines += [
            "**Your submission could not be graded.** Your instructor has the details and will be in touch.",
            "",
            f"> {feedback.error}",
            "",
        ]
        return "\n".join(lines)
    lines += [f"**Score: {feedback.score:g} / {feedback.max_score:g} ({feedback.percentage:.0f}%)**", ""]
    lines += [feedback.lateness, ""] if feedback.lateness else []
    lines += ["| exercise | title | score | status |", "| --- | --- | ---: | --- |"]
    lines += [f"| {e.id} | {_cell(e.title)} | {e.score:g} / {e.max_score:g} | {e.status} |" for e in feedback.exercises]
    for exercise in feedback.exercises:
        lines += _exercise_markdown(exercise)
    lines += [""] + [f"*Note: {note}*" for note in feedback.notes]
    return "\n".join(lines).rstrip() + "\n"


def _exercise_markdown(exercise: ExerciseFeedback) -> list[str]:
    if exercise.status == "passed" and not exercise.pending and not exercise.hidden_not_run and not exercise.manual:
        return []
    lines = ["", f"## {exercise.id}: {exercise.title} ({exercise.score:g} / {exercise.max_score:g})", ""]
    if exercise.problem:
        lines += [f"> {exercise.problem}", ""]
    if exercise.not_implemented:
        lines += ["Not implemented yet.", ""]
    else:
        for test in exercise.failed:
            lines += [f"- ✗ **{test.name}** ({test.label}, 0 / {test.points:g})", "", "  ```text"]
            lines += [f"  {line}" for line in test.lines] + ["  ```"]
            lines += [f"  *Diagnosis:* {test.diagnosis}"] * bool(test.diagnosis)
            lines += [f"  *Hint:* {test.hint}"] * bool(test.hint) + [""]
    count, points = exercise.hidden_withheld
    if count:
        lines += [
            f"- {count} hidden test{'s' * (count > 1)} failed ({points:g} points); their details are not shown.",
            "",
        ]
    lines += [f"- … {name} (left to the instructor, {points:g} points)" for name, points in exercise.pending]
    for item in exercise.manual:
        lines += [f"- ✎ **{item.name}** (graded by the instructor, {item.awarded:g} / {item.points:g})", ""]
        lines += [f"  > {line}" for line in item.lines] + [""]
    if exercise.hidden_not_run:
        lines += [f"- Hidden tests worth {exercise.hidden_not_run:g} more points were not run."]
    if exercise.to_reread:
        lines += ["", f"**Reread:** the tutorial section *{exercise.section}*."]
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


# -- HTML --------------------------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }
table { border-collapse: collapse; margin: 1rem 0; } td, th { padding: .3rem .8rem; border-bottom: 1px solid #d0d7de; }
th { text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.status { font-weight: 600; } .score { font-size: 1.4rem; font-weight: 600; }
pre { background: #f6f8fa; padding: .6rem; border-radius: 6px; overflow-x: auto; margin: .3rem 0; }
li { margin-bottom: .8rem; } .hint { color: #0969da; } .diagnosis { color: #9a6700; }
.problem { border-left: 4px solid #8250df; padding-left: .6rem; } .reread { background: #ddf4ff; padding: .5rem; }
"""


def render_html(feedback: Page) -> str:
    body = [f"<h1>Feedback for {_e(feedback.student)}</h1>", f"<p><em>{_e(feedback.course)}</em></p>"]
    if feedback.error is not None:
        body += [
            "<p class='score'>Your submission could not be graded.</p>",
            "<p>Your instructor has the details and will be in touch.</p>",
            f"<p class='problem'>{_e(feedback.error)}</p>",
        ]
    else:
        body += [
            f"<p class='score'>Score: {feedback.score:g} / {feedback.max_score:g} ({feedback.percentage:.0f}%)</p>"
        ]
        body += [f"<p>{_e(feedback.lateness)}</p>"] if feedback.lateness else []
        body.append(_score_table(feedback))
        body += [part for exercise in feedback.exercises for part in _exercise_html(exercise)]
        body += [f"<p><em>Note: {_e(note)}</em></p>" for note in feedback.notes]
    return document(f"Feedback for {feedback.student}", "\n".join(body))


def document(title: str, body: str, *, style: str = "") -> str:
    """A standalone HTML page (the class summary uses it too)."""
    return (
        f"<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n<title>{_e(title)}</title>\n"
        f"<style>{_STYLE}{style}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def status_span(status: str) -> str:
    return f"<span class='status' style='color: {_STATUS_COLOURS.get(status, '#1f2328')}'>{_e(status)}</span>"


def _score_table(feedback: Page) -> str:
    rows = "".join(
        f"<tr><td>{_e(e.id)}</td><td>{_e(e.title)}</td><td class='num'>{e.score:g} / {e.max_score:g}</td>"
        f"<td>{status_span(e.status)}</td></tr>"
        for e in feedback.exercises
    )
    return f"<table><tr><th>exercise</th><th>title</th><th>score</th><th>status</th></tr>{rows}</table>"


def _exercise_html(exercise: ExerciseFeedback) -> list[str]:
    if exercise.status == "passed" and not exercise.pending and not exercise.hidden_not_run and not exercise.manual:
        return []
    parts = [f"<h2>{_e(exercise.id)}: {_e(exercise.title)} ({exercise.score:g} / {exercise.max_score:g})</h2>"]
    if exercise.problem:
        parts.append(f"<p class='problem'>{_e(exercise.problem)}</p>")
    items = [] if not exercise.not_implemented else ["<li>Not implemented yet.</li>"]
    for test in exercise.failed:
        item = [f"<strong>✗ {_e(test.name)}</strong> ({_e(test.label)}, 0 / {test.points:g})"]
        item.append(f"<pre>{_e(chr(10).join(test.lines))}</pre>" if test.lines else "")
        item.append(f"<div class='diagnosis'>Diagnosis: {_e(test.diagnosis)}</div>" if test.diagnosis else "")
        item.append(f"<div class='hint'>Hint: {_e(test.hint)}</div>" if test.hint else "")
        items.append(f"<li>{''.join(item)}</li>")
    count, points = exercise.hidden_withheld
    if count:
        items.append(
            f"<li>{count} hidden test{'s' * (count > 1)} failed ({points:g} points); their details are not shown.</li>"
        )
    items += [f"<li>… {_e(name)} (left to the instructor, {points:g} points)</li>" for name, points in exercise.pending]
    items += [
        f"<li class='manual'><strong>✎ {_e(item.name)}</strong> (graded by the instructor, "
        f"<span class='awarded'>{item.awarded:g} / {item.points:g}</span>)"
        f"<pre>{_e(chr(10).join(item.lines))}</pre></li>"
        for item in exercise.manual
    ]
    if exercise.hidden_not_run:
        items.append(f"<li>Hidden tests worth {exercise.hidden_not_run:g} more points were not run.</li>")
    parts.append(f"<ul>{''.join(items)}</ul>")
    if exercise.to_reread:
        parts.append(
            f"<p class='reread'><strong>Reread:</strong> the tutorial section <em>{_e(exercise.section)}</em>.</p>"
        )
    return parts


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)
