"""A throwaway PostgreSQL server for the gradebook's tests: installed if allowed, started in a temp folder.

The server listens on 127.0.0.1 on a free port, with trust authentication for the user
`grader`, and is removed when the tests end. Where PostgreSQL is not installed, it is
installed with apt-get only when allowed (CI=true or GRADER_INSTALL_POSTGRES=1, as root);
otherwise the tests that need it are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


class Unavailable(Exception):
    """No server can be had here; the message says why and what would fix it."""


def _binaries() -> Path | None:
    candidates = [os.path.dirname(p) for p in (shutil.which("pg_ctl"),) if p]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    for folder in candidates:
        if (Path(folder) / "pg_ctl").exists() and (Path(folder) / "initdb").exists():
            return Path(folder)
    return None


def _install() -> None:
    allowed = os.environ.get("CI") == "true" or os.environ.get("GRADER_INSTALL_POSTGRES") == "1"
    if not allowed:
        raise Unavailable(
            "PostgreSQL is not installed: apt-get install postgresql, or set "
            "GRADER_INSTALL_POSTGRES=1 to let the test install it (CI does)"
        )
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise Unavailable("PostgreSQL is not installed and cannot be: installing needs root and apt-get")
    # One installer at a time, also across pytest-xdist workers.
    with open(Path(tempfile.gettempdir()) / "grader-postgres-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _binaries() is not None:
            return
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "postgresql"]):
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
            if done.returncode != 0:
                raise Unavailable(f"{' '.join(command)} failed: {done.stderr.strip()[-500:]}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yield the SQLAlchemy URL of a fresh server's `postgres` database."""
    binaries = _binaries()
    if binaries is None:
        _install()
        binaries = _binaries()
    if binaries is None:
        raise Unavailable("PostgreSQL's pg_ctl and initdb were not found after installing")
    home = Path(tempfile.mkdtemp(prefix="grader-pg-"))
    as_owner: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: run the server as the postgres user
        shutil.chown(home, "postgres", "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    data, port = home / "data", _free_port()
    try:
        _run(
            "initdb",
            as_owner + [str(binaries / "initdb"), "-D", str(data), "-U", "grader", "--auth=trust", "-E", "UTF8"],
        )
        _run(
            "starting the server",
            as_owner
            + [
                str(binaries / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(home / "server.log"),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off",
                "start",
            ],
            log=home / "server.log",
        )
        yield f"postgresql+psycopg://grader@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            as_owner + [str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(home, ignore_errors=True)


def _run(what: str, command: list[str], *, log: Path | None = None) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        detail = log.read_text(errors="replace") if log and log.exists() else done.stderr
        raise Unavailable(f"PostgreSQL: {what} failed: {detail.strip()[-800:]}")
