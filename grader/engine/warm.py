"""The warm engine: the libraries imported once, a judge forked per exercise.

Starting a judge interpreter per exercise costs the import of pytest, hypothesis, numpy
and torch every time: most of a student's wait. The engine imports them once, in the
process that grades (`grader grade`, `grade-all`, the engine's tests), and forks a
judge per exercise from there:

- the fork happens in the calling thread, before anything of the course's secrets is
  loaded in the parent: the judge imports the reference, the suites and the catalogue
  into its own `sys.modules`, which end with it, so the parent stays clean for the next
  exercise (and, in `grade-all`, the next student);
- the judge is a session and a process group of its own, killed whole at the exercise's
  time limit; its results come back over a pipe that only the engine holds (no file a
  student's process could append to), one JSON line per event;
- each judge gets a scratch folder (its `tempfile` root), removed by the engine once the
  judge is reaped, also when it was killed: nothing of a student's is left behind;
- same verdicts as a fresh interpreter: one library thread (set before the first fork),
  torch's default generator seeded afresh in each judge, and the hash seed
  of today's judges (`PYTHONHASHSEED=0`, which the command line guarantees by re-executing
  itself, see `grader.__main__`).
"""

from __future__ import annotations

import atexit
import dataclasses
import gc
import json
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable

from grader.engine.forkserver import exit_flushed, serve_forks

#: Judges run one per core already; library threads on top would only fight over the cores.
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}

_STDERR_KEPT = 8192


@dataclasses.dataclass(frozen=True)
class JudgeJob:
    """One exercise to judge: the request `grader.engine.judge.run_judge` reads, and its time limit."""

    request: dict
    time_limit: float
    label: str = "judge"


@dataclasses.dataclass(frozen=True)
class JudgeOutcome:
    events: list[dict]
    problem: str | None  #: what went wrong at the exercise level, if anything
    seconds: float


class Engine:
    """A process with the grading libraries loaded, forking one judge per exercise."""

    def __init__(self, *, zygote: bool = True, models: bool = True):
        _load_libraries(models=models)
        self.zygote = _start_zygote() if zygote else None
        self._lock = threading.Lock()
        self.server = _JudgeServer(self)  # forked now, while this process has no thread of its own running

    def judge(self, job: JudgeJob) -> JudgeOutcome:
        return self.run([job], parallel=1)[0]

    def run(self, jobs: Iterable[JudgeJob], parallel: int = 1) -> list[JudgeOutcome]:
        """Judge every job, `parallel` at a time; outcomes in the jobs' order.

        Forks happen in this thread when it is the main thread; called from another thread (grade-all's pool),
        the judges are forked by the engine's judge server instead (`_JudgeServer`). Everything else is a
        `select` over the judges' pipes.
        """
        jobs = list(jobs)
        outcomes: list[JudgeOutcome | None] = [None] * len(jobs)
        waiting = list(enumerate(jobs))
        running: list[_RunningJudge] = []
        try:
            while waiting or running:
                while waiting and len(running) < max(1, parallel):
                    index, job = waiting.pop(0)
                    running.append(_RunningJudge(index, job, self))
                _pump(running)
                for judge in [j for j in running if j.done]:
                    running.remove(judge)
                    outcomes[judge.index] = judge.finish()
        finally:  # interrupted (Ctrl-C, SIGTERM): no judge outlives us, no scratch folder is left
            for judge in running:
                if not judge.done:
                    judge.kill()
                _remove(judge.scratch)
        return outcomes  # type: ignore[return-value]

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        if self.zygote is not None:
            self.zygote.close()
            self.zygote = None


_shared: Engine | None = None
_shared_lock = threading.Lock()


def shared(*, models: bool = True) -> Engine:
    """The process's engine, started on first use. Call it early: before any course secret is read.

    `models=False` skips the rehearsal of torch's model paths (`grader.engine.rehearsal`): for a run
    that grades only exercises whose modules never import torch (it would cost more than it saves).
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Engine(models=models)
            atexit.register(_shared.close)
        return _shared


def _load_libraries(*, models: bool) -> None:
    """Import what every judge needs, once, single-threaded, so that forking is safe and cheap; with
    `models`, also rehearse what torch does lazily on a model's first use, for every fork to inherit."""
    os.environ.update(ONE_THREAD)
    import hypothesis  # noqa: F401
    import numpy  # noqa: F401
    import pytest  # noqa: F401
    import torch

    torch.set_num_threads(1)
    import hypothesis.strategies  # noqa: F401 - what the suites import, besides the grader's own modules
    import torch.nn.functional  # noqa: F401

    import grader.checks  # noqa: F401
    import grader.diagnosis  # noqa: F401
    import grader.engine.judge  # noqa: F401 - the grader's own code (no course data): plugin, sandbox, student
    import grader.probes.architectures  # noqa: F401
    import grader.probes.design  # noqa: F401
    import grader.probes.models  # noqa: F401

    if models:
        from grader.engine.rehearsal import rehearse_models

        rehearse_models()
    gc.collect()
    gc.freeze()  # before pytest's run: its session ends in five full collections, seconds over torch's objects
    _warm_pytest()
    gc.collect()
    gc.freeze()  # what is loaded now is permanent: judges' collections skip it and leave its pages shared


def _warm_pytest() -> None:
    """Run pytest once on an empty folder, as a judge runs it: its plugins (found through entry points,
    imported and configured) and its own lazily imported modules are then loaded for every judge."""
    import contextlib
    import io

    import pytest

    from grader.engine.judge import JUDGE_INI, PLUGINS, no_plugin_autoload

    with (
        tempfile.TemporaryDirectory(prefix="grader-warm-") as folder,
        no_plugin_autoload(),
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        pytest.main(
            [
                folder,
                "-c",
                str(JUDGE_INI),
                "--rootdir",
                folder,
                "-q",
                "-s",
                *PLUGINS,
                "-p",
                "no:cacheprovider",
                "--import-mode=importlib",
            ]
        )


def _start_zygote():
    """The zygote that forks every student process, forked from here while this process is still clean:
    libraries loaded, no course secret read, no judge forked yet."""
    from grader.engine.zygote import Zygote

    # The zygote keeps only fds 0-2: its students must print through them, not through objects a host
    # (pytest's capture, in the engine's tests) put in their place.
    replaced = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    try:
        return Zygote.fork_from_here()
    finally:
        sys.stdout, sys.stderr = replaced


# -- one judge ---------------------------------------------------------------------------------------


class _RunningJudge:
    """A forked judge: its pid, its two pipes (events, stderr), its deadline and its scratch folder."""

    def __init__(self, index: int, job: JudgeJob, engine: Engine):
        self.index = index
        self.job = job
        self.started = time.monotonic()
        self.deadline = self.started + job.time_limit
        self.scratch = tempfile.mkdtemp(prefix=f"grader-{job.label}-")
        self.events = bytearray()
        self.stderr = bytearray()
        self.killed = False
        self.status: int | None = None
        self.code: int | None = None
        self._keeper: socket.socket | None = None  # the judge server's keeper of this judge, if it forked it
        events_read, events_write = os.pipe()
        stderr_read, stderr_write = os.pipe()
        if threading.current_thread() is not threading.main_thread() and engine.server is not None:
            self.open = {events_read: self.events, stderr_read: self.stderr}
            self.pid = 0
            try:
                self._keeper = engine.server.start(job.request, self.scratch, events_write, stderr_write)
                self.pid = _keeper_message(self._keeper, timeout=60).get("pid", 0)
            finally:
                os.close(events_write)
                os.close(stderr_write)
                if not self.pid:  # no judge: nothing of it is left open
                    for fd in (events_read, stderr_read):
                        os.close(fd)
                    if self._keeper is not None:
                        self._keeper.close()
                    _remove(self.scratch)
            if not self.pid:
                raise OSError("the engine's judge server could not start a judge")
            return
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the judge
            os.close(events_read)
            os.close(stderr_read)
            _be_judge(job.request, events_write, stderr_write, self.scratch, engine)
        os.close(events_write)
        os.close(stderr_write)
        self.pid = pid
        self.open = {events_read: self.events, stderr_read: self.stderr}

    @property
    def done(self) -> bool:
        return self.status is not None

    def read(self, fd: int) -> None:
        chunk = os.read(fd, 1 << 16)
        if chunk:
            buffer = self.open[fd]
            if buffer is self.stderr:
                chunk = chunk[-_STDERR_KEPT:]
            buffer += chunk
            if buffer is self.stderr and len(buffer) > _STDERR_KEPT:
                del buffer[:-_STDERR_KEPT]
            return
        os.close(fd)
        del self.open[fd]
        if not self.open:
            self._reap()

    def kill(self) -> None:
        """The time limit: the judge's whole process group, then what it left open."""
        self.killed = True
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for fd in list(self.open):
            os.close(fd)
        self.open.clear()
        self._reap()

    def _reap(self) -> None:
        if self._keeper is not None:  # its keeper waits for it and says how it ended
            self.code = _keeper_message(self._keeper, timeout=None).get("exit", -signal.SIGKILL)
            self._keeper.close()
            self.status = 0
        else:
            _, status = os.waitpid(self.pid, 0)
            self.status = status
            self.code = os.waitstatus_to_exitcode(status)
        try:  # whatever of the group is still alive (a judge's children it did not end)
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def finish(self) -> JudgeOutcome:
        _remove(self.scratch)
        seconds = time.monotonic() - self.started
        events = _parse_events(bytes(self.events))
        if self.killed:
            return JudgeOutcome(
                events, f"grading stopped at the exercise's time limit ({self.job.time_limit:.0f} s)", seconds
            )
        code = self.code
        if code != 0:
            tail = self.stderr.decode("utf-8", errors="replace").strip().splitlines()[-5:]
            return JudgeOutcome(events, "the grader failed: " + (" | ".join(tail) or f"exit code {code}"), seconds)
        return JudgeOutcome(events, None, seconds)


def _pump(running: list[_RunningJudge]) -> None:
    """Read what the judges sent; kill those past their deadline."""
    now = time.monotonic()
    for judge in running:
        if not judge.done and now >= judge.deadline:
            judge.kill()
    fds = {fd: judge for judge in running if not judge.done for fd in judge.open}
    if not fds:
        return
    timeout = max(0.0, min(j.deadline for j in running if not j.done) - now)
    ready, _, _ = select.select(list(fds), [], [], timeout)
    for fd in ready:
        judge = fds[fd]
        if fd in judge.open:
            judge.read(fd)


def _parse_events(data: bytes) -> list[dict]:
    events = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            break  # killed mid-line: keep what is whole
    return events


def _remove(folder: str) -> None:
    """Remove a judge's scratch folder; a student process still dying may hold it a moment longer."""
    for _ in range(50):
        shutil.rmtree(folder, ignore_errors=True)
        if not os.path.exists(folder):
            return
        time.sleep(0.02)


def _be_judge(request: dict, events_fd: int, stderr_fd: int, scratch: str, engine: Engine) -> None:
    """In the forked child: become a judge (a session of its own), run the exercise, exit. Never returns."""
    code = 1
    try:
        gc.freeze()  # the parent's heap is permanent here: collections skip it, its pages stay shared
        os.setsid()
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(number, signal.SIG_DFL if number != signal.SIGPIPE else signal.SIG_IGN)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)  # pytest's own chatter is not feedback: the pipe carries the results
        os.dup2(stderr_fd, 2)
        os.close(stderr_fd)
        sys.stdin = open(os.devnull, encoding="utf-8")  # not the parent's objects (a test run captures them)
        sys.stdout = open(os.devnull, "w", encoding="utf-8")
        sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)
        sys.dont_write_bytecode = True  # as the judges' PYTHONDONTWRITEBYTECODE: no caches in the course
        tempfile.tempdir = scratch  # every temporary folder of this judge: removed with `scratch`
        os.environ["TMPDIR"] = scratch
        _reseed_torch()
        from grader.engine.jail import make_undumpable
        from grader.engine.judge import run_judge

        make_undumpable()  # student code runs as our user: keep it out of our memory and /proc entries
        code = run_judge(request, pipe_emitter(events_fd), zygote=engine.zygote)
    except SystemExit as end:
        code = end.code if isinstance(end.code, int) else 1
    except BaseException:  # noqa: BLE001 - said on stderr, which the engine reports
        traceback.print_exc()
    finally:
        exit_flushed(code)


class _JudgeServer:
    """A process forked from the engine at its start, while it runs no other thread, that forks judges on request.

    A fork in a process where other threads run copies whatever lock one of them holds at that moment (the
    allocator's, the import lock, a logging handler's), and the child waits for it forever. grade-all grades
    several submissions at once in threads; their judges are forked here instead, in a process that never
    starts a thread and holds nothing but what the engine had loaded. As in the zygote, each judge has a
    *keeper*, which reports its pid and its exit code on a status socket of the caller's, and kills the judge's
    group if the caller goes away; the caller kills the group itself at the time limit, as for its own judges.
    """

    def __init__(self, engine: Engine):
        self._channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            try:
                self._channel.close()
                _serve_judges(theirs, engine)
            finally:
                os._exit(0)
        theirs.close()
        self.pid = pid
        self._owner = os.getpid()

    def start(self, request: dict, scratch: str, events_fd: int, stderr_fd: int) -> socket.socket:
        """A judge for `request`, writing to the two pipe ends given (the caller closes them); its keeper's socket."""
        status, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            socket.send_fds(
                self._channel,
                [json.dumps({"request": request, "scratch": scratch}).encode()],
                [events_fd, stderr_fd, theirs.fileno()],
            )
        except OSError as error:
            status.close()
            raise OSError(f"the engine's judge server is gone ({error})") from None
        finally:
            theirs.close()
        return status

    def close(self) -> None:
        self._channel.close()  # the server ends once no process holds the channel
        if os.getpid() != self._owner:
            return
        deadline = time.monotonic() + 5
        try:
            while os.waitpid(self.pid, os.WNOHANG)[0] == 0:
                if time.monotonic() > deadline:  # a judge forked here still holds the channel: end it anyway
                    os.kill(self.pid, signal.SIGKILL)
                    os.waitpid(self.pid, 0)
                    return
                time.sleep(0.01)
        except ChildProcessError:
            pass


def _serve_judges(channel: socket.socket, engine: Engine) -> None:
    """The judge server's loop: a keeper per request, until the engine closes the channel."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # keepers are reaped by the kernel
    for number in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C is the engine's to handle: it closes the channel
        signal.signal(number, signal.SIG_IGN)

    def keep(job: dict, fds: list[int]) -> None:
        channel.close()
        _keep_judge(job, fds, engine)

    serve_forks(channel, keep, max_bytes=1 << 20, max_fds=3)


def _keep_judge(job: dict, fds: list[int], engine: Engine) -> None:
    """A judge's keeper: fork it, report its pid, wait for it (or for its caller to go), report its exit code."""
    code = 0
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        events_fd, stderr_fd, status_fd = fds
        status = socket.socket(fileno=status_fd)
        pid = os.fork()
        if pid == 0:
            status.close()
            _be_judge(job["request"], events_fd, stderr_fd, job["scratch"], engine)
        os.close(events_fd)
        os.close(stderr_fd)
        status.send(json.dumps({"pid": pid}).encode())
        pidfd = os.pidfd_open(pid)
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        poller.register(status, select.POLLIN)
        while True:
            events = dict(poller.poll())
            if status.fileno() in events and pidfd not in events:  # the caller is gone: so is its judge
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            if events:
                _, waited = os.waitpid(pid, 0)
                break
        try:
            status.send(json.dumps({"exit": os.waitstatus_to_exitcode(waited)}).encode())
        except OSError:
            pass
    except BaseException:  # noqa: BLE001 - the caller sees its status socket close
        code = 1
    finally:
        os._exit(code)


def _keeper_message(status: socket.socket, *, timeout: float | None) -> dict:
    """The keeper's next message; {} when it is gone (or said nothing within `timeout`)."""
    ready, _, _ = select.select([status], [], [], timeout)
    if not ready:
        return {}
    try:
        data = status.recv(4096)
    except OSError:
        data = b""
    return json.loads(data) if data else {}


@dataclasses.dataclass
class ForkedJudge:
    """A judge forked by `fork_judge`: what a caller that supervises it itself needs (pid, exit code)."""

    pid: int
    returncode: int | None = None


def fork_judge(work: Callable[[], int], stderr_fd: int) -> ForkedJudge:
    """Fork a judge from the shared engine that runs `work()` (its exit code) in a session of its own,
    stdout to /dev/null and stderr to `stderr_fd`; the caller reaps it and kills its group at its limit.
    (`grader check` supervises its judges this way, reading their events from files.)"""
    shared()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid != 0:
        return ForkedJudge(pid)
    code = 1
    try:
        gc.freeze()
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(stderr_fd, 2)
        sys.stdout = open(os.devnull, "w", encoding="utf-8")
        sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)
        sys.dont_write_bytecode = True
        _reseed_torch()
        code = work()
    except SystemExit as end:
        code = end.code if isinstance(end.code, int) else 1
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(code)


def _reseed_torch() -> None:
    """A fresh interpreter seeds torch's generator from the OS: so does each judge (no state shared with
    the parent or a sibling; a suite that wants fixed random numbers seeds them itself, as today)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.seed()


def pipe_emitter(fd: int) -> Callable[[dict], None]:
    """Events as JSON lines on a pipe the engine reads (a student's process holds no end of it)."""
    os.set_inheritable(fd, False)
    stream = os.fdopen(fd, "w", encoding="utf-8")

    def emit(event: dict) -> None:
        stream.write(json.dumps(event) + "\n")
        stream.flush()

    return emit
