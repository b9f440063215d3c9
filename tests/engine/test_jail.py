"""Student code runs in a jail: it sees only its own submission, outlives nothing, reaches no network,
and cannot call what the exercise forbids by any route.

Each attack below is the conv stub plus one trick that, were it to work, would bring the solution
into the student's module (or outlive grading, or call the forbidden convolution). Each must score 0
on conv, leave the course byte-identical, leave no process and no temporary folder behind.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from support import ROOT, grade_source

from grader import score
from grader.engine.copying import RefusedSubmission, copy_submission
from grader.engine.jail import SIMULATE_REFUSAL
from grader.engine.runner import grade_exercise

STUB = (ROOT / "exercises/conv.py").read_text()

#: Appended to an attack that found the solution's source: it replaces the stub by the solution.
TAKE = """
def _take(source):
    if source and "def conv2d_forward" in source:
        exec(source, globals())
"""


@pytest.fixture
def quick_course(course):
    return course.with_grading(test_timeout=5.0, exercise_timeout=120.0)


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """A temporary folder of this test's own, so counting `grader-*` entries sees only ours."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def course_digest() -> str:
    """sha256 over every file of the course git tracks: what other tests write beside it at the same
    time (hypothesis's example database, bytecode caches) is not the course."""
    import subprocess

    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    digest = hashlib.sha256()
    for name in sorted(filter(None, listed.decode().split("\0"))):
        path = ROOT / name
        if path.is_file() and not path.is_symlink():
            digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def grader_folders(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("grader-"))


def processes_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == name:
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def graded_attack(course, tmp_path: Path, private_tmp: Path, attack: str):
    """Grade the stub plus `attack` on conv; check what every attack must leave as it was."""
    before = course_digest()
    result = grade_source(course, "conv", STUB + TAKE + textwrap.dedent(attack), tmp_path)
    assert score.exercise_score(result) == 0
    assert course_digest() == before, "the course changed"
    assert grader_folders(private_tmp) == [], "a temporary folder was left behind"
    return result


def _messages(result) -> str:
    return "\n".join(line for t in result.tests for line in t.message)


# -- reading the course -------------------------------------------------------------


def test_the_course_cannot_be_read_through_git(quick_course, tmp_path, private_tmp):
    """git is not in the jail, nor is the course's .git: neither `git show` nor the files work."""
    result = graded_attack(
        quick_course,
        tmp_path,
        private_tmp,
        f"""
        import subprocess, pathlib
        try:
            _take(subprocess.run(["git", "--git-dir", {str(ROOT / ".git")!r}, "show", "HEAD:reference/conv.py"],
                                 capture_output=True, text=True).stdout)
        except OSError:
            pass
        print("git dir visible:", pathlib.Path({str(ROOT / ".git")!r}).exists())
    """,
    )
    assert "git dir visible: False" in result.output


def test_the_course_cannot_be_read_through_the_package_path(quick_course, tmp_path, private_tmp):
    """The grader's package is in the jail; the course folder around it is not."""
    result = graded_attack(
        quick_course,
        tmp_path,
        private_tmp,
        """
        import pathlib, grader
        root = pathlib.Path(grader.__file__).resolve().parents[1]
        print("course files visible:", sorted(p.name for p in root.iterdir()))
        try:
            _take((root / "reference" / "conv.py").read_text())
        except OSError:
            pass
    """,
    )
    assert "course files visible: ['grader']" in result.output


def test_the_course_cannot_be_read_through_other_processes(quick_course, tmp_path, private_tmp):
    """/proc shows only the jail's own PID namespace: no judge's cwd, root or command line to follow."""
    result = graded_attack(
        quick_course,
        tmp_path,
        private_tmp,
        f"""
        import os, pathlib
        others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]
        print("other processes:", others)
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            for way in (f"/proc/{{pid}}/cwd/reference/conv.py", f"/proc/{{pid}}/root{ROOT}/reference/conv.py"):
                try:
                    _take(pathlib.Path(way).read_text())
                except OSError:
                    pass
            try:
                words = pathlib.Path(f"/proc/{{pid}}/cmdline").read_bytes().split(b"\\0")
            except OSError:
                continue
            for word in words:
                try:
                    folder = pathlib.Path(word.decode()).parent
                    _take((folder / "reference" / "conv.py").read_text())
                except (OSError, ValueError):
                    pass
    """,
    )
    assert "other processes: []" in result.output


@pytest.mark.parametrize(
    "target",
    [str(ROOT / "reference/conv.py"), "/proc/self/cwd/reference/conv.py"],
    ids=["absolute", "through /proc/self/cwd"],
)
def test_a_submission_holding_a_symbolic_link_is_refused(quick_course, tmp_path, private_tmp, target):
    """A link could point anywhere on the grading machine: never followed, refused with the file's name."""
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "conv.py").symlink_to(target)
    before = course_digest()
    result = grade_exercise(quick_course, quick_course.exercise("conv"), submission, public_only=False)
    assert score.exercise_score(result) == 0 and result.tests
    assert "conv.py is a symbolic link" in result.tests[0].message[0]
    assert course_digest() == before and grader_folders(private_tmp) == []


def test_every_copy_of_a_submission_refuses_links_the_same_way(tmp_path):
    """grade (the jail's copy), grade-all (`submissions.prepare`) and Gradescope share one copying function."""
    from grader.classes.submissions import Student, Submission, SubmissionError, prepare
    from grader.course.manifest import load_course
    from grader.publish.gradescope import collect_submission

    folder = tmp_path / "alice"
    (folder / "exercises").mkdir(parents=True)
    (folder / "exercises" / "conv.py").write_text(STUB)
    (folder / "exercises" / "pooling.py").symlink_to(ROOT / "reference/pooling.py")
    with pytest.raises(RefusedSubmission, match="exercises/pooling.py is a symbolic link"):
        copy_submission(folder, tmp_path / "copy")
    course = load_course(ROOT)
    with pytest.raises(SubmissionError, match="exercises/pooling.py is a symbolic link"):
        prepare(Submission(Student("alice"), folder, "folder"), tmp_path / "scratch", course)
    with pytest.raises(RefusedSubmission, match="pooling.py is a symbolic link"):
        collect_submission(folder, course, tmp_path / "gradescope")


# -- outliving grading ---------------------------------------------------------------

ESCAPE = """
    import ctypes, os, signal, sys, time
    def _escape(name):
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.setsid()
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                signal.signal(signal.SIGHUP, signal.SIG_IGN)
                ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)   # PR_SET_NAME: findable in /proc
                print("escapee running", flush=True)
                while True:
                    time.sleep(0.05)
            parent = os.getppid()
            while os.getppid() == parent:   # outlive the worker, so that a scan for its orphans finds
                time.sleep(0.05)            # only this process, and the grandchild is reparented after it
            time.sleep(0.5)
            os._exit(0)
        time.sleep(1)
    _escape(NAME)
"""


def test_a_double_forked_setsid_process_ends_with_grading(quick_course, tmp_path, private_tmp):
    """The worker is PID 1 of its own namespace: when it ends, everything it started ends."""
    name = "esc" + secrets.token_hex(4)
    result = graded_attack(quick_course, tmp_path, private_tmp, ESCAPE.replace("NAME", repr(name)))
    assert "escapee running" in result.output, "the escapee never ran"
    assert processes_named(name) == []


# -- forbidden calls ------------------------------------------------------------------

FORBIDDEN_ROUTES = {
    "torch.ops.aten.convolution": """
        import numpy as np, torch
        def conv2d_forward(x, weight, bias=None, stride=1, padding=0):
            s = (stride, stride) if isinstance(stride, int) else stride
            p = (padding, padding) if isinstance(padding, int) else padding
            b = None if bias is None else torch.from_numpy(np.asarray(bias))
            out = torch.ops.aten.convolution(torch.from_numpy(x), torch.from_numpy(weight), b, list(s), list(p),
                                             [1, 1], False, [0, 0], 1)
            return out.numpy()
    """,
    "torch._C._VariableFunctions.conv2d": """
        import numpy as np, torch
        def conv2d_forward(x, weight, bias=None, stride=1, padding=0):
            b = None if bias is None else torch.from_numpy(np.asarray(bias))
            conv2d = torch._C._VariableFunctions.conv2d
            return conv2d(torch.from_numpy(x), torch.from_numpy(weight), b, stride, padding).numpy()
    """,
    "F.conv2d called in a thread": """
        import numpy as np, torch, threading
        import torch.nn.functional as F
        def conv2d_forward(x, weight, bias=None, stride=1, padding=0, _conv=F.conv2d):
            out = {}
            def run():
                b = None if bias is None else torch.from_numpy(np.asarray(bias))
                out["y"] = _conv(torch.from_numpy(x), torch.from_numpy(weight), b, stride, padding).numpy()
            thread = threading.Thread(target=run)
            thread.start()
            thread.join()
            return out.get("y")
    """,
    "F.conv2d kept from import time": """
        import numpy as np, torch
        import torch.nn.functional as F
        def conv2d_forward(x, weight, bias=None, stride=1, padding=0, _conv=F.conv2d):
            b = None if bias is None else torch.from_numpy(np.asarray(bias))
            return _conv(torch.from_numpy(x), torch.from_numpy(weight), b, stride, padding).numpy()
    """,
}


@pytest.mark.parametrize("route", sorted(FORBIDDEN_ROUTES))
def test_a_forbidden_convolution_is_refused_whatever_the_route(quick_course, tmp_path, private_tmp, route):
    """The dispatch guard sees the aten operator, whichever name reached it; the message is the usual one."""
    result = graded_attack(quick_course, tmp_path, private_tmp, FORBIDDEN_ROUTES[route])
    refused = [t for t in result.tests if t.reason == "forbidden"]
    assert refused, _messages(result)
    assert "which this exercise asks you to write yourself" in refused[0].message[-1]


def test_switching_the_dispatch_guard_off_is_a_forbidden_call(quick_course, tmp_path, private_tmp):
    """Popping the guard's mode to call the convolution unseen counts as calling it."""
    result = graded_attack(
        quick_course,
        tmp_path,
        private_tmp,
        """
        import numpy as np, torch
        from torch.utils._python_dispatch import _pop_mode_temporarily
        def conv2d_forward(x, weight, bias=None, stride=1, padding=0):
            with _pop_mode_temporarily():
                return torch.ops.aten.convolution(torch.from_numpy(x), torch.from_numpy(weight), None, [stride] * 2,
                                                  [padding] * 2, [1, 1], False, [0, 0], 1).numpy()
    """,
    )
    assert any(t.reason == "forbidden" for t in result.tests), _messages(result)


# -- network -----------------------------------------------------------------------


def test_there_is_no_network(quick_course, tmp_path, private_tmp):
    """The jail has a network namespace of its own: not even the judge's loopback is reachable."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(0.2)
        port = server.getsockname()[1]
        result = graded_attack(
            quick_course,
            tmp_path,
            private_tmp,
            f"""
            import socket
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"leak")
                print("network: connected")
            except OSError as error:
                print("network:", type(error).__name__)
        """,
        )
        with pytest.raises(socket.timeout):
            server.accept()
    assert "network: connected" not in result.output and "network:" in result.output


# -- where the kernel refuses ----------------------------------------------------------


def test_without_user_namespaces_the_report_says_so_and_nothing_is_left(
    quick_course, tmp_path, private_tmp, monkeypatch
):
    """The fallback runs unconfined on a private copy; its keeper, a subreaper, still ends the escapee."""
    monkeypatch.setenv(SIMULATE_REFUSAL, "1")
    name = "esc" + secrets.token_hex(4)
    result = graded_attack(quick_course, tmp_path, private_tmp, ESCAPE.replace("NAME", repr(name)))
    assert "ran without the jail on this machine" in (result.problem or "")
    assert "escapee running" in result.output
    assert processes_named(name) == []


def test_a_judge_killed_at_the_time_limit_leaves_no_folder_and_no_process(course, tmp_path, private_tmp, monkeypatch):
    """Unconfined (so that a temporary copy exists): the keeper removes it when the killed judge's socket closes."""
    monkeypatch.setenv(SIMULATE_REFUSAL, "1")
    name = "esc" + secrets.token_hex(4)
    attack = ESCAPE.replace("NAME", repr(name)) + "\n    while True:\n        pass\n"
    result = grade_source(
        course.with_grading(test_timeout=60.0, exercise_timeout=8.0), "conv", STUB + textwrap.dedent(attack), tmp_path
    )
    assert "time limit" in (result.problem or "")
    deadline = time.monotonic() + 30  # the keeper cleans up once it sees the judge gone: wait for it
    while (grader_folders(private_tmp) or processes_named(name)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert grader_folders(private_tmp) == [] and processes_named(name) == []


# -- careless input -----------------------------------------------------------------------


def test_a_module_saved_with_a_byte_order_mark_scores_as_without(course, tmp_path, private_tmp):
    """Python imports a UTF-8 file with a BOM; so does the grader."""
    source = (ROOT / "reference/scaling.py").read_text()
    (tmp_path / "bom").mkdir()
    (tmp_path / "plain").mkdir()
    with_bom = grade_source(course, "scaling", "\ufeff" + source, tmp_path / "bom")
    without = grade_source(course, "scaling", source, tmp_path / "plain")
    assert score.exercise_score(with_bom) == score.exercise_score(without) == course.exercise("scaling").points
    assert grader_folders(private_tmp) == []


def test_symbolic_links_are_refused_before_anything_is_copied(tmp_path):
    """The copy goes through folder descriptors: a link is refused by name, wherever it is."""
    source = tmp_path / "source"
    (source / "deep" / "er").mkdir(parents=True)
    (source / "ok.py").write_text("x = 1\n")
    os.symlink("/etc/passwd", source / "deep" / "er" / "data.txt")
    with pytest.raises(RefusedSubmission, match=r"deep/er/data.txt is a symbolic link"):
        copy_submission(source, tmp_path / "copy")


# -- the zygote ---------------------------------------------------------------------------


def test_one_zygote_serves_several_processes_at_once(tmp_path):
    """Judges forked from one warm engine share its zygote: each request gets its own jailed worker."""
    from grader.engine.sandbox import StudentProcess
    from grader.engine.zygote import Zygote

    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "adder.py").write_text("def add(x, y):\n    return x + y\n")
    zygote = Zygote.fork_from_here()
    clients = []
    for n in range(3):
        pid = os.fork()
        if pid == 0:  # a judge: two workers in turn, each asked for n + 1
            code = 1
            try:
                process = StudentProcess(submission, zygote=zygote)
                answers = []
                for _ in range(2):
                    process.request({"op": "import", "module": "adder"}, timeout=60)
                    answers.append(
                        process.request({"op": "call", "function": "add", "args": [n, 1], "kwargs": {}}, timeout=60)[
                            "value"
                        ]
                    )
                    process.kill()
                code = 0 if answers == [n + 1, n + 1] and process.confinement is None else 2
                process.close()
                zygote.close()
            finally:
                os._exit(code)
        clients.append(pid)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in clients]
    zygote.close()
    assert codes == [0, 0, 0]
    assert not Path(f"/proc/{zygote.pid}").exists()


def test_a_module_the_forking_process_had_loaded_never_answers_a_students_import(tmp_path, monkeypatch):
    """A zygote forked from a process that had imported a module named like the student's (a test that
    loaded the reference as `adder`) still imports the student's own file: it forgets what the jail hides."""
    import importlib.util
    import sys

    from grader.engine.sandbox import StudentProcess
    from grader.engine.zygote import Zygote

    solution = tmp_path / "solutions" / "adder.py"
    solution.parent.mkdir()
    solution.write_text("def add(x, y):\n    return 'the solution'\n")
    spec = importlib.util.spec_from_file_location("adder", solution)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "adder", module)
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "adder.py").write_text("def add(x, y):\n    raise NotImplementedError\n")
    zygote = Zygote.fork_from_here()
    try:
        process = StudentProcess(submission, zygote=zygote)
        process.request({"op": "import", "module": "adder"}, timeout=60)
        reply = process.request({"op": "call", "function": "add", "args": [1, 2], "kwargs": {}}, timeout=60)
        process.kill()
        process.close()
    finally:
        zygote.close()
    assert not reply["ok"] and reply["error"]["type"] == "NotImplementedError"


#: An escapee that, for as long as it lives, appends a "passed" copy of every result in every events
#: file it can find (the attack that once gave a stub classmate 20/20), and turns every other conv.py
#: it can see into a copy of its own module.
FORGER = """
    import json, os, time
    def _forge_forever():
        mine = os.path.abspath(__file__)
        while True:
            for top in ("/tmp", "/work", "/root", "/home"):
                for folder, _, files in os.walk(top):
                    for name in files:
                        path = os.path.join(folder, name)
                        try:
                            if name.endswith(".jsonl"):   # the judge's events, as graders kept them
                                forged = []
                                for line in open(path).read().splitlines():
                                    event = json.loads(line)
                                    if event.get("event") == "result":
                                        event["result"].update(outcome="passed", reason=None, message=[])
                                        forged.append(json.dumps(event))
                                with open(path, "a") as stream:
                                    stream.write("".join(line + "\\n" for line in forged))
                            elif name == "conv.py" and path != mine:
                                with open(path, "w") as stream:
                                    stream.write(open(mine).read())
                        except (OSError, ValueError, KeyError, AttributeError):
                            pass
            time.sleep(0.05)
"""


def test_a_classmates_grade_cannot_be_changed_in_grade_all(tmp_path, private_tmp):
    """grade-all -j 2: a stub whose escapee forges results and rewrites submissions changes nobody's grade."""
    from class_corpus import quick_course as class_course
    from class_corpus import student
    from typer.testing import CliRunner

    from grader.classes.gradebook import Gradebook
    from grader.cli.app import app
    from grader.cli.common import ExitCode

    course = class_course(tmp_path / "course", test_timeout=10.0, exercise_timeout=60.0)
    name = "esc" + secrets.token_hex(4)
    attack = ESCAPE.replace("NAME", repr(name)).replace(
        "while True:\n                    time.sleep(0.05)", "_forge_forever()"
    )
    student(tmp_path / "class", "mallory", STUB + textwrap.dedent(FORGER) + textwrap.dedent(attack))
    student(tmp_path / "class", "ada", ROOT / "reference/conv.py")
    student(tmp_path / "class", "bob", STUB)
    before = course_digest()
    result = CliRunner().invoke(
        app,
        [
            "grade-all",
            str(tmp_path / "class"),
            "-e",
            "conv",
            "-j",
            "2",
            "-o",
            str(tmp_path / "grades"),
            "--course",
            str(course.root),
        ],
    )
    assert result.exit_code == ExitCode.OK, result.output
    with Gradebook(f"sqlite:///{tmp_path / 'grades' / 'gradebook.db'}") as gradebook:
        records = {r.student.id: r.report for r in gradebook.latest() if r.report}
    assert {who: score.total_score(report) for who, report in records.items()} == {"ada": 20, "bob": 0, "mallory": 0}
    assert "escapee running" in records["mallory"].exercises[0].output  # the attack did run
    assert (tmp_path / "class/bob/conv.py").read_text() == STUB
    assert course_digest() == before and processes_named(name) == []
    assert grader_folders(private_tmp) == []
