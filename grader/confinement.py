"""Confining the worker before student code runs: hidden files, a read-only course, no privileges.

Linux only, through the kernel's own mechanisms rather than a container runtime:

1. a private mount namespace (inside a new user namespace when not root), so that
   nothing mounted here is seen by any other process;
2. empty tmpfs mounts over what the student must not read (reference/, hidden suites,
   the judge's scratch folder), and /dev/null over single files;
3. read-only bind mounts over what the student must not change (the course, the Python
   installation);
4. every capability dropped and no_new_privs set, so the student cannot undo 2 and 3.

Where the kernel refuses (a container without the rights to make namespaces), the worker
runs unconfined and says so; the time and memory limits and the process boundary still hold.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP, PR_SET_DUMPABLE = 38, 24, 4
_LAST_CAPABILITY = 63

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


class ConfinementError(OSError):
    pass


def confine(*, hide: list[str], read_only: list[str]) -> None:
    """Hide `hide`, freeze `read_only`, then give up the power to change either.

    Raises ConfinementError when the kernel refuses a step; by then nothing of the
    student's has run, so the caller may carry on unconfined.
    """
    _enter_private_mount_namespace()
    for path in read_only:
        if os.path.exists(path):
            _bind_read_only(path)
    for path in hide:
        if os.path.isdir(path):
            _mount(b"tmpfs", path, b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, b"size=4k,mode=0555")
        elif os.path.exists(path):
            _mount(b"/dev/null", path, None, MS_BIND, None)
    _drop_capabilities()


def make_undumpable() -> None:
    """Keep same-user processes (student code) out of this process's memory and /proc entries."""
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _enter_private_mount_namespace() -> None:
    if os.geteuid() == 0:
        _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    else:
        uid, gid = os.geteuid(), os.getegid()
        _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare(CLONE_NEWUSER | CLONE_NEWNS)")
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
        Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)  # our mounts stay ours


def _bind_read_only(path: str) -> None:
    _mount(path, path, None, MS_BIND | MS_REC, None)
    _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY, None)


def _drop_capabilities() -> None:
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    for capability in range(_LAST_CAPABILITY + 1):
        _libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)  # fails harmlessly past the kernel's last one

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (Data * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def _mount(source, target, fstype, flags, options) -> None:
    encode = (lambda s: s if s is None or isinstance(s, bytes) else os.fsencode(s))
    result = _libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(options))
    _check(result, f"mount {target}")


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise ConfinementError(errno, f"{what}: {os.strerror(errno)}")
