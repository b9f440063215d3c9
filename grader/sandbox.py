"""The judge's handle on the student's process: start it, limit it, ask it, kill it.

One `StudentProcess` per exercise runs the submission's module (see `worker`).
Every request has a deadline; past it the whole process group is killed and
the next request starts a fresh process, so one hanging call costs one test.
What the student prints goes to a pipe drained here and kept to a bounded size.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from grader import wire

#: Environment for student code: one thread per library, so two graders on two cores do not fight.
_QUIET_THREADS = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


class StudentTimeout(BaseException):
    """The student's code did not answer in time. A BaseException: no shrinking, no retry."""

    def __init__(self, seconds: float):
        super().__init__(f"no answer within {seconds:.0f} s")
        self.seconds = seconds


class StudentCrashed(Exception):
    """The process running student code ended while answering."""

    def __init__(self, how: str):
        super().__init__(how)
        self.how = how


class OutputCapture:
    """Keeps the first `limit` bytes a student prints and counts the rest."""

    def __init__(self, limit: int):
        self.limit = limit
        self.kept = bytearray()
        self.dropped = 0
        self._lock = threading.Lock()

    def drain(self, fd: int) -> None:
        with os.fdopen(fd, "rb", buffering=0) as stream:
            while chunk := stream.read(65536):
                with self._lock:
                    room = self.limit - len(self.kept)
                    self.kept += chunk[:max(room, 0)]
                    self.dropped += max(len(chunk) - max(room, 0), 0)

    def text(self) -> str:
        with self._lock:
            text = self.kept.decode("utf-8", errors="replace")
            if self.dropped:
                text += f"\n... ({self.dropped} more bytes of output cut)"
            return text


class StudentProcess:
    """A worker process for one submission module, restarted after a crash or timeout."""

    def __init__(self, submission: Path, *, forbidden: tuple[str, ...] = (), memory_mb: int = 3072,
                 output_limit: int = 16384, hide: tuple[Path, ...] = (), read_only: tuple[Path, ...] = ()):
        self.submission = Path(submission).resolve()
        self.forbidden = forbidden
        self.memory_mb = memory_mb
        self.hide = hide
        self.read_only = read_only
        self.confinement: str | None = None   #: why the worker runs unconfined, if it does
        self.output = OutputCapture(output_limit)
        self._process: subprocess.Popen | None = None
        self._requests = None
        self._replies = None
        self.restarts = 0

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        output_read, output_write = os.pipe()
        command = [sys.executable, "-I", "-m", "grader.worker", str(self._private_copy()),
                   "--requests", str(request_read), "--replies", str(reply_write),
                   "--memory-mb", str(self.memory_mb)]
        command += [arg for name in self.forbidden for arg in ("--forbid", name)]
        command += [arg for path in self.hide for arg in ("--hide", str(path))]
        command += [arg for path in self.read_only for arg in ("--read-only", str(path))]
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output_write, stderr=output_write,
            pass_fds=(request_read, reply_write), start_new_session=True,
            cwd=self._scratch_dir(), env=self._environment(),
        )
        for fd in (request_read, reply_write, output_write):
            os.close(fd)
        self._requests = os.fdopen(request_write, "wb")
        self._replies = os.fdopen(reply_read, "rb")
        threading.Thread(target=self.output.drain, args=(output_read,), daemon=True).start()
        self._read_greeting()

    def _read_greeting(self) -> None:
        """The worker's first word says whether it could confine itself (before any student code)."""
        ready, _, _ = select.select([self._replies], [], [], 60)
        if not ready:
            self.kill()
            raise StudentCrashed("did not start within 60 s")
        try:
            greeting = wire.read_message(self._replies)
        except EOFError:
            raise StudentCrashed(self._how_it_ended()) from None
        self.confinement = None if greeting.get("confined") else greeting.get("why", "unknown reason")

    def request(self, message: dict, *, timeout: float) -> dict:
        """Send one request and wait for its reply, at most `timeout` seconds."""
        if not self.running:
            if self._process is not None:
                self.restarts += 1
            self.start()
        started = time.monotonic()
        try:
            wire.send_message(self._requests, message)
        except (BrokenPipeError, OSError):
            raise StudentCrashed(self._how_it_ended()) from None
        ready, _, _ = select.select([self._replies], [], [], min(max(timeout, 0.0), 86400.0))
        if not ready:
            self.kill()
            raise StudentTimeout(time.monotonic() - started)
        try:
            return wire.read_message(self._replies)
        except EOFError:
            raise StudentCrashed(self._how_it_ended()) from None

    def kill(self) -> None:
        """Kill the worker and everything it started, also what left its process group."""
        if self._process is None:
            return
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._process.wait()
        kill_orphans()
        for stream in (self._requests, self._replies):
            try:
                stream.close()
            except OSError:
                pass

    def _how_it_ended(self) -> str:
        code = self._process.wait() if self._process else None
        self.kill()
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            if -code == signal.SIGKILL:
                return f"was killed ({name}): it may have used more than the memory limit of {self.memory_mb} MB"
            return f"was killed by signal {name}"
        return f"exited with code {code} (os._exit or a crash in native code)"

    def _environment(self) -> dict[str, str]:
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
        env = {key: os.environ[key] for key in keep if key in os.environ}
        return env | _QUIET_THREADS | {"PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
                                        "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg"}

    def _scratch_dir(self) -> str:
        if not hasattr(self, "_scratch"):
            self._scratch = tempfile.TemporaryDirectory(prefix="grader-student-")
        return self._scratch.name

    def _private_copy(self) -> Path:
        """A fresh copy of the submission for each worker: student code never touches the original."""
        copy = Path(self._scratch_dir()) / "submission"
        if copy.exists():
            shutil.rmtree(copy)
        shutil.copytree(self.submission, copy, symlinks=False,
                        ignore=shutil.ignore_patterns(".git", "__pycache__", ".hypothesis", ".ipynb_checkpoints"))
        return copy


PR_SET_CHILD_SUBREAPER = 36
_subreaper = False


def become_subreaper() -> None:
    """Make orphans of our descendants our children, so `kill_orphans` can find and end them.

    A student's process can leave its process group (setsid) and outlive the worker; as a
    subreaper, the judge inherits such processes instead of init.
    """
    import ctypes

    global _subreaper
    _subreaper = ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def kill_orphans() -> None:
    """Kill every child process of ours: called once the worker is dead, these are what it left behind.

    Only a subreaper (the judge, which starts no other processes) does anything here.
    """
    if not _subreaper:
        return
    for pid in _children_of(os.getpid()):
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


def _children_of(parent: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == parent:
                children.append(int(entry.name))
    return children
