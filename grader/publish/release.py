"""`grader publish`: the student release, written as an ordered list of small transforms.

The release is formative only: what a student can run and read holds no secret,
so there is nothing to steal from it. Its workflow grades the public suites and
the formative quizzes and says the score is provisional; the official grade is
computed where students have no hand (the instructor's grading repository,
grader/publish/grading_repo.py, Gradescope, or `grader grade-all`).

Each transform adds one kind of file to the release folder and says whether
students may change it; the order is a rule, checked when this module loads
(`_check_order`): the manifest records the checksums of every protected file,
so it comes after them, and the leak check reads the finished release last.
Nothing of reference/, no hidden suite, no misconception catalogue and no quiz
key is ever written, encrypted or not.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path, PurePosixPath
from typing import Callable

from grader import score
from grader.course.manifest import Course, CourseError, load_course
from grader.course.stubs import strip_solutions
from grader.engine.runner import GradeOptions, grade
from grader.publish import classroom, coursefile, leaks, readme, tamper
from grader.publish.files import engine_files, walk


class PublishError(Exception):
    """The release cannot be written as asked (the message says why and what to do)."""


@dataclasses.dataclass(frozen=True)
class PublishOptions:
    exercises: tuple[str, ...] = ()  #: exercise and quiz ids to release; empty means all
    check: bool = True  #: refuse unless reference/ scores full marks on every suite
    force: bool = False  #: replace what the release folder holds (its .git is kept)
    gradescope: bool = False  #: also write the Gradescope autograder zip
    nbgrader: bool = False  #: also write the nbgrader source notebooks
    instructor: Path | None = None  #: instructor-only outputs; default: "<OUT>-instructor" beside OUT
    grading_repo: Path | None = None  #: also write the instructor's grading repository there


@dataclasses.dataclass(frozen=True)
class Published:
    release: Path
    instructor: Path
    released: tuple[str, ...]  #: the exercise and quiz ids released
    files: tuple[str, ...]  #: every file of the release, relative
    gradescope_zip: Path | None = None
    nbgrader_dir: Path | None = None
    grading_repo: Path | None = None


@dataclasses.dataclass
class Build:
    """The release being written: transforms add files through `write` and `copy` only."""

    course: Course  #: the instructor's whole course
    released: Course  #: the same, narrowed to the exercises and quizzes released
    out: Path
    files: list[str] = dataclasses.field(default_factory=list)
    protected: list[str] = dataclasses.field(default_factory=list)

    def write(self, relative: str, data: str | bytes, *, protected: bool) -> None:
        target = self._target(relative, protected)
        target.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)

    def copy(self, source: Path, relative: str, *, protected: bool) -> None:
        shutil.copyfile(source, self._target(relative, protected))

    def _target(self, relative: str, protected: bool) -> Path:
        relative = PurePosixPath(relative).as_posix()
        if relative in self.files:
            raise PublishError(f"two transforms write {relative}")
        self.files.append(relative)
        if protected:
            self.protected.append(relative)
        target = self.out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        return target


@dataclasses.dataclass(frozen=True)
class Transform:
    name: str
    run: Callable[[Build], None]
    protected: bool = False  #: writes files students must not change
    seals: bool = False  #: records the checksums of the protected files written before it


# -- the transforms, in order ------------------------------------------------------------------------


def copy_engine(build: Build) -> None:
    """The grader itself and its pyproject.toml, so the release installs and grades on its own."""
    for name, source in engine_files().items():
        build.copy(source, name, protected=True)


def write_course_file(build: Build) -> None:
    """course.toml with the released exercises and no hidden suite."""
    build.write("course.toml", coursefile.course_toml(build.released, hidden=False), protected=True)


def copy_tutorial(build: Build) -> None:
    build.copy(build.course.tutorial_path, build.course.info.tutorial, protected=True)


def write_stubs(build: Build) -> None:
    """exercises/: a fresh stub from reference/ for each exercise, and the folder's helper files."""
    course, folder = build.course, build.course.info.exercises
    generated = {p.name for p in course.reference_dir.glob("*.py")} | {e.module for e in course.exercises}
    for exercise in build.released.exercises:
        source = course.reference_file(exercise)
        if source.is_file():
            stub = strip_solutions(source.read_text("utf-8"), f"{course.info.reference}/{exercise.module}")
            build.write(f"{folder}/{exercise.module}", stub, protected=False)
        else:
            build.copy(course.exercises_dir / exercise.module, f"{folder}/{exercise.module}", protected=False)
    for relative in walk(course.exercises_dir):
        if relative.parts[0] not in generated:
            build.copy(course.exercises_dir / relative, f"{folder}/{relative.as_posix()}", protected=False)


def copy_public_suites(build: Build) -> None:
    for relative in _suite_files(build.released, hidden=False):
        build.copy(build.course.root / relative, relative, protected=True)


def write_quiz_banks(build: Build) -> None:
    """Each quiz's student copy: questions without the key (grader/quiz/release.py); the keyed bank stays ours."""
    if build.released.quizzes:
        from grader.quiz.release import student_bank

        for quiz in build.released.quizzes:
            build.write(quiz.bank, student_bank(build.course, quiz), protected=True)


def write_workflow(build: Build) -> None:
    build.write(classroom.WORKFLOW_PATH, classroom.workflow(build.released), protected=True)


def write_gitignore(build: Build) -> None:
    """What a student's `pip install -e .` and grading leave behind, kept out of their commits."""
    build.write(".gitignore", GITIGNORE, protected=False)


def write_readme(build: Build) -> None:
    build.write("README.md", readme.student_readme(build.released), protected=False)


def write_manifest(build: Build) -> None:
    build.write(tamper.MANIFEST_PATH, tamper.manifest_json(build.out, build.protected), protected=False)


def check_release(build: Build) -> None:
    """The finished release loads as a course, names no hidden suite, and holds no secret."""
    try:
        released = load_course(build.out)
    except CourseError as error:
        raise PublishError(f"the release's course.toml does not load: {error}") from None
    if any(e.hidden for e in released.exercises):
        raise PublishError("the release's course.toml names hidden suites")
    found = leaks.forbidden_paths(build.out, build.course) + leaks.scan(build.out, leaks.course_secrets(build.course))
    if found:
        lines = "\n".join(leak.describe() for leak in found[:20])
        raise PublishError(f"the release would show what students must not see:\n{lines}")


TRANSFORMS: tuple[Transform, ...] = (
    Transform("engine", copy_engine, protected=True),
    Transform("course file", write_course_file, protected=True),
    Transform("tutorial", copy_tutorial, protected=True),
    Transform("stubs", write_stubs),
    Transform("public suites", copy_public_suites, protected=True),
    Transform("quiz questions", write_quiz_banks, protected=True),
    Transform("workflow", write_workflow, protected=True),
    Transform("gitignore", write_gitignore),
    Transform("readme", write_readme),
    Transform("manifest", write_manifest, seals=True),
    Transform("leak check", check_release),
)

GITIGNORE = """\
# Written by `grader publish`: what installing and grading leave behind.
venv/
.venv/
*.egg-info/
__pycache__/
.pytest_cache/
.hypothesis/
.grader-results/
"""


def _check_order(transforms: tuple[Transform, ...]) -> None:
    """The ordering rules, enforced rather than left in a comment."""
    names = [t.name for t in transforms]
    manifest_at = names.index("manifest")
    late = [t.name for t in transforms[manifest_at + 1 :] if t.protected]
    if late:
        raise RuntimeError(f"protected files written after the manifest recorded the checksums: {late}")
    if names[-1] != "leak check":
        raise RuntimeError("the leak check must read the finished release: it comes last")


_check_order(TRANSFORMS)


# -- the command's library function ------------------------------------------------------------------


def publish(course: Course, out: Path, options: PublishOptions = PublishOptions()) -> Published:
    """Write the student release of `course` to `out`, and the instructor-only outputs beside it."""
    released = narrowed(course, options.exercises)
    out = Path(out).resolve()
    instructor = (options.instructor or out.with_name(out.name + "-instructor")).resolve()
    _check_places(course, out, instructor)
    if options.grading_repo is not None:
        _check_places(course, out, Path(options.grading_repo).resolve())
    if options.check:
        _check_reference(released)
    _empty(out, force=options.force)
    build = Build(course, released, out)
    try:
        for transform in TRANSFORMS:
            transform.run(build)
    except Exception:
        _empty(out, force=True)  # never leave a half-written release, least of all one that failed the leak check
        raise
    extras = _instructor_outputs(released, instructor, options)
    ids = tuple(e.id for e in released.exercises) + tuple(q.id for q in released.quizzes)
    return Published(out, instructor, ids, tuple(sorted(build.files)), **extras)


def narrowed(course: Course, ids: tuple[str, ...]) -> Course:
    """`course` with only the exercises and quizzes named (all of them when `ids` is empty)."""
    if not ids:
        return course
    known = {e.id for e in course.exercises} | {q.id for q in course.quizzes}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise PublishError(f"no exercise {unknown[0]!r} in the course (known: {', '.join(sorted(known))})")
    exercises = tuple(e for e in course.exercises if e.id in ids)
    if not exercises:
        raise PublishError("a release needs at least one exercise")
    return dataclasses.replace(course, exercises=exercises, quizzes=tuple(q for q in course.quizzes if q.id in ids))


def sealed_course_files(course: Course) -> list[str]:
    """The course files grading with hidden suites needs (course.toml aside): for every official grader.

    Gradescope's zip, the grading repository and the nbgrader folder all carry them; the
    misconception catalogues included, or the sealed course.toml would name files that are not
    there and every diagnosis would silently be null.
    """
    names = set(_suite_files(course, hidden=False)) | set(_suite_files(course, hidden=True))
    names.update(
        e.misconceptions for e in course.exercises if e.misconceptions and (course.root / e.misconceptions).is_file()
    )
    names.add(course.info.tutorial)
    names.update(f"{course.info.reference}/{r.as_posix()}" for r in walk(course.reference_dir))
    names.update(
        f"{course.info.exercises}/{e.module}"
        for e in course.exercises  # a module with no reference
        if not course.reference_file(e).is_file()
    )
    names.update(quiz.bank for quiz in course.quizzes)
    return sorted(names)


def _suite_files(course: Course, *, hidden: bool) -> list[str]:
    """The exercises' suites of one kind, with the conftest.py files pytest would load for them."""
    names: set[str] = set()
    for exercise in course.exercises:
        for suite in exercise.hidden if hidden else exercise.public:
            names.add(PurePosixPath(suite).as_posix())
            for folder in PurePosixPath(suite).parents:
                if (course.root / folder / "conftest.py").is_file():
                    names.add((folder / "conftest.py").as_posix())
    return sorted(n for n in names if (course.root / n).is_file())


def _check_places(course: Course, out: Path, instructor: Path) -> None:
    for inner, outer in ((out, course.root), (course.root, out), (instructor, out), (out, instructor)):
        if inner == outer or outer in inner.parents:
            raise PublishError(
                f"{inner} is inside {outer}: the release, the instructor folder and the course must be separate folders"
            )


def _check_reference(course: Course) -> None:
    """Refuse to publish suites the reference solution does not pass (a broken test costs every student)."""
    report = grade(course, course.reference_dir, GradeOptions(exercises=tuple(e.id for e in course.exercises)))
    problems = []
    for result in report.exercises:
        if result.problem:
            problems.append(f"{result.id}: {result.problem}")
        problems.extend(
            f"{result.id}: {t.name}: {' '.join(t.message[:2])}"
            for t in result.tests
            if score.is_graded_here(t) and not t.passed
        )
        graded = score.exercise_max_score(result) + score.pending_points(result)
        if not result.problem and graded != result.points:
            problems.append(f"{result.id}: the tests are worth {graded:g} points, course.toml says {result.points:g}")
    if problems:
        raise PublishError(
            f"{course.info.reference}/ does not pass its own suites, so nothing was published:\n"
            + "\n".join(problems[:20])
        )


def _empty(out: Path, *, force: bool) -> None:
    """Make `out` an empty folder; with `force`, clear it except its .git (a template repository's history)."""
    present = [p for p in out.iterdir() if p.name != ".git"] if out.is_dir() else []
    if present and not force:
        raise PublishError(f"{out} is not empty: publish into a new folder, or pass --force to replace its content")
    for path in present:
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    out.mkdir(parents=True, exist_ok=True)


def _instructor_outputs(released: Course, instructor: Path, options: PublishOptions) -> dict[str, Path]:
    outputs = {}
    if options.gradescope:
        from grader.publish import gradescope

        outputs["gradescope_zip"] = gradescope.write_zip(released, instructor / gradescope.ZIP_NAME)
    if options.nbgrader:
        from grader.publish import notebooks

        outputs["nbgrader_dir"] = notebooks.write_course(released, instructor / "nbgrader")
    if options.grading_repo is not None:
        from grader.publish import grading_repo

        outputs["grading_repo"] = grading_repo.write_repo(released, options.grading_repo, force=options.force)
    return outputs
