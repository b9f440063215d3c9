"""The process that runs student code, and nothing else of the grader's.

The zygote (`grader.engine.zygote`) forks it into its jail and calls `serve`; the judge
sends it requests (import the student's module, call a function, run a probe)
and reads back plain data (see `wire`). It never sees the hidden suites or the
reference: it cannot report a verdict, only what the student's code returned or
raised. Keep this module's imports to the standard library and numpy.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from grader.engine import wire


class ForbiddenCall(BaseException):
    """Raised by a guarded function; a BaseException so `except Exception` cannot hide it."""


class Worker:
    def __init__(self, submission: Path, forbidden: list[str]):
        self.submission = submission.resolve()
        self.forbidden = forbidden
        self.forbidden_used: list[str] = []
        self.module: Any = None
        self._guards: dict[int, Any] = {}
        self.dispatch_guard = None
        from grader.engine.dispatch_guard import families_of

        if families_of(forbidden):
            from grader.engine.dispatch_guard import DispatchGuard

            self.dispatch_guard = DispatchGuard(forbidden, lambda name: self.forbidden_used.append(name), ForbiddenCall)

    def guarded(self):
        """Where student code runs: under the dispatch guard, when the exercise forbids torch calls."""
        return self.dispatch_guard.active() if self.dispatch_guard is not None else contextlib.nullcontext()

    # -- requests ---------------------------------------------------------
    def handle(self, request: dict) -> dict:
        op = request.get("op")
        try:
            if op == "import":
                return self.import_module(request["module"])
            if op == "call":
                return self.call(request["function"], request.get("args", []), request.get("kwargs", {}))
            if op == "probe":
                return self.probe(request["probe"], request.get("args", []))
        except ForbiddenCall:
            pass  # reported through forbidden_used below
        except BaseException as error:  # noqa: BLE001 - anything the student raised is data
            return {"ok": False, "error": self.describe_error(error), "forbidden": self.take_forbidden()}
        if self.forbidden_used:
            return {"ok": False, "error": None, "forbidden": self.take_forbidden()}
        return {
            "ok": False,
            "error": {"type": "ProtocolError", "mro": [], "message": f"unknown op {op!r}", "frames": []},
        }

    def import_module(self, name: str) -> dict:
        with self.guarded():
            self.module = importlib.import_module(name)
        self.install_guards()
        return self.reply(None)

    def call(self, function: str, args: list, kwargs: dict) -> dict:
        target = getattr(self.module, function, None)
        if target is None:
            return {"ok": False, "missing": function}
        args = [wire.decode(a) for a in args]
        kwargs = {k: wire.decode(v) for k, v in kwargs.items()}
        before = _snapshot_arrays(args, kwargs)
        self.install_guards()
        with self.guarded():
            result = target(*args, **kwargs)
        return self.reply(result, mutated=_mutated_arguments(before, args, kwargs))

    def probe(self, name: str, args: list) -> dict:
        """Run a trusted inspection (grader.probes) on the student's module; return its plain data."""
        from grader import probes

        function = probes.find(name)
        self.install_guards()
        with self.guarded():
            value = function(self.module, *[wire.decode(a) for a in args])
        return self.reply(value)

    def reply(self, value: Any, *, mutated: list[str] | None = None) -> dict:
        if self.forbidden_used:
            return {"ok": False, "error": None, "forbidden": self.take_forbidden()}
        return {"ok": True, "value": wire.encode(value), "mutated": mutated or []}

    # -- forbidden calls --------------------------------------------------
    def install_guards(self) -> None:
        """Replace each forbidden callable, where its module is loaded, by one that refuses.

        Done after import and before every call: a student may import torch
        lazily inside a function. Names bound in the student's own module
        (`from torch import conv2d`) are replaced too.
        """
        for dotted in self.forbidden:
            module_name, _, attribute = dotted.rpartition(".")
            owner = sys.modules.get(module_name)
            original = getattr(owner, attribute, None) if owner is not None else None
            if original is None or id(original) in self._guards or getattr(original, "_grader_guard", False):
                continue
            guard = self._make_guard(dotted)
            self._guards[id(original)] = guard
            setattr(owner, attribute, guard)
        if self.module is not None:
            for name, value in list(vars(self.module).items()):
                if id(value) in self._guards:
                    setattr(self.module, name, self._guards[id(value)])

    def _make_guard(self, dotted: str):
        def guard(*args, **kwargs):
            self.forbidden_used.append(dotted)
            raise ForbiddenCall(dotted)

        guard._grader_guard = True
        return guard

    def take_forbidden(self) -> list[str]:
        used, self.forbidden_used = sorted(set(self.forbidden_used)), []
        return used

    # -- errors -----------------------------------------------------------
    def describe_error(self, error: BaseException) -> dict:
        """The exception as data, with only the student's own frames."""
        frames = [
            {"file": self._relative(f.filename), "line": f.lineno, "function": f.name, "code": (f.line or "").strip()}
            for f in traceback.extract_tb(error.__traceback__)
            if self._is_student_file(f.filename)
        ]
        described = {
            "type": type(error).__name__,
            "mro": [cls.__name__ for cls in type(error).__mro__],
            "message": _safe_str(error),
            "frames": frames[-6:],
        }
        if isinstance(error, SyntaxError):
            described.update(
                file=self._relative(error.filename or ""), line=error.lineno, text=(error.text or "").rstrip()
            )
        if isinstance(error, SystemExit):
            described["message"] = f"sys.exit({error.code!r})"
        return described

    def _is_student_file(self, filename: str) -> bool:
        try:
            return Path(filename).resolve().is_relative_to(self.submission)
        except (OSError, ValueError):
            return False

    def _relative(self, filename: str) -> str:
        path = Path(filename)
        return path.name if self._is_student_file(filename) else filename


def _safe_str(error: BaseException) -> str:
    try:
        return str(error)[:2000]
    except BaseException:  # noqa: BLE001 - a hostile __str__ must not break the worker
        return f"<{type(error).__name__} whose message cannot be shown>"


def _named_arguments(args: list, kwargs: dict) -> dict[str, Any]:
    """Arguments under the names feedback uses: "argument 2" for positional ones."""
    return {f"argument {i + 1}": a for i, a in enumerate(args)} | dict(kwargs)


def _snapshot_arrays(args: list, kwargs: dict) -> dict[str, Any]:
    import numpy as np

    return {
        name: value.copy() for name, value in _named_arguments(args, kwargs).items() if isinstance(value, np.ndarray)
    }


def _mutated_arguments(before: dict[str, Any], args: list, kwargs: dict) -> list[str]:
    import numpy as np

    named = _named_arguments(args, kwargs)
    return [
        name
        for name, copy in before.items()
        if not np.array_equal(copy, named[name], equal_nan=copy.dtype.kind in "fc")
    ]


def serve(requests_fd: int, replies_fd: int, submission: Path, forbidden: list[str], greeting: dict) -> None:
    """Answer requests until the judge closes the pipe; called in the jail, once it is built.

    `greeting` is the first message: whether the process is confined (or why not), before any
    student code runs.
    """
    requests = os.fdopen(requests_fd, "rb")
    replies = os.fdopen(replies_fd, "wb")
    wire.send_message(replies, greeting)
    installation = tuple(
        p.rstrip("/") + "/" for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    )
    sys.path[:] = [str(submission)] + [p for p in sys.path if p and (p + "/").startswith(installation)]
    sys.dont_write_bytecode = True
    builtins.input = _no_input
    import numpy  # noqa: F401 - decoding arguments needs it; load it before student code

    worker = Worker(submission, forbidden)
    while True:
        try:
            request = wire.read_message(requests)
        except EOFError:
            return
        reply = worker.handle(request)
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            wire.send_message(replies, reply)
        except (ValueError, TypeError) as error:
            wire.send_message(
                replies,
                {"ok": False, "error": {"type": "UnsendableResult", "mro": [], "message": str(error), "frames": []}},
            )


def _no_input(prompt: str = "") -> str:
    raise RuntimeError("input() is not available while grading: nobody is there to type")
