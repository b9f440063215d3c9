"""The judge's handle on the student's process: start it, limit it, ask it, kill it.

One `StudentProcess` per exercise runs the submission's module (see `worker`), in a jail
forked by a zygote (see `zygote` and `jail`): a root holding only the Python installation
and a private copy of the submission, a PID namespace of its own, no network. Every
request has a deadline; past it the worker is killed, and with it every process it
started, and the next request starts a fresh worker, so one hanging call costs one test.
What the student prints goes to a pipe drained here and kept to a bounded size.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from pathlib import Path

from grader.engine import wire
from grader.engine.zygote import DEFAULT_PRELOAD, JailedWorker, Zygote


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
                    self.kept += chunk[: max(room, 0)]
                    self.dropped += max(len(chunk) - max(room, 0), 0)

    def text(self) -> str:
        with self._lock:
            text = self.kept.decode("utf-8", errors="replace")
            if self.dropped:
                text += f"\n... ({self.dropped} more bytes of output cut)"
            return text


class SubmissionRefused(BaseException):
    """The submission cannot be run at all (a symbolic link in it): every test says why."""


class StudentProcess:
    """A jailed worker for one submission module, restarted after a crash or timeout.

    `zygote` forks the workers; with None, one is started on first use (importing `preload`)
    and ended by `close`.
    """

    def __init__(
        self,
        submission: Path,
        *,
        forbidden: tuple[str, ...] = (),
        memory_mb: int = 3072,
        output_limit: int = 16384,
        zygote: Zygote | None = None,
        preload: tuple[str, ...] = DEFAULT_PRELOAD,
    ):
        self.submission = Path(submission).resolve()
        self.forbidden = forbidden
        self.memory_mb = memory_mb
        self.confinement: str | None = None  #: why the worker runs unconfined, if it does
        self.output = OutputCapture(output_limit)
        self._zygote = zygote
        self._own_zygote: Zygote | None = None
        self._preload = preload
        self._process: JailedWorker | None = None
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
        try:
            self._process = self.zygote().spawn(
                submission=self.submission,
                forbidden=self.forbidden,
                memory_mb=self.memory_mb,
                requests=request_read,
                replies=reply_write,
                output=output_write,
            )
        finally:
            for fd in (request_read, reply_write, output_write):
                os.close(fd)
        self._requests = os.fdopen(request_write, "wb")
        self._replies = os.fdopen(reply_read, "rb")
        threading.Thread(target=self.output.drain, args=(output_read,), daemon=True).start()
        self._read_greeting()

    def zygote(self) -> Zygote:
        """The zygote that forks this submission's workers, started now if it is ours and not yet started."""
        if self._zygote is not None:
            return self._zygote
        if self._own_zygote is None:
            self._own_zygote = Zygote.start_fresh(self._preload)
        return self._own_zygote

    def _read_greeting(self) -> None:
        """The worker's first word says whether it is jailed (or why not), before any student code."""
        ready, _, _ = select.select([self._replies], [], [], 60)
        if not ready:
            self.kill()
            raise StudentCrashed("did not start within 60 s")
        try:
            greeting = wire.read_message(self._replies)
        except EOFError:
            raise StudentCrashed(self._how_it_ended()) from None
        if "refused" in greeting:
            self.kill()
            raise SubmissionRefused(greeting["refused"])
        if "error" in greeting:
            self.kill()
            raise StudentCrashed(greeting["error"])
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
        """Kill the worker; its PID namespace, and so everything it started, ends with it."""
        if self._process is None:
            return
        self._process.kill()
        for stream in (self._requests, self._replies):
            try:
                stream.close()
            except (OSError, AttributeError):
                pass

    def close(self) -> None:
        """Kill the worker and end the zygote this process started, if it started one."""
        self.kill()
        if self._own_zygote is not None:
            self._own_zygote.close()
            self._own_zygote = None

    def _how_it_ended(self) -> str:
        code = self._process.wait() if self._process else None
        self.kill()
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            if -code == signal.SIGKILL:
                return f"was killed ({name}): it may have used more than the memory limit of {self.memory_mb} MB"
            return f"was killed by signal {name}"
        return f"exited with code {code} (os._exit or a crash in native code)"
