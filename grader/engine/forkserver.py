"""The loop of a fork server: how the judge server and the zygote start each child they keep.

Both are long-lived processes forked before any thread exists; a client sends a request (JSON)
with the descriptors its child needs, the server forks a keeper for it and closes its own copies
of those descriptors. A keeper never returns: it ends its process with `os._exit`.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from typing import Callable, NoReturn


def serve_forks(
    channel: socket.socket, keep: Callable[[dict, list[int]], None], *, max_bytes: int, max_fds: int
) -> None:
    """Until every client has closed `channel`: for each request, fork and run `keep(request, fds)` in the child."""
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(channel, max_bytes, max_fds)
        except InterruptedError:
            continue
        if not message:
            return
        try:
            pid = os.fork()
        except OSError:
            pid = -1  # the client sees its status socket close: nothing started
        if pid == 0:
            keep(json.loads(message), fds)
        for fd in fds:
            os.close(fd)


def exit_flushed(code: int) -> NoReturn:
    """End a forked child: its buffered output written out, then `os._exit` (no exit handlers of the parent's)."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)
