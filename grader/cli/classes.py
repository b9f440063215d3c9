"""Commands for grading a class: `grader grade-all`, `grader import`, `grader export`, `grader review`.

Each writes into one output folder (default `grades/`): the SQLite gradebook (unless
`--gradebook` names another database), `scores.csv`, `summary.html`/`summary.md` with their
plots, `canvas.csv` for Canvas's gradebook import, and `students/` with each student's JSON,
Markdown and HTML. `--roster roster.csv` (grader.classes.roster) names the students: submissions are
matched to roster ids, those matching nobody are reported, roster students with no
submission are listed with no score.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import sqlalchemy as sa
import typer
from rich.markup import escape

from grader.classes import bulk, exports, manual
from grader.classes import imports as importing
from grader.classes import nbgrader as nbgrader_export
from grader.classes.gradebook import Gradebook, ManualGrade, Record
from grader.classes.roster import Roster, RosterError, load_roster
from grader.classes.submissions import Submission, SubmissionError, discover
from grader.cli.common import CourseOption, ExitCode, console, errors, load
from grader.course.manifest import Course
from grader.results import TestResult

OutputOption = Annotated[Path, typer.Option("--output", "-o", help="Folder for the gradebook, CSV and reports.")]
GradebookOption = Annotated[
    Optional[str],
    typer.Option(
        "--gradebook",
        envvar="GRADER_GRADEBOOK",
        help="SQLAlchemy URL of the gradebook, e.g. postgresql+psycopg://user@host/db; default: OUTPUT/gradebook.db.",
    ),
]
HiddenOption = Annotated[
    bool,
    typer.Option(
        "--show-hidden-details", help="Show hidden tests' messages and hints on students' pages (default: counts only)."
    ),
]
RosterOption = Annotated[
    Optional[Path],
    typer.Option(
        "--roster",
        envvar="GRADER_ROSTER",
        help="The class roster CSV (id,name,email,github,repository,extension_days): "
        "names the students and lists those with no submission.",
    ),
]


def register(app: typer.Typer) -> None:
    app.command("grade-all")(grade_all_command)
    app.command("import")(import_command)
    app.command("export")(export_command)
    app.command("review")(review_command)


def grade_all_command(
    submissions: Annotated[
        Path, typer.Argument(help="The class folder: a folder per student or repository, zips, or a Gradescope export.")
    ],
    exercises: Annotated[
        Optional[list[str]],
        typer.Option("--exercise", "-e", help="Grade only this exercise or quiz (repeatable); default: all."),
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Submissions graded at once; 0: one per core.")] = 0,
    force: Annotated[bool, typer.Option("--force", help="Grade again submissions that have not changed.")] = False,
    public_only: Annotated[bool, typer.Option("--public-only", help="Run only the public tests.")] = False,
    assignment: Annotated[
        Optional[str], typer.Option(help="Grade this assignment's items, with its late policy.")
    ] = None,
    submitted_at: Annotated[
        Optional[datetime],
        typer.Option(
            help="With --assignment: the hand-in time of submissions whose layout records none (plain folders, "
            "zips); Gradescope's time and a repository's last commit are used where present."
        ),
    ] = None,
    students: Annotated[
        Optional[list[str]],
        typer.Option("--student", help="Grade only this student (repeatable), again even if unchanged."),
    ] = None,
    only_failed: Annotated[
        bool,
        typer.Option(
            "--only-failed",
            help="Grade again only the students whose last grading failed: could not be graded, "
            "a grader error, a time limit or a crash.",
        ),
    ] = False,
    output: OutputOption = Path("grades"),
    gradebook_url: GradebookOption = None,
    show_hidden: HiddenOption = False,
    roster_path: RosterOption = None,
    course_path: CourseOption = Path("course.toml"),
) -> None:
    """Grade every submission in a folder, several at once; skip those unchanged since the last run."""
    course = load(course_path)
    roster = _roster(roster_path)
    options = bulk.BulkOptions(
        exercises=_known(course, exercises),
        public_only=public_only,
        jobs=jobs,
        force=force,
        assignment=_assignment(course, assignment, exercises),
        submitted_at=submitted_at,
        students=tuple(students or ()),
        only_failed=only_failed,
    )
    found = _on_roster(_discover(submissions), roster)
    _check_students(found, options.students)
    _warn_untimed(found, options)
    started = time.monotonic()
    with _open(gradebook_url, output) as gradebook:
        chosen = bulk.selected(found, gradebook, options)
        with bulk.progress_bar(len(chosen), errors) as listener:
            outcomes = bulk.grade_all(course, chosen, gradebook, options, listener=listener)
        written = _write(course, gradebook, output, options.assignment or "", show_hidden=show_hidden, roster=roster)
    _print_run(outcomes, time.monotonic() - started)
    _print_written(written)


def import_command(
    paths: Annotated[list[Path], typer.Argument(help="results.json files, or folders to search for them.")],
    student: Annotated[Optional[str], typer.Option(help="The student a single results file belongs to.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Import files already imported unchanged.")] = False,
    output: OutputOption = Path("grades"),
    gradebook_url: GradebookOption = None,
    show_hidden: HiddenOption = False,
    roster_path: RosterOption = None,
    course_path: CourseOption = Path("course.toml"),
) -> None:
    """Import results.json files from Gradescope or CI runs into the gradebook."""
    course = load(course_path)
    roster = _roster(roster_path)
    try:
        found = importing.find_results(paths, student=student)
    except importing.ResultsError as error:
        errors.print(str(error), highlight=False, soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE) from None
    if roster is not None:
        found = _results_on_roster(found, roster)
    with _open(gradebook_url, output) as gradebook:
        done = importing.import_results(course, found, gradebook, force=force)
        written = [
            _write(course, gradebook, output, assignment, show_hidden=show_hidden, roster=roster)
            for assignment in sorted({i.assignment for i in done if i.assignment is not None}) or [""]
        ]
    for item in done:
        console.print(f"{item.found.student.id}: {item.status} ({item.found.path})", highlight=False, soft_wrap=True)
    for each in written:
        _print_written(each)


def export_command(
    output: OutputOption = Path("grades"),
    gradebook_url: GradebookOption = None,
    show_hidden: HiddenOption = False,
    assignment: Annotated[
        Optional[str], typer.Option(help="The course.toml assignment to export; default: what was graded without one.")
    ] = None,
    nbgrader: Annotated[
        Optional[str],
        typer.Option(
            help="Also write the scores into this nbgrader gradebook (SQLAlchemy URL, e.g. sqlite:///gradebook.db)."
        ),
    ] = None,
    nbgrader_assignment: Annotated[
        Optional[str],
        typer.Option(help="The nbgrader assignment to write the scores to; default: --assignment, else 'cnn'."),
    ] = None,
    canvas_column: Annotated[
        Optional[str],
        typer.Option(
            help="The Canvas assignment column of canvas.csv, e.g. 'A1: convolution (123456)' to update Canvas "
            "assignment 123456; default: the assignment's title, which Canvas imports as a new assignment."
        ),
    ] = None,
    roster_path: RosterOption = None,
    course_path: CourseOption = Path("course.toml"),
) -> None:
    """Write the CSV, Canvas's CSV, the students' feedback pages and the class summary from the gradebook again."""
    course = load(course_path)
    roster = _roster(roster_path)
    assignment = _assignment(course, assignment, None) or ""
    with _open(gradebook_url, output) as gradebook:
        records = gradebook.latest(assignment)
        written = _write(course, gradebook, output, assignment, show_hidden=show_hidden, roster=roster)
        if canvas_column:
            written.canvas.write_text(
                exports.canvas_csv(
                    course, exports.with_roster(records, roster), assignment=assignment, column=canvas_column
                ),
                encoding="utf-8",
            )
        _print_written(written)
    if nbgrader is not None:
        target = nbgrader_assignment or assignment or "cnn"
        try:
            written = nbgrader_export.write_scores(
                course, exports.with_roster(records, roster), nbgrader, assignment=target
            )
        except nbgrader_export.NbgraderMissing as error:
            errors.print(str(error), highlight=False, soft_wrap=True)
            raise typer.Exit(ExitCode.USAGE) from None
        console.print(
            f"nbgrader: {written.students} students' scores in {written.cells} grade cells of assignment {target!r}",
            highlight=False,
            soft_wrap=True,
        )


def _known(course: Course, exercises: Optional[list[str]]) -> tuple[str, ...]:
    known = [e.id for e in course.exercises] + [q.id for q in course.quizzes]
    unknown = [e for e in exercises or [] if e not in known]
    if unknown:
        errors.print(
            f"unknown exercise {', '.join(unknown)}; known: {', '.join(known)}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(ExitCode.USAGE)
    return tuple(exercises or ())


def _assignment(course: Course, assignment: Optional[str], exercises: Optional[list[str]]) -> Optional[str]:
    known = [a.id for a in course.assignments]
    if assignment is not None and assignment not in known:
        errors.print(
            f"unknown assignment {assignment}; known: {', '.join(known) or 'none'}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(ExitCode.USAGE)
    if assignment is not None and exercises:
        errors.print("--assignment chooses the exercises: leave out --exercise", highlight=False, soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE)
    return assignment


def _warn_untimed(found: list[Submission], options: bulk.BulkOptions) -> None:
    untimed = [s for s in found if s.created_at is None and s.layout in ("folder", "zip")]
    if options.assignment and options.submitted_at is None and untimed:
        errors.print(
            f"[yellow]{len(untimed)} submissions record no hand-in time[/yellow] ({untimed[0].layout}s): "
            "they count as handed in now; pass --submitted-at to say when they were collected",
            highlight=False,
            soft_wrap=True,
        )


def _discover(folder: Path) -> list[Submission]:
    try:
        found = discover(folder)
    except SubmissionError as error:
        errors.print(str(error), highlight=False, soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE) from None
    if not found:
        errors.print(
            f"no submissions in {folder}: expected a folder or a zip per student", highlight=False, soft_wrap=True
        )
        raise typer.Exit(ExitCode.USAGE)
    return found


def _write(
    course: Course,
    gradebook: Gradebook,
    output: Path,
    assignment: str,
    *,
    show_hidden: bool,
    roster: Roster | None = None,
) -> exports.Written:
    """An assignment's reports go in OUTPUT/<assignment>/, beside the course's one gradebook."""
    folder = output / assignment if assignment else output
    records = exports.with_roster(gradebook.latest(assignment), roster)
    return exports.write_all(course, records, folder, show_hidden=show_hidden, assignment=assignment)


def _roster(path: Optional[Path]) -> Roster | None:
    if path is None:
        return None
    try:
        return load_roster(path)
    except RosterError as error:
        errors.print(str(error), highlight=False, soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE) from None


def _on_roster(found: list[Submission], roster: Roster | None) -> list[Submission]:
    """Submissions under their roster ids and names; those matching nobody keep their own name, and are listed."""
    if roster is None:
        return found
    matched, strangers = [], []
    for submission in found:
        student = roster.identify(submission.student, str(submission.source))
        if student is None:
            strangers.append(submission)
        matched.append(dataclasses.replace(submission, student=student or submission.student))
    _report_strangers([f"{s.student.id} ({s.source.name})" for s in strangers])
    sources: dict[str, list[str]] = {}
    for submission in matched:
        sources.setdefault(submission.student.id, []).append(submission.source.name)
    twice = {student: names for student, names in sources.items() if len(names) > 1}
    if twice:
        student, names = min(twice.items())
        errors.print(
            f"{len(twice)} roster students have two submissions, e.g. {student}: {', '.join(sorted(names))}; "
            "keep one of each",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(ExitCode.USAGE)
    return matched


def _results_on_roster(found: list[importing.Found], roster: Roster) -> list[importing.Found]:
    matched, strangers = [], []
    for item in found:
        student = roster.identify(item.student, str(item.path.parent))
        if student is None:
            strangers.append(f"{item.student.id} ({item.path})")
        matched.append(dataclasses.replace(item, student=student or item.student))
    _report_strangers(strangers)
    return matched


def _report_strangers(strangers: list[str]) -> None:
    if strangers:
        one = len(strangers) == 1
        errors.print(
            f"[yellow]{len(strangers)} submission{'' if one else 's'} match{'es' if one else ''} no roster "
            "entry[/yellow] "
            "(graded under their own names; add them to the roster's github or repository column): "
            + escape(", ".join(strangers)),
            highlight=False,
            soft_wrap=True,
        )


def _check_students(found: list[Submission], wanted: tuple[str, ...]) -> None:
    unknown = sorted(set(wanted) - {s.student.id for s in found})
    if unknown:
        errors.print(f"no submission of {', '.join(unknown)} in the class folder", highlight=False, soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE)


def _open(url: Optional[str], output: Path) -> Gradebook:
    output.mkdir(parents=True, exist_ok=True)
    url = url or f"sqlite:///{(output / 'gradebook.db').resolve()}"
    try:
        return Gradebook(url)
    except (sa.exc.SQLAlchemyError, ImportError) as error:
        shown = sa.engine.make_url(url).render_as_string(hide_password=True)
        errors.print(f"cannot open the gradebook {shown}: {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE) from None


def _print_run(outcomes: list[bulk.Outcome], seconds: float) -> None:
    counts = {status: sum(o.status == status for o in outcomes) for status in ("graded", "unchanged", "broken")}
    rate = counts["graded"] / seconds * 60 if seconds else 0.0
    console.print(
        f"{counts['graded']} graded, {counts['unchanged']} unchanged (skipped), {counts['broken']} "
        f"could not be graded, in {seconds:.0f} s ({rate:.1f} graded per minute)",
        highlight=False,
        soft_wrap=True,
    )
    for outcome in outcomes:
        if outcome.status == "broken":
            console.print(
                f"  [magenta]{escape(outcome.submission.student.id)}[/magenta]: {escape(outcome.record.error or '')}",
                highlight=False,
                soft_wrap=True,
            )


def _print_written(written: exports.Written) -> None:
    console.print(
        f"class summary: {written.summary_html}\nscores:        {written.csv}\n"
        f"canvas:        {written.canvas}\nstudents:      {written.students}/",
        highlight=False,
        soft_wrap=True,
    )


# -- grader review: the manual items ------------------------------------------------------------------------


def review_command(
    target: Annotated[
        str, typer.Argument(help="An assignment of course.toml, or an exercise, whose manual items to grade.")
    ],
    students: Annotated[
        Optional[list[str]],
        typer.Option("--student", help="Review only this student (repeatable); default: everyone graded."),
    ] = None,
    item: Annotated[
        Optional[str],
        typer.Option(help="With --points: the manual item (its test id, or a unique part of its id or name)."),
    ] = None,
    points: Annotated[
        Optional[float],
        typer.Option(help="Give these points to --item of the one --student, without prompting (for scripts)."),
    ] = None,
    comment: Annotated[str, typer.Option(help="With --points: the comment the student reads.")] = "",
    grader_name: Annotated[
        Optional[str], typer.Option("--grader", help="Who grades, as recorded with the points; default: $USER.")
    ] = None,
    list_only: Annotated[bool, typer.Option("--list", help="Show the items and their grades; ask nothing.")] = False,
    output: OutputOption = Path("grades"),
    gradebook_url: GradebookOption = None,
    show_hidden: HiddenOption = False,
    roster_path: RosterOption = None,
    course_path: CourseOption = Path("course.toml"),
) -> None:
    """Grade the manual items (`@pytest.mark.manual`, e.g. design's DESIGN_NOTES) of each student, text in full.

    Points and comments are stored in the gradebook with who gave them and when, kept through
    later automatic regrades, and shown in the CSV, the feedback pages and every export.
    """
    course = load(course_path)
    roster = _roster(roster_path)
    assignment, exercise_ids = _review_target(course, target)
    who = grader_name or os.environ.get("USER") or getpass.getuser()
    with _open(gradebook_url, output) as gradebook:
        items = manual.items(gradebook.latest(assignment), exercise_ids, students=students or ())
        if points is not None:
            _grade_one(gradebook, items, students, item, points, comment, who)
        else:
            _review_each(course, gradebook, items, who, ask=not list_only)
        written = _write(course, gradebook, output, assignment, show_hidden=show_hidden, roster=roster)
    _print_written(written)


def _review_each(
    course: Course, gradebook: Gradebook, items: list[tuple[Record, TestResult]], who: str, *, ask: bool
) -> None:
    for record, test in items:
        _show_item(course, record, test)
        if ask:
            _ask(gradebook, record, test, who)
    if not items:
        console.print("no manual items to review (grade the exercise first)", highlight=False)


def _review_target(course: Course, target: str) -> tuple[str, set[str]]:
    """(the gradebook's assignment key, the exercise ids) of an assignment or an exercise id."""
    if target in {a.id for a in course.assignments}:
        return target, set(course.assignment(target).items)
    known = [e.id for e in course.exercises] + [q.id for q in course.quizzes]
    if target not in known:
        errors.print(
            f"unknown assignment or exercise {target}; known: {', '.join(known)}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(ExitCode.USAGE)
    return "", {target}


def _grade_one(
    gradebook: Gradebook,
    items: list[tuple[Record, TestResult]],
    students: Optional[list[str]],
    item: Optional[str],
    points: float,
    comment: str,
    who: str,
) -> None:
    if not students or len(students) != 1 or not item:
        errors.print("--points grades one item of one student: give one --student and --item", highlight=False)
        raise typer.Exit(ExitCode.USAGE)
    matching = [(r, t) for r, t in items if item == t.test_id] or [
        (r, t) for r, t in items if item in t.test_id or item.lower() in t.name.lower()
    ]
    if len(matching) != 1:
        names = ", ".join(sorted({t.test_id for _, t in items})) or "none"
        errors.print(
            f"{'no' if not matching else 'more than one'} manual item of {students[0]} matches {item!r}; "
            f"its manual items: {names}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(ExitCode.USAGE)
    record, test = matching[0]
    _check_points(points, test)
    grade = gradebook.grade_manually(ManualGrade(record.student.id, test.exercise, test.test_id, points, comment, who))
    console.print(
        f"{record.student.id}: {test.name}: {points:g} / {test.points:g} (by {grade.grader})",
        highlight=False,
        soft_wrap=True,
    )


def _check_points(points: float, test: TestResult) -> None:
    if not 0 <= points <= test.points:
        errors.print(
            f"points must be between 0 and {test.points:g} for {test.name!r} (not {points:g})",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(ExitCode.USAGE)


def _show_item(course: Course, record: Record, test: TestResult) -> None:
    """The student, the item, what the test saw, the text handed in (in full) and any grade given."""
    student = record.student
    console.rule(f"{student.id}" + (f" ({student.name})" if student.name else ""), style="bold")
    console.print(
        f"[bold]{escape(test.exercise)}: {escape(test.name)}[/bold] ({test.points:g} points)\n"
        f"item: {escape(test.test_id)}",
        highlight=False,
        soft_wrap=True,
    )
    spec = next((e for e in course.exercises if e.id == test.exercise), None)
    texts = manual.submitted_texts(course, spec, test.test_id, record.source) if spec else None
    if test.awarded is None and test.message:
        console.print("the grader saw: " + escape(" / ".join(test.message)), highlight=False, soft_wrap=True)
    if texts is None:
        console.print(
            f"(the submission's files are not at hand: {escape(record.source)})", highlight=False, soft_wrap=True
        )
    for name, text in (texts or {}).items():
        console.print(
            f"[cyan]{escape(name)}[/cyan]:\n{escape(text) if text.strip() else '(empty)'}",
            highlight=False,
            soft_wrap=True,
        )
    given = next((g for g in record.manual if g.test_id == test.test_id), None)
    if given is not None:
        console.print(
            f"graded: {given.points:g} / {test.points:g} by {escape(given.grader)} on "
            f"{given.graded_at:%Y-%m-%d %H:%M} UTC" + (f": {escape(given.comment)}" if given.comment else ""),
            highlight=False,
            soft_wrap=True,
        )


def _ask(gradebook: Gradebook, record: Record, test: TestResult, who: str) -> None:
    answer = typer.prompt(
        f"points for {record.student.id} (0-{test.points:g}, Enter to skip)", default="", show_default=False
    )
    if not answer.strip():
        return
    try:
        points = float(answer)
    except ValueError:
        errors.print(f"not a number: {answer!r}; skipped", highlight=False)
        return
    _check_points(points, test)
    comment = typer.prompt("comment for the student", default="", show_default=False)
    gradebook.grade_manually(ManualGrade(record.student.id, test.exercise, test.test_id, points, comment, who))
