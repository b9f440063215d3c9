"""`grader check`: is each exercise of the course fit to publish, and how strong is its hidden suite?

Per exercise: every public and hidden test passes on the reference; every hidden
test fails on the stub; the tests' points add up to course.toml's; every tutorial
section named (by the exercise, a test's `section` mark, a misconception entry)
exists; the stub is up to date; and the *mutation score*: of the mutants of the
reference (`grader.authoring.mutation`), the share the hidden suite kills, leaving out those
declared equivalent (same behaviour, so no test can tell) in the course's
equivalents file, each with its reason.

All submissions of one exercise are graded in one judge process
(`grader.authoring.judge`); exercises run in parallel. Results are cached in a
JSON file kept with the course, per exercise, under a hash of everything that
decides them (reference, stub, suites, imported sibling modules, probes,
grading settings, engine, mutation operators; not the catalogue, which never
decides a verdict), so a re-run recomputes only the exercises that changed. Equivalence
declarations are read at every run: they change the score, never what is computed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import threading
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

from grader.authoring.mutation import MUTATOR_VERSION, Mutant, mutants
from grader.authoring.run import Progress, compute, siblings
from grader.course.manifest import Course, ExerciseSpec
from grader.course.stubs import stale_stubs
from grader.course.text import section_names
from grader.diagnosis import load_catalogue

CACHE_FILE = "tests/hidden/mutation-cache.json"  #: holds mutant ids, lines of the reference: keep it hidden
EQUIVALENTS_FILE = "tests/hidden/equivalent_mutants.toml"
#: Engine modules whose code decides a verdict: a change to one of them recomputes every exercise.
#: (Probes count only for the exercises whose suites call them; wording, reports and the manifest not at all.)
ENGINE_FILES = (
    "engine/*.py",
    "authoring/run.py",
    "authoring/judge.py",
    "authoring/mutation.py",
    "checks.py",
    "describe.py",
    "suite.py",
    "judging/*.py",
    "probes/*.py",
)  #: globs under grader/
_GRADER = Path(__file__).parents[1]


@dataclasses.dataclass(frozen=True)
class CheckOptions:
    exercises: tuple[str, ...] = ()  #: ids to check; empty means all
    mutation: bool = True  #: measure the mutation score (the slow part)
    min_mutation_score: float = 90.0  #: percent of non-equivalent mutants the hidden suite must kill
    jobs: int = 0  #: exercises checked in parallel; 0: one per core
    fresh: bool = False  #: ignore the cache and recompute everything
    examples: int | None = None  #: hypothesis examples per property test; None: course.toml's
    cache: Path | None = None  #: default: CACHE_FILE in the course
    equivalents: Path | None = None  #: default: EQUIVALENTS_FILE in the course


@dataclasses.dataclass(frozen=True)
class MutantResult:
    id: str
    status: Literal["killed", "survived", "equivalent"]
    by: str | None = None  #: the test that killed it (or "time limit")
    public_catches: bool = False  #: survived the hidden suite, but a public test fails on it
    reason: str | None = None  #: why it is equivalent
    diff: str = ""


@dataclasses.dataclass(frozen=True)
class ExerciseCheck:
    id: str
    problems: tuple[str, ...]  #: what makes the exercise unfit to publish (or below the bar)
    warnings: tuple[str, ...] = ()  #: worth fixing, never failing (stale equivalence declarations)
    tests: int = 0
    points: float = 0
    reference_passed: int = 0
    stub_failed_hidden: int = 0
    hidden_tests: int = 0
    mutants: tuple[MutantResult, ...] = ()
    mutation: bool = True  #: whether the mutation score was measured
    cached: bool = False
    seconds: float = 0.0  #: time the computation took (when it was computed)

    @property
    def killed(self) -> int:
        return sum(m.status == "killed" for m in self.mutants)

    @property
    def equivalent(self) -> int:
        return sum(m.status == "equivalent" for m in self.mutants)

    @property
    def survivors(self) -> list[MutantResult]:
        return [m for m in self.mutants if m.status == "survived"]

    @property
    def score(self) -> float | None:
        counted = len(self.mutants) - self.equivalent
        return 100.0 * self.killed / counted if self.mutation and counted else None

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclasses.dataclass(frozen=True)
class CheckReport:
    exercises: tuple[ExerciseCheck, ...]
    min_mutation_score: float
    problems: tuple[str, ...] = ()  #: course-wide (a malformed equivalents file)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and all(e.ok for e in self.exercises)


def check_course(
    course: Course, options: CheckOptions = CheckOptions(), progress: Progress | None = None
) -> CheckReport:
    """Check the selected exercises, from the cache where nothing changed; update the cache."""
    started = time.monotonic()
    selected = [course.exercise(i) for i in options.exercises] if options.exercises else list(course.exercises)
    cache_path = options.cache or course.root / CACHE_FILE
    cache = _read_cache(cache_path)
    equivalents, problems = read_equivalents(options.equivalents or course.root / EQUIVALENTS_FILE, course)
    stale = {p.resolve() for p in stale_stubs(course)}
    jobs = max(1, min(options.jobs or os.cpu_count() or 1, len(selected)))
    expensive_first = sorted(selected, key=lambda e: -cache.get(e.id, {}).get("seconds", 1e9))

    lock = threading.Lock()

    def one(exercise: ExerciseSpec) -> ExerciseCheck:
        generated = _mutants_of(course, exercise) if options.mutation else []
        key = cache_key(course, exercise, options)
        entry = cache.get(exercise.id)
        cached = (
            entry is not None
            and entry["key"] == key
            and not options.fresh
            and (entry.get("mutation") or not options.mutation)
        )
        if not cached:
            computed = compute(course, exercise, generated, options.examples, progress) | {
                "key": key,
                "mutation": options.mutation,
            }
            if entry is None or not same_results(entry, computed):  # else only timings changed: keep the file
                entry = computed
                with lock:  # saved at once: an interrupted check keeps what it finished
                    cache[exercise.id] = entry
                    _write_cache(cache_path, cache)
        elif progress is not None:
            progress(exercise.id, 1, 1)
        return assess(
            course,
            exercise,
            entry,
            generated,
            equivalents.get(exercise.id, {}),
            options,
            stale=course.exercises_dir.joinpath(exercise.module).resolve() in stale,
            cached=cached,
        )

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        by_id = {c.id: c for c in pool.map(one, expensive_first)}
    known = {e.id for e in course.exercises}
    if set(cache) - known:  # exercises gone from course.toml
        _write_cache(cache_path, {i: entry for i, entry in cache.items() if i in known})
    return CheckReport(
        tuple(by_id[e.id] for e in selected),
        options.min_mutation_score,
        tuple(problems),
        round(time.monotonic() - started, 1),
    )


# -- the cache key --------------------------------------------------------------


def cache_key(course: Course, exercise: ExerciseSpec, options: CheckOptions) -> str:
    """A hash of everything that decides the exercise's results."""
    files = {str(p.relative_to(course.root)): _digest(p) for p in _inputs(course, exercise)}
    described = {
        "engine": engine_digest(),
        "mutator": MUTATOR_VERSION,
        "files": files,
        "grading": course.grading.model_dump(),
        "examples": options.examples,
        "forbidden": list(exercise.forbidden),
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


def engine_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(p for pattern in ENGINE_FILES for p in _GRADER.glob(pattern)):
        digest.update(f"{path.relative_to(_GRADER)}\0{_digest(path)}\0".encode())
    return digest.hexdigest()


def _inputs(course: Course, exercise: ExerciseSpec) -> list[Path]:
    paths = [
        course.reference_file(exercise),
        course.exercises_dir / exercise.module,
        *course.suite_paths(exercise, hidden=True),
    ]
    # The catalogue is left out: it names a failure's mistake, never decides whether a test fails.
    paths += siblings(course, exercise).values()
    return [p for p in paths if p.is_file()]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _mutants_of(course: Course, exercise: ExerciseSpec) -> list[Mutant]:
    path = course.reference_file(exercise)
    has_hidden = any(p.is_file() for p in (course.root / s for s in exercise.hidden))
    return mutants(path.read_text(encoding="utf-8"), exercise.module) if path.is_file() and has_hidden else []


# -- judging the raw results ----------------------------------------------------


def assess(
    course: Course,
    exercise: ExerciseSpec,
    entry: dict,
    generated: list[Mutant],
    equivalent: dict[str, str],
    options: CheckOptions,
    *,
    stale: bool,
    cached: bool,
) -> ExerciseCheck:
    """The exercise's verdict from its raw results (fresh or cached) and the equivalence declarations."""
    tests = entry["tests"]
    problems = list(entry.get("problems", []))
    reference, stub = entry["reference"], entry["stub"]
    if "$stopped" in reference:
        problems.append(f"the reference: {reference['$stopped']}")
    not_passing = [t for t in tests if reference.get(t["test_id"], {}).get("outcome") not in ("passed", "pending")]
    problems += [
        f"fails on the reference: {t['test_id']} ({reference.get(t['test_id'], {}).get('reason') or 'not run'})"
        for t in not_passing
        if "$stopped" not in reference
    ]
    hidden = [t for t in tests if t["kind"] == "hidden"]
    passing_stub = [t for t in hidden if stub.get(t["test_id"], {}).get("outcome") == "passed"]
    problems += [f"passes on the stub: {t['test_id']}" for t in passing_stub]
    points = sum(t["points"] for t in tests)
    if tests and points != exercise.points:
        problems.append(f"the tests' points add up to {points:g}, course.toml says {exercise.points}")
    problems += _section_problems(course, exercise, tests)
    if stale:
        problems.append(f"{course.info.exercises}/{exercise.module} is stale: run `grader stubs`")
    errors = [
        f"{mutant}: {verdict['grader_error']}"
        for mutant, verdict in entry.get("mutants", {}).items()
        if verdict.get("grader_error")
    ]
    if errors:
        problems.append(f"the grader failed on {len(errors)} mutant(s), first {errors[0]}")
    results, warnings = _mutant_results(generated, entry.get("mutants", {}), equivalent, measured=options.mutation)
    check = ExerciseCheck(
        exercise.id,
        (),
        tuple(warnings),
        len(tests),
        points,
        len(tests) - len(not_passing),
        len(hidden) - len(passing_stub),
        len(hidden),
        tuple(results),
        options.mutation,
        cached,
        entry.get("seconds", 0.0),
    )
    if options.mutation and check.score is not None and check.score < options.min_mutation_score:
        problems.append(f"mutation score {check.score:.1f}% is below {options.min_mutation_score:g}%")
    if options.mutation and not hidden:
        problems.append("no hidden suite: nothing to measure the mutants against")
    return dataclasses.replace(check, problems=tuple(problems))


def _mutant_results(
    generated: list[Mutant], raw: dict[str, dict], equivalent: dict[str, str], *, measured: bool = True
) -> tuple[list[MutantResult], list[str]]:
    """Each generated mutant's verdict, and warnings about the declarations.

    A check without mutation generates no mutants, so it cannot tell a stale declaration from a
    live one: it says nothing about them rather than calling every one stale.
    """
    results = []
    for mutant in generated:
        verdict = raw.get(mutant.id, {"status": "survived", "by": None, "public": False})
        if mutant.id in equivalent:
            results.append(MutantResult(mutant.id, "equivalent", reason=equivalent[mutant.id], diff=mutant.diff))
        else:
            results.append(
                MutantResult(
                    mutant.id, verdict["status"], verdict.get("by"), verdict.get("public", False), diff=mutant.diff
                )
            )
    known = {m.id for m in generated}
    warnings = [
        f"declared equivalent, but no such mutant (any more): {name}"
        for name in equivalent
        if measured and name not in known
    ]
    warnings += [
        f"declared equivalent, but the hidden suite kills it: {r.id}"
        for r in results
        if r.status == "equivalent" and raw.get(r.id, {}).get("status") == "killed"
    ]
    return results, warnings


def _section_problems(course: Course, exercise: ExerciseSpec, tests: list[dict]) -> list[str]:
    headings = section_names(course.tutorial_path)
    named = {(t["section"], f"test {t['test_id']}") for t in tests if t.get("section")}
    if exercise.misconceptions and (course.root / exercise.misconceptions).is_file():
        named |= {
            (entry.section, f"misconception {entry.name}")
            for entry in load_catalogue(course.root / exercise.misconceptions)
        }
    return [
        f"{who} names the section {section!r}, which is not a section of {course.info.tutorial}"
        for section, who in sorted(named)
        if section not in headings
    ]


#: Fields that vary from run to run without changing a verdict.
TIMINGS = frozenset({"seconds", "cpu_seconds", "duration"})


def same_results(old: dict, new: dict) -> bool:
    """Whether two cache entries differ at most in their timings (so a recompute need not rewrite the file)."""
    return _timeless(old) == _timeless(new)


def _timeless(value: object) -> object:
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


# -- files kept with the course ----------------------------------------------------


def read_equivalents(path: Path, course: Course) -> tuple[dict[str, dict[str, str]], list[str]]:
    """{exercise: {mutant id: reason}} from the equivalents file, and what is wrong with it."""
    if not path.is_file():
        return {}, []
    try:
        entries = tomllib.loads(path.read_text(encoding="utf-8")).get("equivalent", [])
    except tomllib.TOMLDecodeError as error:
        return {}, [f"{path.name}: {error}"]
    known = {e.id for e in course.exercises}
    found: dict[str, dict[str, str]] = {}
    problems = []
    for number, entry in enumerate(entries, start=1):
        exercise, mutant, reason = entry.get("exercise"), entry.get("mutant"), str(entry.get("reason", "")).strip()
        if exercise not in known or not mutant or not reason or set(entry) - {"exercise", "mutant", "reason"}:
            problems.append(
                f"{path.name}: [[equivalent]] number {number} needs exactly exercise (one of the "
                f"course's), mutant and a reason"
            )
            continue
        found.setdefault(exercise, {})[mutant] = reason
    return found, problems


def _read_cache(path: Path) -> dict[str, dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data.get("exercises", {}) if data.get("format") == 1 else {}


def _write_cache(path: Path, cache: dict[str, dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"format": 1, "exercises": dict(sorted(cache.items()))}, indent=1, sort_keys=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text + "\n", encoding="utf-8")
    temporary.replace(path)
