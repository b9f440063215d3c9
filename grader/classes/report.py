"""The class at a glance: score distribution, exercise by exercise, and the tests students fail most.

`summarize` turns the gradebook's latest records into a `ClassSummary` (numbers from
`grader.score` only); `plot` draws it as PNG files with matplotlib (no pyplot, so no global
state and no display); `render_markdown` and `render_html` lay it out with links to each
student's page.
"""

from __future__ import annotations

import collections
import dataclasses
import html
import statistics
import textwrap
from pathlib import Path

from matplotlib.figure import Figure

from grader import score
from grader.classes.gradebook import Record
from grader.reports.feedback_page import document, status_span

#: Failures that say which idea a student got wrong. Not implemented, missing, cannot be imported
#: and not run say only that the student did not get that far, so they do not rank a test.
RETEACH_REASONS = frozenset({"mismatch", "exception", "timeout", "crash", "forbidden"})

HISTOGRAM, MOST_FAILED, EXERCISES = "score_histogram.png", "most_failed_tests.png", "exercise_scores.png"


@dataclasses.dataclass(frozen=True)
class ExerciseStats:
    id: str
    title: str
    section: str
    mean_score: float
    max_score: float
    statuses: tuple[tuple[str, int], ...]  #: (status, students), most frequent first


@dataclasses.dataclass(frozen=True)
class FailedTest:
    exercise: str
    name: str
    kind: str
    students: int
    label: str  #: the most common way it failed


@dataclasses.dataclass(frozen=True)
class MisconceptionCount:
    exercise: str
    name: str  #: the catalogue entry's name ("flipped_kernel")
    students: int  #: graded students whose work showed it
    share: float  #: of the graded students, in percent


@dataclasses.dataclass(frozen=True)
class StudentRow:
    student: str
    name: str
    status: str  #: graded or broken
    score: float | None
    max_score: float | None
    percentage: float | None
    note: str = ""  #: broken: why; graded with a grader error: which exercise


@dataclasses.dataclass(frozen=True)
class ClassSummary:
    course: str
    students: tuple[StudentRow, ...]
    exercises: tuple[ExerciseStats, ...]
    most_failed: tuple[FailedTest, ...]
    misconceptions: tuple[MisconceptionCount, ...] = ()

    @property
    def percentages(self) -> list[float]:
        return [s.percentage for s in self.students if s.percentage is not None]

    @property
    def broken(self) -> list[StudentRow]:
        return [s for s in self.students if s.status == "broken"]


def summarize(records: list[Record], *, course: str, top: int = 10) -> ClassSummary:
    graded = [r for r in records if r.report is not None]
    return ClassSummary(
        course=course,
        students=tuple(_student_row(r) for r in records),
        exercises=_exercise_stats(graded),
        most_failed=_most_failed(graded, top),
        misconceptions=_misconceptions(graded),
    )


def _student_row(record: Record) -> StudentRow:
    report = record.report
    if report is None:
        return StudentRow(record.student.id, record.student.name, record.status, None, None, None, record.error or "")
    errors = [e.id for e in report.exercises if score.exercise_status(e) == "error"]
    notes = [f"grader error in {', '.join(errors)}: check the report"] if errors else []
    if report.tampered:
        notes.append(f"changed release files: {', '.join(report.tampered[:3])}" + ", …" * (len(report.tampered) > 3))
    if report.lateness is not None and score.days_late(report.lateness):
        days = score.days_late(report.lateness)
        notes.append(f"{days} day{'s' * (days > 1)} late, -{score.late_penalty_percent(report):g}%")
    note = "; ".join(notes)
    return StudentRow(
        record.student.id,
        record.student.name,
        record.status,
        score.total_score(report),
        score.total_max_score(report),
        score.percentage(report),
        note,
    )


def _exercise_stats(graded: list[Record]) -> tuple[ExerciseStats, ...]:
    by_id: dict[str, list] = {}
    for record in graded:
        for exercise in record.report.exercises:
            by_id.setdefault(exercise.id, []).append(exercise)
    stats = []
    for exercise_id, results in by_id.items():
        first = results[0]
        statuses = collections.Counter(score.exercise_status(e) for e in results)
        stats.append(
            ExerciseStats(
                exercise_id,
                first.title,
                first.section,
                statistics.fmean(score.exercise_score(e) for e in results),
                max(score.exercise_max_score(e) for e in results),
                tuple(statuses.most_common()),
            )
        )
    return tuple(stats)


def _most_failed(graded: list[Record], top: int) -> tuple[FailedTest, ...]:
    failures: dict[tuple[str, str], list] = {}
    for record in graded:
        for exercise in record.report.exercises:
            for test in exercise.tests:
                if score.is_graded_here(test) and not test.passed and test.reason in RETEACH_REASONS:
                    failures.setdefault((exercise.id, test.test_id), []).append(test)
    ranked = sorted(failures.values(), key=lambda tests: (-len(tests), tests[0].exercise, tests[0].name))
    return tuple(
        FailedTest(
            tests[0].exercise,
            tests[0].name,
            tests[0].kind,
            len(tests),
            collections.Counter(score.classify(t)[1] for t in tests).most_common(1)[0][0],
        )
        for tests in ranked[:top]
    )


def _misconceptions(graded: list[Record]) -> tuple[MisconceptionCount, ...]:
    """Which known mistakes the class makes: each student counted once per mistake, however many tests it failed."""
    shown = collections.Counter(
        (exercise.id, name)
        for record in graded
        for exercise in record.report.exercises
        for name in {name for t in exercise.tests for name in t.diagnoses}
    )  # every mistake named on a test
    ranked = sorted(shown.items(), key=lambda item: (-item[1], item[0]))
    return tuple(
        MisconceptionCount(exercise, name, count, 100.0 * count / len(graded)) for (exercise, name), count in ranked
    )


def _misconception_line(m: MisconceptionCount) -> str:
    return f"{m.exercise}: {m.name}: {_students(m.students)} ({m.share:.0f}% of those graded)"


# -- plots -------------------------------------------------------------------------------------------------


def plot(summary: ClassSummary, folder: Path) -> dict[str, Path]:
    """Draw the summary's PNG plots into `folder`; return them by name."""
    folder.mkdir(parents=True, exist_ok=True)
    drawn = {HISTOGRAM: _histogram(summary), EXERCISES: _exercise_bars(summary)}
    if summary.most_failed:
        drawn[MOST_FAILED] = _most_failed_bars(summary)
    paths = {}
    for name, figure in drawn.items():
        figure.savefig(folder / name, dpi=110, metadata={"Software": None})
        paths[name] = folder / name
    return paths


def _histogram(summary: ClassSummary) -> Figure:
    figure = Figure(figsize=(7, 3.6), layout="constrained")
    axes = figure.add_subplot()
    axes.hist(summary.percentages, bins=[i * 10 for i in range(11)], color="#0969da", edgecolor="white")
    axes.set_xlim(0, 100)
    axes.set_xlabel("score (% of the points at stake)")
    axes.set_ylabel("students")
    axes.yaxis.get_major_locator().set_params(integer=True)
    mean = statistics.fmean(summary.percentages) if summary.percentages else 0.0
    axes.set_title(f"Scores of {len(summary.percentages)} graded submissions (mean {mean:.0f}%)")
    return figure


def _most_failed_bars(summary: ClassSummary) -> Figure:
    tests = list(reversed(summary.most_failed))  # barh draws bottom-up: put the most failed on top
    figure = Figure(figsize=(9, 0.45 * len(tests) + 1.4), layout="constrained")
    axes = figure.add_subplot()
    labels = [textwrap.shorten(f"{t.exercise}: {t.name}", 70, placeholder="…") for t in tests]
    bars = axes.barh(labels, [t.students for t in tests], color="#cf222e")
    axes.bar_label(bars, padding=3)
    axes.set_xlim(0, max(t.students for t in tests) * 1.12)
    axes.set_xlabel("students who failed it")
    axes.xaxis.get_major_locator().set_params(integer=True)
    figure.suptitle("Tests failed most (wrong results, exceptions, time-outs)")
    return figure


def _exercise_bars(summary: ClassSummary) -> Figure:
    ids = [e.id for e in summary.exercises]
    figure = Figure(figsize=(max(4.5, 0.8 * len(ids) + 2), 3.6), layout="constrained")
    axes = figure.add_subplot()
    means = [100 * e.mean_score / e.max_score if e.max_score else 0 for e in summary.exercises]
    bars = axes.bar(ids, means, color="#1a7f37", width=0.6)
    axes.bar_label(bars, fmt="%.0f%%", padding=2)
    axes.set_xlim(-0.7, len(ids) - 0.3)
    axes.set_ylim(0, 105)
    axes.set_ylabel("mean score (%)")
    axes.set_title("Mean score per exercise")
    axes.tick_params(axis="x", labelrotation=30 if len(ids) > 6 else 0)
    return figure


# -- Markdown and HTML -------------------------------------------------------------------------------------


def _students(count: int) -> str:
    return f"{count} student" + "s" * (count != 1)


def _headline(summary: ClassSummary) -> str:
    graded = summary.percentages
    text = f"{len(summary.students)} students, {len(graded)} graded, {len(summary.broken)} could not be graded"
    if graded:
        text += f"; mean {statistics.fmean(graded):.0f}%, median {statistics.median(graded):.0f}%"
    return text


def render_markdown(summary: ClassSummary, *, plots: dict[str, str], student_pages: dict[str, str]) -> str:
    """`plots` and `student_pages` map names to links relative to the summary's folder."""
    lines = [f"# Class summary: {summary.course}", "", _headline(summary), ""]
    lines += [f"![{name}]({link})" for name, link in plots.items()] + [""]
    lines += [
        "## Exercises",
        "",
        "| exercise | title | mean score | statuses | reread |",
        "| --- | --- | ---: | --- | --- |",
    ]
    lines += [
        f"| {e.id} | {e.title} | {e.mean_score:.1f} / {e.max_score:g} | "
        f"{', '.join(f'{n} {s}' for s, n in e.statuses)} | {e.section} |"
        for e in summary.exercises
    ]
    lines += ["", "## Tests failed most", ""]
    lines += [
        f"{i}. **{t.exercise}: {t.name}** ({t.kind}): {_students(t.students)}, mostly {t.label}"
        for i, t in enumerate(summary.most_failed, 1)
    ] or ["No test failed with a wrong result."]
    lines += ["", "## Misconceptions named by the grader", ""]
    lines += [f"- {_misconception_line(m)}" for m in summary.misconceptions] or ["None named."]
    lines += ["", "## Students", "", "| student | name | score | % | note |", "| --- | --- | ---: | ---: | --- |"]
    for row in summary.students:
        link = f"[{row.student}]({student_pages[row.student]})" if row.student in student_pages else row.student
        scored = f"{row.score:g} / {row.max_score:g}" if row.score is not None else "not graded"
        percent = f"{row.percentage:.0f}" if row.percentage is not None else ""
        lines.append(f"| {link} | {row.name} | {scored} | {percent} | {row.note.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def render_html(
    summary: ClassSummary,
    *,
    plots: dict[str, str],
    student_pages: dict[str, str],
    downloads: dict[str, str] | None = None,
) -> str:
    e = html.escape
    body = [f"<h1>Class summary: {e(summary.course)}</h1>", f"<p class='score'>{e(_headline(summary))}</p>"]
    if downloads:
        links = " · ".join(f"<a href='{e(link)}'>{e(name)}</a>" for name, link in downloads.items())
        body.append(f"<p>{links}</p>")
    body += [f"<img src='{e(link)}' alt='{e(name)}'>" for name, link in plots.items()]
    rows = "".join(
        f"<tr><td>{e(x.id)}</td><td>{e(x.title)}</td><td class='num'>{x.mean_score:.1f} / {x.max_score:g}</td>"
        f"<td>{', '.join(f'{n} {status_span(s)}' for s, n in x.statuses)}</td><td>{e(x.section)}</td></tr>"
        for x in summary.exercises
    )
    body.append(
        "<h2>Exercises</h2><table><tr><th>exercise</th><th>title</th><th>mean score</th>"
        f"<th>statuses</th><th>tutorial section</th></tr>{rows}</table>"
    )
    items = "".join(
        f"<li><strong>{e(t.exercise)}: {e(t.name)}</strong> ({e(t.kind)}): "
        f"{_students(t.students)}, mostly {e(t.label)}</li>"
        for t in summary.most_failed
    )
    body.append(
        f"<h2>Tests failed most</h2><ol>{items}</ol>"
        if items
        else "<h2>Tests failed most</h2><p>No test failed with a wrong result.</p>"
    )
    named = "".join(f"<li>{e(_misconception_line(m))}</li>" for m in summary.misconceptions)
    body.append(
        f"<h2>Misconceptions named by the grader</h2><ul>{named}</ul>"
        if named
        else "<h2>Misconceptions named by the grader</h2><p>None named.</p>"
    )
    body.append(
        "<h2>Students</h2><table><tr><th>student</th><th>name</th><th>score</th><th>%</th><th>note</th></tr>"
        + "".join(_student_html(row, student_pages) for row in summary.students)
        + "</table>"
    )
    return document(
        f"Class summary: {summary.course}",
        "\n".join(body),
        style="img { max-width: 100%; display: block; margin: 1rem 0; }",
    )


def _student_html(row: StudentRow, student_pages: dict[str, str]) -> str:
    e = html.escape
    name = (
        f"<a href='{e(student_pages[row.student])}'>{e(row.student)}</a>"
        if row.student in student_pages
        else e(row.student)
    )
    scored = f"{row.score:g} / {row.max_score:g}" if row.score is not None else status_span(row.status)
    percent = f"{row.percentage:.0f}" if row.percentage is not None else ""
    return (
        f"<tr><td>{name}</td><td>{e(row.name)}</td><td class='num'>{scored}</td>"
        f"<td class='num'>{percent}</td><td>{e(row.note)}</td></tr>"
    )
