"""The pytest plugin that turns an exercise's suites into graded results.

It runs in the judge process, never in the student's. Suites get two
fixtures: `student`, a proxy to the submission's module in its sandbox, and
`reference`, the instructor's solution (hidden suites only). Every test must
carry `@pytest.mark.points(n)`; its outcome becomes a `TestResult`, written as
one JSON line as soon as the test ends, so a judge killed at its time limit
still leaves every finished result behind.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from grader.course.manifest import Course, ExerciseSpec
from grader.course.sources import imported_modules
from grader.diagnosis import Misconception, diagnose, load_catalogue
from grader.engine.sandbox import StudentProcess
from grader.engine.student import StudentModule
from grader.engine.zygote import Zygote
from grader.feedback import cut_lines, explain, marker_hint_fits
from grader.results import Finding, TestResult, to_json

#: Seconds of student time the diagnosis of one failure may use. Detectors rerun student code,
#: once per submission (the first failure pays for all); generous, so that a loaded machine does
#: not cut a diagnosis short and change the message between two runs.
DIAGNOSIS_SECONDS = 30.0


@dataclasses.dataclass
class GradingSession:
    """Everything one judge run needs, handed to the plugin by `judge`."""

    course: Course
    exercise: ExerciseSpec
    submission: Path
    emit: Callable[[dict], None]
    public_only: bool = False
    private_dirs: tuple[Path, ...] = ()  #: the judge's own files (results); student code sees none of them anyway
    zygote: Zygote | None = None  #: forks the student's processes; None: each starts its own


class GradingPlugin:
    def __init__(self, session: GradingSession):
        self.session = session
        self.process: StudentProcess | None = None
        self.module: StudentModule | None = None
        self._points: dict[str, float] = {}
        self._misconceptions: list[Misconception] | None = None
        self._reference: Any = None

    # -- configuration -----------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(n): points the test is worth (required)")
        config.addinivalue_line(
            "markers",
            "hint(text, on=kinds): one line shown to the student when the test fails "
            "(with on=, only on a Mismatch of those kinds: 'dtype', 'values', ...)",
        )
        config.addinivalue_line("markers", "section(name): the tutorial section the test is about")
        config.addinivalue_line("markers", "manual: graded by the instructor; pending whatever the test does")
        _load_hypothesis_profile(self.session.course)

    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        for item in items:
            marker = item.get_closest_marker("points")
            if marker is None or not marker.args or not isinstance(marker.args[0], (int, float)):
                raise pytest.UsageError(f"{item.nodeid} has no @pytest.mark.points(n)")
            self._points[item.nodeid] = float(marker.args[0])
        self.session.emit(
            {
                "event": "collected",
                "tests": [
                    {
                        "test_id": item.nodeid,
                        "name": display_name(item),
                        "kind": self._kind(item),
                        "points": self._points[item.nodeid],
                    }
                    for item in items
                ],
            }
        )

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            lines = str(report.longrepr).strip().splitlines()
            self.session.emit({"event": "collect_error", "suite": report.nodeid, "message": lines[-1] if lines else ""})

    # -- fixtures ----------------------------------------------------------
    @pytest.fixture(scope="session")
    def student(self) -> StudentModule:
        if self.module is None:
            grading = self.session.course.grading
            self.process = StudentProcess(
                self.session.submission,
                forbidden=self.session.exercise.forbidden,
                memory_mb=grading.memory_mb,
                output_limit=grading.max_output_kb * 1024,
                zygote=self.session.zygote,
                preload=preload(self.session.course, self.session.exercise),
            )
            self.process.zygote()  # started here, in the fixture: no test's time limit pays for the imports
            self.module = StudentModule(
                self.process, self.session.submission / self.session.exercise.module, self.session.exercise.module_name
            )
        return self.module

    @pytest.fixture(scope="session")
    def reference(self) -> Any:
        return self._load_reference()

    def _load_reference(self) -> Any:
        if self._reference is None:
            self._reference = load_reference(self.session.course, self.session.exercise)
        return self._reference

    # -- running and reporting ---------------------------------------------
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session):
        """Tests' failures in pytest's plain traceback style: verdicts and messages come from the
        exception itself (`_result`), and pytest's own long form (source and values of every frame)
        would cost a stub's run most of its time. Collection errors keep their usual form."""
        session.config.option.tbstyle = "native"
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        if self.module is not None:
            self.module.start_budget(self.session.course.grading.test_timeout)
            self.module.last_call = None
        try:
            return (yield)
        finally:
            if self.module is not None:
                self.module.start_budget(float("inf"))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        if call.when == "call" or (call.when == "setup" and report.failed):
            self.session.emit({"event": "result", "result": to_json(self._result(item, call))})
        return report

    def _result(self, item: pytest.Item, call: pytest.CallInfo) -> TestResult:
        common = dict(
            exercise=self.session.exercise.id,
            test_id=item.nodeid,
            name=display_name(item),
            kind=self._kind(item),
            points=self._points[item.nodeid],
            duration=round(call.duration, 3),
        )
        manual = item.get_closest_marker("manual") is not None
        if call.excinfo is None:
            if manual:
                return TestResult(outcome="pending", reason="manual", message=("left to the instructor",), **common)
            return TestResult(outcome="passed", **common)
        last_call = self.module.last_call if self.module is not None else None
        feedback = explain(call.excinfo.value, last_call, forbidden_help=f"exercise: {self.session.exercise.title}")
        if manual and feedback.outcome != "pending":
            # An item left to the instructor stays pending even when the submission cannot show it.
            feedback = dataclasses.replace(feedback, outcome="pending", reason="manual")
        found = self._diagnose(last_call) if feedback.reason in ("mismatch", "exception") else ()
        findings = tuple(Finding(entry.name, entry.lines()) for entry in found or ())
        # A named mistake says why and what to reread; the test's general hint would only repeat or miss it.
        wanted = feedback.hint_wanted and not findings
        hint = _hint(item, call.excinfo.value, self.session.exercise.section) if wanted else None
        message = cut_lines([*(line for f in findings for line in f.lines), *feedback.lines])
        return TestResult(
            outcome=feedback.outcome,
            reason=feedback.reason,
            message=message,
            hint=hint,
            diagnosis=findings[0].name if findings else None,
            findings=findings,
            **common,
        )

    def _diagnose(self, last_call) -> tuple[Misconception, ...]:
        """Every known mistake that explains this failure, checked in the judge on the same inputs."""
        catalogue = self._catalogue()
        if not catalogue or self.module is None:
            return ()
        reference = self._load_reference()
        self.module.start_budget(DIAGNOSIS_SECONDS)
        try:
            return diagnose(catalogue, last_call, reference, self.module)
        finally:
            self.module.start_budget(float("inf"))

    def _catalogue(self) -> list[Misconception]:
        """The exercise's catalogue, with --public-only too: it runs here in the judge, never in the
        student's process, so the public run names the mistakes it sees wherever the file is present."""
        if self._misconceptions is None:
            path = self.session.exercise.misconceptions
            full = self.session.course.root / path if path else None
            usable = (
                full is not None
                and full.is_file()
                and self.session.course.reference_file(self.session.exercise).is_file()
            )
            self._misconceptions = load_catalogue(full) if usable else []
        return self._misconceptions

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.process is not None:
            self.process.close()
            self.session.emit({"event": "output", "text": self.process.output.text()})
            if self.process.confinement:
                self.session.emit({"event": "unconfined", "why": self.process.confinement})

    def _kind(self, item: pytest.Item) -> str:
        path = Path(str(item.path)).resolve()
        hidden = {(self.session.course.root / name).resolve() for name in self.session.exercise.hidden}
        return "hidden" if path in hidden else "public"


def preload(course: Course, exercise: ExerciseSpec) -> tuple[str, ...]:
    """What a zygote started for this exercise imports: numpy, what the reference imports, torch if forbidden.

    Only when no zygote is given (a judge without a warm engine): numpy exercises then do not pay
    for torch. The course's own modules are never preloaded.
    """
    own = {e.module_name for e in course.exercises}
    path = course.reference_file(exercise)
    names = imported_modules(path.read_text(encoding="utf-8")) if path.is_file() else {"torch"}
    names = {n for n in names if n.split(".")[0] not in own and importlib.util.find_spec(n.split(".")[0])}
    if any(name.split(".")[0] == "torch" for name in exercise.forbidden):
        names.add("torch")
    return tuple(sorted(names | {"numpy"}))


def load_reference(course: Course, exercise: ExerciseSpec) -> Any:
    """Import the instructor's module in the judge (never in the student's process)."""
    path = course.reference_file(exercise)
    if not path.is_file():
        pytest.skip("the reference solution is not part of this release")
    # References import each other (efficientnet: `from scaling import ...`), and those imports must find
    # the reference's siblings: the judge is a fork of a process that may hold other folders on sys.path
    # (`grader experiment` run in-process puts the student's folder there) or course modules in sys.modules.
    reference_dir = str(course.reference_dir)
    sys.path[:] = [reference_dir, *(entry for entry in sys.path if entry != reference_dir)]
    for other in course.exercises:
        sys.modules.pop(other.module_name, None)
    spec = importlib.util.spec_from_file_location(exercise.module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[exercise.module_name] = module
    spec.loader.exec_module(module)
    return module


def _load_hypothesis_profile(course: Course) -> None:
    """Same submission, same cases: a fixed seed (passed on the command line), no database, no deadline.

    No `explain` phase: after shrinking, it reruns a failing test dozens of times under a line tracer, to add
    notes to the exception that no feedback shows (messages come from the exception itself): most of a
    failing property test's time, for the same verdict and the same message."""
    from hypothesis import HealthCheck, Phase, settings

    settings.register_profile(
        "grading",
        max_examples=course.grading.hypothesis_examples,
        database=None,
        deadline=None,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        phases=tuple(phase for phase in Phase if phase is not Phase.explain),
    )
    settings.load_profile("grading")


def display_name(item: pytest.Item) -> str:
    """The test's docstring's first line, or its name in words; parametrized cases keep their id."""
    doc = getattr(getattr(item, "function", None), "__doc__", None)
    if doc and doc.strip():
        name = doc.strip().splitlines()[0].rstrip(".")
    else:
        name = getattr(item, "originalname", item.name).removeprefix("test_").replace("_", " ")
    callspec = getattr(item, "callspec", None)
    return f"{name} [{callspec.id}]" if callspec is not None else name


def _hint(item: pytest.Item, error: BaseException, default_section: str) -> str:
    """The check's hint, else the test's where it fits the failure, always naming the tutorial section to reread."""
    section = _marker_text(item, "section") or default_section
    marker = item.get_closest_marker("hint")
    fits = marker is not None and marker_hint_fits(marker.kwargs.get("on"), error)
    hint = getattr(error, "hint", None) or (_marker_text(item, "hint") if fits else None)
    return f"{hint} (tutorial: {section})" if hint else f"reread '{section}' in the tutorial"


def _marker_text(item: pytest.Item, name: str) -> str | None:
    marker = item.get_closest_marker(name)
    return str(marker.args[0]) if marker and marker.args else None


def jsonl_emitter(path: Path) -> Callable[[dict], None]:
    stream = open(path, "a", encoding="utf-8")

    def emit(event: dict) -> None:
        stream.write(json.dumps(event) + "\n")
        stream.flush()

    return emit
