"""The jail: a root that holds only what student code may see, in namespaces of its own.

Linux only, through the kernel's own mechanisms rather than a container runtime. The
zygote's child (`grader.engine.zygote`) calls `enter_namespaces` (new user, mount, PID and
network namespaces), forks, and the child, PID 1 of the new PID namespace, calls `build`:

1. an empty tmpfs becomes the new root; only the allowlist is bind-mounted into it,
   read-only, at its real path: the Python installation and its packages, the grader's
   own package folder (never the course around it), the folders of the shared libraries;
2. a private copy of the submission (regular files only) at `/submission`, an empty
   size-limited tmpfs at `/tmp` and at `/home/student`, `/dev/null`, `/dev/zero`,
   `/dev/urandom`, and a `/proc` of the new PID namespace;
3. `pivot_root` into it and detach the old root: nothing else of the machine is reachable;
4. every capability dropped and no_new_privs set, so none of this can be undone.

When PID 1 ends, the kernel kills every process left in its namespace: whatever the
student's code started (double fork, setsid, ignored signals) ends with the worker. The
network namespace has no interface but a down loopback: no network.

Where the kernel refuses (no user namespaces, or AppArmor's restriction on Ubuntu 24.04),
`probe` says why and the worker runs unconfined (see `grader.engine.zygote`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import sys
from pathlib import Path

from grader.engine.copying import copy_submission

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
PR_SET_CHILD_SUBREAPER = 36
_LAST_CAPABILITY = 63
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 217, "arm64": 217}.get(platform.machine())

#: Where the submission's copy lives inside the jail, and the writable folders.
SUBMISSION = "/submission"
HOME = "/home/student"
#: tmpfs sizes: the root (holding the submission's copy), /tmp and the home folder.
_ROOT_SIZE, _TMP_SIZE, _HOME_SIZE = "96m", "64m", "16m"
#: The environment variable that makes `probe` report a refusal (to test the unconfined path).
SIMULATE_REFUSAL = "GRADER_JAIL_REFUSED"
_DEVICES = ("null", "zero", "urandom", "random")

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


class JailError(OSError):
    """The kernel refused a step of building the jail."""


# -- what the jail shows ------------------------------------------------------------


def allowlist() -> list[str]:
    """Folders student code may read: the Python installation, its packages, the shared libraries.

    Called in the zygote once it has imported what workers use, so that the folders of every
    library loaded so far (`/proc/self/maps`) are included. The grader's own package folder is
    included alone: with an editable install it sits inside the course, next to the solutions.
    """
    import site
    import sysconfig

    import grader

    folders = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        *site.getsitepackages(),
        sysconfig.get_paths()["stdlib"],
        sysconfig.get_paths()["platstdlib"],
        str(Path(grader.__file__).resolve().parent),
    }
    user_site = site.getusersitepackages()
    if site.ENABLE_USER_SITE and user_site:
        folders.add(user_site)
    folders.update(_library_folders())
    folders.update(
        p for p in ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/local/lib") if os.path.isdir(p)
    )
    real = {os.path.realpath(p) for p in folders if p and os.path.isdir(p)}
    return _outermost(real)


def _library_folders() -> set[str]:
    """The folders of every file mapped into this process (shared libraries: what dlopen needs)."""
    folders = set()
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
        for line in maps:
            path = line.split(maxsplit=5)[5].strip() if len(line.split(maxsplit=5)) == 6 else ""
            if path.startswith("/") and not path.endswith(" (deleted)") and not path.startswith(("/dev/", "/proc/")):
                folders.add(os.path.dirname(path))
    return folders


def _outermost(folders: set[str]) -> list[str]:
    """Drop folders inside another listed folder: binding the outer one shows them already."""
    ordered = sorted(folders, key=lambda p: (p.count("/"), p))
    kept: list[str] = []
    for folder in ordered:
        if not any(folder == k or folder.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(folder)
    return sorted(kept)


# -- whether the kernel lets us ----------------------------------------------------


def probe() -> str | None:
    """None when this machine can build the jail; otherwise why not (said in the report).

    Tried in a throwaway child: unshare every namespace, map our ids, mount a tmpfs. Some
    kernels let `unshare` succeed and refuse the mounts (AppArmor's unprivileged_userns
    profile), so the mount is part of the test.
    """
    if os.environ.get(SIMULATE_REFUSAL):
        return f"user namespaces refused ({SIMULATE_REFUSAL} is set)"
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        message = b""
        try:
            enter_namespaces()
            _mount(b"tmpfs", "/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, b"size=4k")
        except BaseException as error:  # noqa: BLE001 - anything here means "no jail"
            message = str(error).encode()[:500] or b"unknown error"
        os.write(write, message)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as stream:
        why = stream.read().decode(errors="replace")
    os.waitpid(pid, 0)
    return why or None


# -- entering the namespaces (in the zygote's child) -------------------------------


def enter_namespaces() -> None:
    """New user, mount, PID and network namespaces for this process's next child; our ids mapped."""
    uid, gid = os.geteuid(), os.getegid()
    _check(
        _libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET),
        "unshare(user, mount, PID and network namespaces)",
    )
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
    Path("/proc/self/gid_map").write_text(f"0 {gid} 1")


# -- building the root (in PID 1 of the new namespace) -----------------------------


def build(submission: str, folders: list[str]) -> None:
    """Make a root of `folders` (read-only) and a copy of `submission`; pivot into it; drop privileges.

    Raises `JailError` (or `copying.RefusedSubmission`) before any student code runs.
    """
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)  # our mounts stay ours
    # Opened first: the new root is mounted over /tmp, which may hold the submission or a folder.
    sources = {folder: os.open(folder, os.O_PATH | os.O_DIRECTORY) for folder in folders}
    submission_fd = os.open(submission, os.O_RDONLY | os.O_DIRECTORY)
    devices = {name: os.open(f"/dev/{name}", os.O_PATH) for name in _DEVICES if os.path.exists(f"/dev/{name}")}
    new_root = "/tmp"
    try:
        _mount(b"tmpfs", new_root, b"tmpfs", MS_NOSUID | MS_NODEV, f"size={_ROOT_SIZE},mode=0755".encode())
        # The private /tmp and home first: an allowlisted folder under /tmp (a course cloned there, whose
        # grader/ package is allowed) is then bound on top of the private /tmp, not hidden beneath it.
        for folder, size in (("/tmp", _TMP_SIZE), (HOME, _HOME_SIZE)):
            os.makedirs(new_root + folder, exist_ok=True)
            _mount(b"tmpfs", new_root + folder, b"tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=0777".encode())
        for folder, fd in sources.items():
            target = new_root + folder
            os.makedirs(target, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC, None)
            _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, None)
        copy_submission(submission_fd, Path(new_root + SUBMISSION))
        for link in ("/lib", "/lib64", "/lib32"):  # merged-/usr systems: the ELF interpreter's path
            if os.path.islink(link) and os.path.realpath(link) in sources:
                os.symlink(os.readlink(link), new_root + link)
        os.makedirs(new_root + "/dev", exist_ok=True)
        for name, fd in devices.items():
            target = f"{new_root}/dev/{name}"
            open(target, "w").close()
            _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND, None)
        os.makedirs(new_root + "/proc", exist_ok=True)
        os.makedirs(new_root + "/.old", exist_ok=True)
    finally:
        for fd in (*sources.values(), submission_fd, *devices.values()):
            os.close(fd)
    os.chdir(new_root)
    _pivot_root(".", ".old")
    os.chdir("/")
    try:  # before the old root goes: the kernel mounts a new /proc only while one is fully visible
        _mount(b"proc", "/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    except JailError:
        pass  # no /proc then: stricter still
    _check(_libc.umount2(b"/.old", MNT_DETACH), "umount the old root")
    os.rmdir("/.old")
    _mount(b"tmpfs", "/", b"tmpfs", MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, f"size={_ROOT_SIZE}".encode())
    os.chdir(HOME)
    drop_privileges()


def drop_privileges() -> None:
    """No capability left, none to gain: the mounts above cannot be undone."""
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


# -- small process controls ---------------------------------------------------------


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies, whatever killed the parent."""
    import signal

    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def become_subreaper() -> bool:
    """Inherit the orphans of our descendants (the unconfined fallback's way to find them)."""
    return _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def make_undumpable() -> None:
    """Keep same-user processes (student code, when unconfined) out of this process's memory and /proc entries."""
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _pivot_root(new_root: str, put_old: str) -> None:
    if _SYS_PIVOT_ROOT is None:
        raise JailError(0, f"pivot_root: unknown system call number on {platform.machine()}")
    _check(_libc.syscall(_SYS_PIVOT_ROOT, new_root.encode(), put_old.encode()), "pivot_root")


def _mount(source, target, fstype, flags, options) -> None:
    def encode(s):
        return s if s is None or isinstance(s, bytes) else os.fsencode(s)

    result = _libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(options))
    _check(result, f"mount {target}")


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise JailError(errno, f"{what}: {os.strerror(errno)}")
