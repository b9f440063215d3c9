"""The warm engine: judges forked from one process, which they leave as clean as they found it.

And what the command line writes for a user: atomically, never through a link, never
over the course; and on the student's path, nothing that only instructors need.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import pytest
from support import ROOT, grade_source
from typer.testing import CliRunner

from grader import score
from grader.cli.app import app
from grader.cli.common import ExitCode
from grader.engine import student
from grader.engine.sandbox import StudentProcess
from grader.engine.student import NotImplementedYet, StudentModule
from grader.reports import output_files

STUB = (ROOT / "exercises/conv.py").read_text()
REFERENCE = (ROOT / "reference/conv.py").read_text()


# -- the engine -------------------------------------------------------------------------------------


def test_grading_leaves_no_course_module_in_the_engine_process(course, tmp_path):
    """The reference and the suites are imported by the forked judge only: the next exercise (or the
    next student, in grade-all) starts from a parent that never held them."""
    private = [ROOT / "reference", ROOT / "tests/hidden", ROOT / "tests/public", tmp_path]

    def course_modules() -> set[str]:  # other tests of this process may have loaded some: compare
        return {
            name
            for name, module in list(sys.modules.items())
            if any(Path(getattr(module, "__file__", None) or "/").resolve().is_relative_to(p) for p in private)
        }

    before, conv_before = course_modules(), sys.modules.get("conv")
    result = grade_source(course, "conv", REFERENCE, tmp_path)
    assert score.exercise_score(result) == 20
    assert course_modules() == before and sys.modules.get("conv") is conv_before


def test_a_judge_killed_at_the_time_limit_leaves_no_temporary_folder(course, tmp_path, monkeypatch):
    """The student's private copy and the judge's scratch are removed, also after a kill."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    hanging = REFERENCE.replace(
        "def zero_pad(x, padding):", "def zero_pad(x, padding):\n    while True:\n        pass", 1
    )
    result = grade_source(
        course.with_grading(test_timeout=60.0, exercise_timeout=4.0), "conv", hanging, tmp_path / "work"
    )
    assert "time limit (4 s)" in (result.problem or "")
    assert any(t.reason == "not_run" for t in result.tests)
    assert sorted(os.listdir(temporary)) == []


def test_results_travel_over_a_pipe_not_a_file(course, tmp_path, monkeypatch):
    """A judge writes nothing a student's process could append a forged result to."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    listing = tmp_path / "seen.txt"
    source = STUB + textwrap.dedent(f"""
        import os
        seen = []
        for top in ({str(temporary)!r}, os.environ.get("TMPDIR", "/tmp")):
            for folder, _, files in os.walk(top):
                seen += [os.path.join(folder, name) for name in files]
        open({str(listing)!r}, "w").write("\\n".join(seen))
    """)
    grade_source(course, "conv", source, tmp_path / "work")
    seen = listing.read_text().splitlines() if listing.exists() else []
    assert [path for path in seen if path.endswith(".jsonl") or "events" in path] == []


def test_a_judge_asked_for_from_another_thread_is_not_forked_by_the_threaded_process(course, tmp_path, monkeypatch):
    """grade-all grades in a pool of threads; a fork while other threads run can copy a lock one of them
    holds. Judges asked for from a thread come from the engine's judge server, and grade the same."""
    forked_in = []
    fork = os.fork

    def noting_fork():
        forked_in.append(threading.current_thread().name)
        return fork()

    monkeypatch.setattr(os, "fork", noting_fork)
    results = {}
    worker = threading.Thread(
        target=lambda: results.update(thread=grade_source(course, "conv", STUB, tmp_path / "a")), name="grade-all_0"
    )
    worker.start()
    worker.join()
    assert forked_in == []
    results["main"] = grade_source(course, "conv", STUB, tmp_path / "b")
    assert forked_in == ["MainThread"]
    thread, main = ([(t.name, t.outcome, t.message) for t in results[k].tests] for k in ("thread", "main"))
    assert thread == main and thread and {outcome for _, outcome, _ in thread} == {"failed"}


def test_a_judge_forked_for_a_thread_is_still_killed_at_the_time_limit(course, tmp_path, monkeypatch):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    hanging = REFERENCE.replace(
        "def zero_pad(x, padding):", "def zero_pad(x, padding):\n    while True:\n        pass", 1
    )
    strict = course.with_grading(test_timeout=60.0, exercise_timeout=4.0)
    results = []
    worker = threading.Thread(target=lambda: results.append(grade_source(strict, "conv", hanging, tmp_path / "work")))
    worker.start()
    worker.join()
    assert "time limit (4 s)" in (results[0].problem or "")
    assert sorted(os.listdir(temporary)) == []


# -- fail fast --------------------------------------------------------------------------------------


class _CountingProcess(StudentProcess):
    """A real worker, counting the calls that cross to it."""

    calls = 0

    def request(self, message, *, timeout):
        if message["op"] == "call":
            type(self).calls += 1
        return super().request(message, timeout=timeout)


def test_a_stub_function_is_asked_once_then_answered_by_the_proxy(tmp_path):
    (tmp_path / "conv.py").write_text(
        STUB + "\n\ndef partly(n):\n    if n > 1:\n        raise NotImplementedError('big n')\n    return n\n"
    )
    process = _CountingProcess(tmp_path)
    module = StudentModule(process, tmp_path / "conv.py", "conv")
    try:
        messages = []
        for _ in range(3):
            with pytest.raises(NotImplementedYet) as raised:
                module.zero_pad(__import__("numpy").ones((1, 1, 2, 2)), 1)
            messages.append(str(raised.value))
        assert _CountingProcess.calls == 1 and len(set(messages)) == 1
        assert module.partly(1) == 1  # raises NotImplementedError for some inputs only: always asked
        with pytest.raises(NotImplementedYet):
            module.partly(2)
        assert module.partly(1) == 1 and _CountingProcess.calls == 4
    finally:
        process.kill()


def test_the_stub_report_is_the_same_with_the_proxy_answering(course, tmp_path, monkeypatch):
    """Fail fast changes no message: the stub's report with every call crossing, and with the proxy
    answering the repeated ones (judges are forked from here, so the patch reaches them)."""

    def report():
        result = grade_source(course, "conv", STUB, tmp_path)
        return [(t.name, t.outcome, t.reason, t.message, t.hint) for t in result.tests]

    fast = report()
    monkeypatch.setattr(student, "_stub_functions", lambda tree: set())
    assert report() == fast
    assert {outcome for _, outcome, reason, _, _ in fast} == {"failed"}


# -- what the command line writes -------------------------------------------------------------------


def _course_copy(tmp_path: Path) -> Path:
    """A course of our own to attack (never the repository's files)."""
    copy = tmp_path / "course"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(".git", "corpus", "__pycache__", "grader", "bench", "*.egg-info", ".hypothesis"),
    )
    return copy


def test_output_that_is_a_link_to_a_course_file_is_refused_and_the_file_kept(tmp_path):
    course = _course_copy(tmp_path)
    tutorial = course / "docs/course.md"
    before = tutorial.read_bytes()
    output = tmp_path / "results.json"
    output.symlink_to(tutorial)
    result = CliRunner().invoke(
        app, ["grade", "conv", "--course", str(course), "--format", "json", "--output", str(output)]
    )
    assert result.exit_code == ExitCode.USAGE
    assert "symbolic link" in result.output
    assert tutorial.read_bytes() == before and output.is_symlink()


def test_a_link_swapped_in_just_before_the_write_is_replaced_not_followed(tmp_path, monkeypatch):
    course_file = tmp_path / "course.toml"
    course_file.write_text("[course]\n")
    target = tmp_path / "out" / "report.json"
    check = output_files._refuse_link

    def check_then_swap(path):
        check(path)
        path.symlink_to(course_file)  # the attacker wins the race between the check and the write

    monkeypatch.setattr(output_files, "_refuse_link", check_then_swap)
    output_files.write_report(target, "{}\n")
    assert course_file.read_text() == "[course]\n"
    assert not target.is_symlink() and target.read_text() == "{}\n"
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]  # no temporary file left


def test_output_inside_the_course_suites_is_refused(tmp_path):
    course = _course_copy(tmp_path)
    saved = tmp_path / "conv.json"
    graded = CliRunner().invoke(
        app, ["grade", "conv", "--course", str(course), "--format", "json", "--output", str(saved)]
    )
    assert graded.exit_code == ExitCode.OK, graded.output
    for inside in ("tests/hidden/results.json", "reference/conv.py", "course.toml", "exercises/report.xml"):
        before = (course / inside).read_bytes() if (course / inside).exists() else None
        result = CliRunner().invoke(
            app, ["render", str(saved), "--course", str(course), "--format", "json", "--output", str(course / inside)]
        )
        assert result.exit_code == ExitCode.USAGE, inside
        assert ((course / inside).read_bytes() if (course / inside).exists() else None) == before
    beside = CliRunner().invoke(
        app,
        [
            "render",
            str(saved),
            "--course",
            str(course),
            "--format",
            "json",
            "--output",
            str(course / ".grader-results/conv.json"),
        ],
    )
    assert beside.exit_code == ExitCode.OK and json.loads((course / ".grader-results/conv.json").read_text())


# -- the student's path -----------------------------------------------------------------------------

INSTRUCTOR_ONLY = ("matplotlib", "sqlalchemy", "cryptography", "nbformat", "yaml", "psycopg", "jinja2")


def test_grading_from_the_command_line_imports_nothing_only_instructors_need(tmp_path):
    """`grader grade`'s process (the engine, in a fresh interpreter) after grading an exercise."""
    output = tmp_path / "conv.json"
    program = textwrap.dedent(f"""
        import json, sys
        from grader.cli.app import STUDENT_GROUPS, build_app
        try:
            build_app(STUDENT_GROUPS)(["grade", "conv", "--course", {str(ROOT)!r}, "--format", "json",
                                       "--output", {str(output)!r}])
        except SystemExit:
            pass
        print(json.dumps(sorted(m for m in {INSTRUCTOR_ONLY!r} if m in sys.modules)))
    """)
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=os.environ | {"PYTHONHASHSEED": "0"},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
    assert json.loads(output.read_text())["max_score"] == 20
