"""The zygote: the one way a student process starts, forked into its jail from a process that has imported torch.

Starting a worker as a new interpreter costs the import of numpy and, for model exercises, of
torch: about two seconds of CPU. The zygote imports them (and the worker's own modules, the
probes included) once, and then does nothing but fork, on request, a jailed worker:

    zygote ── fork ──> keeper ── (unshare user, mount, PID, network) ── fork ──> worker (PID 1)

- The *keeper* lives in the zygote's PID namespace, in a session of its own. It reports the
  worker's pid and, when the worker ends, its exit status, on a private status socket of the
  client's; a byte on that socket, or the client going away (the judge killed at its time
  limit), makes it kill the worker. When the worker, PID 1 of its namespace, dies, the kernel
  kills every process left in the namespace.
- The *worker* builds its jail (`grader.engine.jail.build`: a new root with only the allowlist and a
  private copy of the submission), sets its limits, and answers the judge's requests
  (`grader.engine.worker.serve`).

Where the kernel refuses namespaces (`jail.probe`, once per zygote), the worker runs without
the jail, on a private copy in a temporary folder that the keeper removes; the keeper is then
a subreaper that kills whatever the worker left behind. The greeting says why.

The zygote never holds a course secret: it is started (`start_fresh`) or forked
(`fork_from_here`) before any solution, hidden suite or other student's file is loaded. Requests
arrive on a SOCK_SEQPACKET socket that several clients may share (judges forked from one warm
engine): each request is one datagram carrying its own file descriptors and the client's private
status socket, so concurrent requests never interleave.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import pkgutil
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.engine.forkserver import exit_flushed, serve_forks
from grader.engine.jail import SIMULATE_REFUSAL

#: What a zygote imports before serving, unless told otherwise.
DEFAULT_PRELOAD = ("numpy", "torch")


class Zygote:
    """A handle on a zygote process; shared by every process that inherits it."""

    def __init__(self, channel: socket.socket, *, pid: int, process: subprocess.Popen | None = None):
        self._channel = channel
        self.pid = pid
        self._process = process
        self._owner = os.getpid()

    @classmethod
    def fork_from_here(cls) -> Zygote:
        """Fork the zygote from this process, which has imported numpy/torch and holds no course secret yet."""
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            try:
                mine.close()
                _close_fds_except({0, 1, 2, theirs.fileno()})
                preload(())
                serve(theirs)
            finally:
                os._exit(0)
        theirs.close()
        return cls(mine, pid=pid)._ready()

    @classmethod
    def start_fresh(cls, preload: tuple[str, ...] = DEFAULT_PRELOAD) -> Zygote:
        """Start the zygote as a new interpreter (`python -I -m grader.engine.zygote`), importing `preload`."""
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = student_environment() | {k: v for k, v in os.environ.items() if k == SIMULATE_REFUSAL}
        process = subprocess.Popen(
            [sys.executable, "-I", "-m", "grader.engine.zygote", str(theirs.fileno()), *preload],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            env=env,
        )
        theirs.close()
        return cls(mine, pid=process.pid, process=process)._ready()

    def _ready(self) -> Zygote:
        """Wait for the zygote's first word: its imports done, so that no test's time pays for them."""
        ready, _, _ = select.select([self._channel], [], [], 300)
        if not ready or self._channel.recv(16) != b"ready":
            self.close()
            raise OSError("the zygote did not start")
        return self

    def spawn(
        self, *, submission: Path, forbidden: tuple[str, ...], memory_mb: int, requests: int, replies: int, output: int
    ) -> JailedWorker:
        """A new jailed worker for `submission`, talking on the three given pipe ends (which the caller closes)."""
        status, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        request = {
            "submission": str(submission),
            "forbidden": list(forbidden),
            "memory_mb": memory_mb,
            "env": student_environment(),
            "tmpdir": tempfile.gettempdir(),
            "simulate_refusal": bool(os.environ.get(SIMULATE_REFUSAL)),
        }  # the judge's, for tests
        try:
            socket.send_fds(self._channel, [json.dumps(request).encode()], [requests, replies, output, theirs.fileno()])
        except OSError as error:
            status.close()
            raise OSError(f"the zygote is gone ({error})") from None
        finally:
            theirs.close()
        return JailedWorker(status)

    def close(self) -> None:
        """Stop serving (the zygote ends once no process holds the handle); wait for it if it is ours."""
        self._channel.close()
        if os.getpid() != self._owner:
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self._reaped():
                return
            time.sleep(0.01)
        try:
            os.kill(self.pid, signal.SIGKILL)  # its keepers live on, each tied to its client
        except ProcessLookupError:
            pass
        while not self._reaped():
            time.sleep(0.01)

    def _reaped(self) -> bool:
        if self._process is not None:
            return self._process.poll() is not None
        try:
            return os.waitpid(self.pid, os.WNOHANG)[0] != 0
        except ChildProcessError:
            return True


class JailedWorker:
    """The client's view of one worker, through its keeper's status socket (what `StudentProcess` needs of a Popen)."""

    def __init__(self, status: socket.socket):
        self._status = status
        self.returncode: int | None = None
        first = self._receive(timeout=60)
        self.pid = first.get("pid", 0) if first else 0
        if first is None or "exit" in first:
            self.returncode = first.get("exit", -signal.SIGKILL) if first else -signal.SIGKILL

    def poll(self) -> int | None:
        if self.returncode is None:
            message = self._receive(timeout=0)
            if message is not None:
                self.returncode = message.get("exit", -signal.SIGKILL)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            message = self._receive(timeout=timeout)
            if message is None:
                raise subprocess.TimeoutExpired("worker", timeout)
            self.returncode = message.get("exit", -signal.SIGKILL)
        return self.returncode

    def kill(self) -> None:
        """Kill the worker, and with it its PID namespace; return once the keeper says it is gone."""
        if self.returncode is None:
            try:
                self._status.send(b"kill")
            except OSError:
                pass
            self.wait()
        self._status.close()

    def _receive(self, *, timeout: float | None) -> dict | None:
        """The keeper's next message; {} when the keeper is gone; None when nothing came within `timeout`."""
        if self._status.fileno() < 0:
            return {}
        ready, _, _ = select.select([self._status], [], [], timeout)
        if not ready:
            return None
        try:
            data = self._status.recv(4096)
        except OSError:
            data = b""
        return json.loads(data) if data else {}


#: Library threads: one each, so that graders on several cores do not fight over them.
_QUIET_THREADS = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def student_environment() -> dict[str, str]:
    """The environment of the zygote and of student code: the locale, PATH, one thread per library."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")  # HOME, TMPDIR: replaced in the jail
    env = {key: os.environ[key] for key in keep if key in os.environ}
    return (
        env
        | _QUIET_THREADS
        | {"PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg"}
    )


# -- the server -------------------------------------------------------------------


def preload(modules: tuple[str, ...]) -> None:
    """Import `modules`, then what every worker runs: the worker, the jail, the probes (those torch allows)."""
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S110 - a module that does not import here is imported (or not) by the worker
            pass
    import grader.engine.copying
    import grader.engine.jail
    import grader.engine.worker
    import grader.probes

    if "torch" in sys.modules:
        import grader.engine.dispatch_guard

        grader.engine.dispatch_guard.warm_up()
        for family in pkgutil.iter_modules(grader.probes.__path__):
            importlib.import_module(f"grader.probes.{family.name}")


def _forget_modules_outside(folders: list[str]) -> None:
    """Drop every loaded module whose file the jail would not show (a course's, a suite's, a test's).

    The zygote is forked before any course module is loaded; this makes sure of it by construction:
    a student's `import conv` can never be answered from a module the forking process had loaded.
    """
    roots = tuple(folder.rstrip("/") + "/" for folder in folders)
    real_folders: dict[str, str] = {}  # realpath per folder, not per file: 1,500 modules in a few hundred folders

    def real(file: str) -> str:
        if os.path.islink(file):
            return os.path.realpath(file)
        folder, name = os.path.split(file)
        if folder not in real_folders:
            real_folders[folder] = os.path.realpath(folder)
        return os.path.join(real_folders[folder], name)

    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and not real(file).startswith(roots):
            del sys.modules[name]


def serve(channel: socket.socket) -> None:
    """Fork a keeper for each request until every client has closed the channel."""
    from grader.engine import jail

    refused = jail.probe()
    folders = jail.allowlist()
    _forget_modules_outside(folders)
    gc.collect()
    gc.freeze()  # every worker's collections skip what the zygote loaded, and leave those pages shared
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # keepers are reaped by the kernel
    channel.send(b"ready")

    def keep(request: dict, fds: list[int]) -> None:
        simulated = f"user namespaces refused ({SIMULATE_REFUSAL} is set)" if request.get("simulate_refusal") else None
        _keep(channel, request, fds, folders, refused or simulated)

    serve_forks(channel, keep, max_bytes=1 << 16, max_fds=8)


def _keep(channel: socket.socket, request: dict, fds: list[int], folders: list[str], refused: str | None) -> None:
    """The keeper: enter the namespaces, fork the worker, report its pid and its end; kill it on request."""
    from grader.engine import jail

    code = 0
    try:
        channel.close()
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        requests, replies, output, status_fd = fds
        status = socket.socket(fileno=status_fd)
        scratch = None
        if refused is None:
            jail.enter_namespaces()
        else:
            scratch = tempfile.mkdtemp(prefix="grader-student-", dir=request.get("tmpdir"))
            jail.become_subreaper()
        pid = os.fork()
        if pid == 0:
            status.close()
            _work(request, requests, replies, output, folders, refused, scratch)
        for fd in (requests, replies, output):
            os.close(fd)
        status.send(json.dumps({"pid": pid}).encode())
        exit_code = _watch(pid, status)
        if scratch is not None:
            _kill_children()
            shutil.rmtree(scratch, ignore_errors=True)
        try:
            status.send(json.dumps({"exit": exit_code}).encode())
        except OSError:
            pass
    except BaseException:  # noqa: BLE001 - the client sees its status socket close
        code = 1
    finally:
        os._exit(code)


def _watch(pid: int, status: socket.socket) -> int:
    """Wait for the worker to end, or for the client to ask for its end (or to vanish); its exit code."""
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    poller.register(status, select.POLLIN)
    while True:
        events = dict(poller.poll())
        if status.fileno() in events and pidfd not in events:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        if events:
            _, code = os.waitpid(pid, 0)
            os.close(pidfd)
            return os.waitstatus_to_exitcode(code)


def _kill_children() -> None:
    """The unconfined fallback: as a subreaper we inherited what the worker left running; end it all."""
    while True:
        for child in _children_of(os.getpid()):
            for kill in (os.killpg, os.kill):
                try:
                    kill(child, signal.SIGKILL)
                except OSError:
                    pass
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


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


def _work(
    request: dict,
    requests: int,
    replies: int,
    output: int,
    folders: list[str],
    refused: str | None,
    scratch: str | None,
) -> None:
    """The worker: the jail (or the fallback's private copy), the limits, then the requests."""
    from grader.engine import jail, worker
    from grader.engine.copying import RefusedSubmission, copy_submission

    code = 1
    try:
        jail.die_with_parent()
        for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM):
            signal.signal(number, signal.SIG_DFL)  # whatever the process the zygote was forked from had set
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.dup2(output, 1)
        os.dup2(output, 2)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        _close_fds_except({0, 1, 2, requests, replies})
        os.environ.clear()
        os.environ.update(request["env"])
        greeting: dict = {"ready": True, "confined": refused is None}
        try:
            if refused is None:
                jail.build(request["submission"], folders)
                submission = Path(jail.SUBMISSION)
                os.environ.update(HOME=jail.HOME, TMPDIR="/tmp")
            else:
                submission = Path(scratch) / "submission"
                copy_submission(request["submission"], submission)
                home = Path(scratch) / "home"
                home.mkdir()
                os.chdir(home)
                os.environ.update(HOME=str(home), TMPDIR=str(home))
                greeting["why"] = refused
        except RefusedSubmission as error:
            greeting = {"ready": False, "refused": str(error)}
        except OSError as error:
            greeting = {"ready": False, "error": f"could not build its jail: {error}"}
        if not greeting["ready"]:
            with os.fdopen(replies, "wb") as stream:
                from grader.engine import wire

                wire.send_message(stream, greeting)
            code = 0
            return
        memory = request["memory_mb"] * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(1)
        worker.serve(requests, replies, submission, request["forbidden"], greeting)
        code = 0
    except SystemExit as end:
        code = end.code if isinstance(end.code, int) else 1
    except BaseException:  # noqa: BLE001 - say what broke, on the output the judge keeps
        import traceback

        traceback.print_exc()
    finally:
        exit_flushed(code)


def _close_fds_except(keep: set[int]) -> None:
    """Close every inherited descriptor but `keep`: the zygote holds none of the course's files."""
    low = 0
    for fd in sorted(keep | {-1}):
        if fd > low:
            os.closerange(low, fd)
        low = max(low, fd + 1)
    os.closerange(low, resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def main() -> None:
    channel = socket.socket(fileno=int(sys.argv[1]))
    _close_fds_except({0, 1, 2, channel.fileno()})
    modules = tuple(sys.argv[2:])
    preload(modules)
    if builds_models(modules):  # a zygote of its own (the course check's): rehearsed as the engine's is
        from grader.engine.rehearsal import rehearse_models

        rehearse_models()
    serve(channel)


def builds_models(modules: tuple[str, ...]) -> bool:
    """Whether a zygote asked to preload `modules` (what a reference imports) serves model exercises:
    `torch.nn` is among them. Numpy exercises, and torch preloaded only to be forbidden, need no rehearsal."""
    return any(name == "torch.nn" or name.startswith(("torch.nn.", "torch.optim")) for name in modules)


if __name__ == "__main__":
    main()
