"""Commands for grading a class: `grader grade-all`, `grader import`, `grader export`.

Each writes into one output folder (default `grades/`): the SQLite gradebook (unless
`--gradebook` names another database), `scores.csv`, `summary.html`/`summary.md` with their
plots, and `students/` with each student's JSON, Markdown and HTML.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import sqlalchemy as sa
import typer
from rich.markup import escape

from grader import bulk, exports, importing, nbgrader_export
from grader.cli import CourseOption, ExitCode, _load, console, errors
from grader.gradebook import Gradebook
from grader.manifest import Course
from grader.submissions import Submission, SubmissionError, discover

OutputOption = Annotated[Path, typer.Option("--output", "-o", help="Folder for the gradebook, CSV and reports.")]
GradebookOption = Annotated[Optional[str], typer.Option(
    "--gradebook", envvar="GRADER_GRADEBOOK",
    help="SQLAlchemy URL of the gradebook, e.g. postgresql+psycopg://user@host/db; default: OUTPUT/gradebook.db.")]
HiddenOption = Annotated[bool, typer.Option(
    "--show-hidden-details", help="Show hidden tests' messages and hints on students' pages (default: counts only).")]


def register(app: typer.Typer) -> None:
    app.command("grade-all")(grade_all_command)
    app.command("import")(import_command)
    app.command("export")(export_command)


def grade_all_command(
    submissions: Annotated[Path, typer.Argument(help="The class folder: a folder per student or repository, "
                                                "zips, or a Gradescope export.")],
    exercises: Annotated[Optional[list[str]], typer.Option("--exercise", "-e", help="Grade only this exercise or "
                                                           "quiz (repeatable); default: all.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Submissions graded at once; 0: one per core.")] = 0,
    force: Annotated[bool, typer.Option("--force", help="Grade again submissions that have not changed.")] = False,
    public_only: Annotated[bool, typer.Option("--public-only", help="Run only the public tests.")] = False,
    assignment: Annotated[Optional[str], typer.Option(help="Grade this assignment's items, with its late "
                                                      "policy.")] = None,
    submitted_at: Annotated[Optional[datetime], typer.Option(
        help="With --assignment: the hand-in time of submissions whose layout records none (plain folders, "
             "zips); Gradescope's time and a repository's last commit are used where present.")] = None,
    output: OutputOption = Path("grades"),
    gradebook_url: GradebookOption = None,
    show_hidden: HiddenOption = False,
    course_path: CourseOption = Path("course.toml"),
) -> None:
    """Grade every submission in a folder, several at once; skip those unchanged since the last run."""
    course = _load(course_path)
    options = bulk.BulkOptions(exercises=_known(course, exercises), public_only=public_only, jobs=jobs, force=force,
                               assignment=_assignment(course, assignment, exercises), submitted_at=submitted_at)
    found = _discover(submissions)
    _warn_untimed(found, options)
    started = time.monotonic()
    with _open(gradebook_url, output) as gradebook:
        with bulk.progress_bar(len(found), errors) as listener:
            outcomes = bulk.grade_all(course, found, gradebook, options, listener=listener)
        written = _write(course, gradebook, output, options.assignment or "", show_hidden=show_hidden)
    _print_run(outcomes, time.monotonic() - started)
    _print_written(written)


def import_command(
    paths: Annotated[list[Path], typer.Argument(help="results.json files, or folders to search for them.")],
    student: Annotated[Optional[str], typer.Option(help="The student a single results file belongs to.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Import files already imported unchanged.")] = False,
    output: OutputOption = Path("grades"),
    gradebook_url: GradebookOption = None,
    show_hidden: HiddenOption = False,
    course_path: CourseOption = Path("course.toml"),
) -> None:
    """Import results.json files from Gradescope or CI runs into the gradebook."""
    course = _load(course_path)
    try:
        found = importing.find_results(paths, student=student)
    except importing.ResultsError as error:
        errors.print(str(error), highlight=False, soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE) from None
    with _open(gradebook_url, output) as gradebook:
        done = importing.import_results(course, found, gradebook, force=force)
        written = [_write(course, gradebook, output, assignment, show_hidden=show_hidden)
                   for assignment in sorted({i.assignment for i in done if i.assignment is not None}) or [""]]
    for item in done:
        console.print(f"{item.found.student.id}: {item.status} ({item.found.path})", highlight=False, soft_wrap=True)
    for each in written:
        _print_written(each)


def export_command(
    output: OutputOption = Path("grades"),
    gradebook_url: GradebookOption = None,
    show_hidden: HiddenOption = False,
    assignment: Annotated[Optional[str], typer.Option(help="The course.toml assignment to export; default: "
                                                      "what was graded without one.")] = None,
    nbgrader: Annotated[Optional[str], typer.Option(help="Also write the scores into this nbgrader gradebook "
                                                    "(SQLAlchemy URL, e.g. sqlite:///gradebook.db).")] = None,
    nbgrader_assignment: Annotated[Optional[str], typer.Option(
        help="The nbgrader assignment to write the scores to; default: --assignment, else 'cnn'.")] = None,
    course_path: CourseOption = Path("course.toml"),
) -> None:
    """Write the CSV, the students' feedback pages and the class summary from the gradebook again."""
    course = _load(course_path)
    assignment = _assignment(course, assignment, None) or ""
    with _open(gradebook_url, output) as gradebook:
        records = gradebook.latest(assignment)
        _print_written(_write(course, gradebook, output, assignment, show_hidden=show_hidden))
    if nbgrader is not None:
        target = nbgrader_assignment or assignment or "cnn"
        try:
            written = nbgrader_export.write_scores(course, records, nbgrader, assignment=target)
        except nbgrader_export.NbgraderMissing as error:
            errors.print(str(error), highlight=False, soft_wrap=True)
            raise typer.Exit(ExitCode.USAGE) from None
        console.print(f"nbgrader: {written.students} students' scores in {written.cells} grade cells of "
                      f"assignment {target!r}", highlight=False, soft_wrap=True)


def _known(course: Course, exercises: Optional[list[str]]) -> tuple[str, ...]:
    known = [e.id for e in course.exercises] + [q.id for q in course.quizzes]
    unknown = [e for e in exercises or [] if e not in known]
    if unknown:
        errors.print(f"unknown exercise {', '.join(unknown)}; known: {', '.join(known)}", highlight=False, soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE)
    return tuple(exercises or ())


def _assignment(course: Course, assignment: Optional[str], exercises: Optional[list[str]]) -> Optional[str]:
    known = [a.id for a in course.assignments]
    if assignment is not None and assignment not in known:
        errors.print(f"unknown assignment {assignment}; known: {', '.join(known) or 'none'}", highlight=False,
                     soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE)
    if assignment is not None and exercises:
        errors.print("--assignment chooses the exercises: leave out --exercise", highlight=False, soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE)
    return assignment


def _warn_untimed(found: list[Submission], options: bulk.BulkOptions) -> None:
    untimed = [s for s in found if s.created_at is None and s.layout in ("folder", "zip")]
    if options.assignment and options.submitted_at is None and untimed:
        errors.print(f"[yellow]{len(untimed)} submissions record no hand-in time[/yellow] ({untimed[0].layout}s): "
                     "they count as handed in now; pass --submitted-at to say when they were collected",
                     highlight=False, soft_wrap=True)


def _discover(folder: Path) -> list[Submission]:
    try:
        found = discover(folder)
    except SubmissionError as error:
        errors.print(str(error), highlight=False, soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE) from None
    if not found:
        errors.print(f"no submissions in {folder}: expected a folder or a zip per student", highlight=False, soft_wrap=True)
        raise typer.Exit(ExitCode.USAGE)
    return found


def _write(course: Course, gradebook: Gradebook, output: Path, assignment: str, *,
           show_hidden: bool) -> exports.Written:
    """An assignment's reports go in OUTPUT/<assignment>/, beside the course's one gradebook."""
    folder = output / assignment if assignment else output
    return exports.write_all(course, gradebook.latest(assignment), folder, show_hidden=show_hidden)


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
    console.print(f"{counts['graded']} graded, {counts['unchanged']} unchanged (skipped), {counts['broken']} "
                  f"could not be graded, in {seconds:.0f} s ({rate:.1f} graded per minute)", highlight=False, soft_wrap=True)
    for outcome in outcomes:
        if outcome.status == "broken":
            console.print(f"  [magenta]{escape(outcome.submission.student.id)}[/magenta]: "
                          f"{escape(outcome.record.error or '')}", highlight=False, soft_wrap=True)


def _print_written(written: exports.Written) -> None:
    console.print(f"class summary: {written.summary_html}\nscores:        {written.csv}\n"
                  f"students:      {written.students}/", highlight=False, soft_wrap=True)
