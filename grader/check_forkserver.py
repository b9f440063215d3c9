"""Fresh student workers for the course check, forked from a process that has imported torch already.

A mutant is graded by a fresh worker, as a student's submission is; starting one
the ordinary way (`python -I -m grader.worker`) costs the import of numpy and, for
model exercises, of torch: about two seconds of CPU, more than most mutants take
to be killed. The check's judge starts one *fork server* per exercise instead,
`python -I -m grader.check_forkserver`, in the workers' environment (one thread
per library), which imports the libraries the reference imports and then, on
request, forks a child that runs `grader.worker.main` exactly as a started worker
would: its own session, the submission's private copy, the same pipes, limits and
confinement, all set up after the fork and before any student code. The server
never runs student code; it only forks.

`ForkedStudentProcess` is the judge's side: a `StudentProcess` whose `start`
asks the server for a child instead of starting a new interpreter.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import time

from grader.sandbox import StudentProcess


class ForkServer:
    """The judge's handle on the fork server (a child of the judge, in the judge's process group)."""

    def __init__(self, modules: list[str], env: dict[str, str]):
        self.socket, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-m", "grader.check_forkserver", str(theirs.fileno()), *modules],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=env)
        theirs.close()

    def fork(self, argv: list[str], fds: list[int], cwd: str) -> int:
        """A new worker running `grader.worker` with `argv` (fd numbers as `{0}`, `{1}`); its pid."""
        socket.send_fds(self.socket, [json.dumps({"argv": argv, "cwd": cwd}).encode()], fds)
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = self.socket.recv(4096)
            if not chunk:
                raise OSError("the fork server ended")
            reply += chunk
        return json.loads(reply)["pid"]

    def close(self) -> None:
        """End the server once it has reaped its workers (all killed by then)."""
        self.socket.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class ForkedChild:
    """What `StudentProcess` needs of a `subprocess.Popen`, for a child of the fork server."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and not _alive(self.pid):
            self.returncode = -signal.SIGKILL   # the server reaps its children: how one ended is not known here
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        while self.poll() is None:
            time.sleep(0.005)
        return self.returncode


class ForkedStudentProcess(StudentProcess):
    """A `StudentProcess` whose worker is forked by a `ForkServer`."""

    server: ForkServer | None = None

    def start(self) -> None:
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        output_read, output_write = os.pipe()
        argv = [str(self._private_copy()), "--requests", "{0}", "--replies", "{1}", "--memory-mb", str(self.memory_mb)]
        argv += [arg for name in self.forbidden for arg in ("--forbid", name)]
        argv += [arg for path in self.hide for arg in ("--hide", str(path))]
        argv += [arg for path in self.read_only for arg in ("--read-only", str(path))]
        self._process = ForkedChild(self.server.fork(argv, [request_read, reply_write, output_write],
                                                     self._scratch_dir()))
        for fd in (request_read, reply_write, output_write):
            os.close(fd)
        self._requests = os.fdopen(request_write, "wb")
        self._replies = os.fdopen(reply_read, "rb")
        import threading

        threading.Thread(target=self.output.drain, args=(output_read,), daemon=True).start()
        self._read_greeting()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stream:
            return stream.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


# -- the server -------------------------------------------------------------------

def serve(channel: socket.socket, modules: list[str]) -> None:
    for name in modules:   # what every worker would import first: loaded once, here
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S110 - a module that does not import here is imported (or not) by the worker
            pass
    while True:
        _reap(block=False)   # ended workers: reaped here, so their CPU time counts in the judge's
        message, fds, _, _ = socket.recv_fds(channel, 1 << 20, 3)
        if not message:
            _reap(block=True)
            return
        request = json.loads(message)
        pid = os.fork()
        if pid == 0:
            _become_worker(channel, request, fds)
        for fd in fds:
            os.close(fd)
        channel.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def _reap(*, block: bool) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _become_worker(channel: socket.socket, request: dict, fds: list[int]) -> None:
    """In the forked child: the worker's start, as `StudentProcess.start` would have made it."""
    code = 1
    try:
        channel.close()
        os.setsid()
        os.dup2(fds[2], 1)
        os.dup2(fds[2], 2)
        os.close(fds[2])
        os.chdir(request["cwd"])
        from grader import worker

        numbers = {"{0}": str(fds[0]), "{1}": str(fds[1])}
        sys.argv = ["grader.worker", *(numbers.get(arg, arg) for arg in request["argv"])]
        worker.main()
        code = 0
    except SystemExit as end:
        code = end.code if isinstance(end.code, int) else 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    from grader.confinement import make_undumpable

    make_undumpable()   # workers run as our user: keep them out of this process's memory
    channel = socket.socket(fileno=int(sys.argv[1]))
    serve(channel, sys.argv[2:])


if __name__ == "__main__":
    main()
