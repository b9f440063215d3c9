"""The student's module as the hidden suites see it: a proxy over the sandbox.

`student.conv2d_forward(x, w, stride=2)` in a suite sends the call to the
student's process and returns a freshly decoded value, or raises one of the
failures below. Suites read like ordinary tests while no student object ever
enters the judge. The proxy also remembers the last call, so feedback can
name it.
"""

from __future__ import annotations

import ast
import dataclasses
import time
from pathlib import Path
from typing import Any

from grader.describe import describe_call
from grader.engine import wire
from grader.engine.sandbox import StudentCrashed, StudentProcess, StudentTimeout, SubmissionRefused


class StudentFailure(Exception):
    """Base of everything the student's code did wrong, as seen by a suite."""


class StudentRaised(StudentFailure):
    """The student's code raised an exception (data from the worker, not the exception)."""

    def __init__(self, error: dict):
        self.type_name: str = error["type"]
        self.mro: list[str] = error.get("mro", [])
        self.text: str = error.get("message", "")
        self.frames: list[dict] = error.get("frames", [])
        super().__init__(f"{self.type_name}: {self.text}")

    def is_a(self, exception_type: type[BaseException]) -> bool:
        return exception_type.__name__ in self.mro


class NotImplementedYet(BaseException):
    """The stub is still a stub. A BaseException: one call is enough to know."""


class ImportFailed(BaseException):
    """The module cannot be loaded: every test of the exercise fails with this message."""


class ForbiddenUsed(BaseException):
    """The code called something course.toml forbids for this exercise."""

    def __init__(self, names: list[str]):
        super().__init__(", ".join(names))
        self.names = names


class MissingFunction(BaseException):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


@dataclasses.dataclass
class Call:
    function: str
    args: tuple
    kwargs: dict
    description: str
    mutated: list[str] = dataclasses.field(default_factory=list)
    returned: bool = False  #: whether the call returned (rather than raised)
    result: Any = None  #: what it returned, decoded in the judge


class StudentModule:
    """Calls into the submission's module through a `StudentProcess`."""

    def __init__(self, process: StudentProcess, module_file: Path, module_name: str):
        self._process = process
        self._file = module_file
        self._name = module_name
        self._import_error: ImportFailed | None = None
        self._imported_in: StudentProcess | None = None
        self._signatures: dict[str, tuple[str, ...]] = {}
        self._top_level_names: set[str] = set()
        self._stubs: set[str] = set()  #: functions whose whole body raises NotImplementedError
        self._not_implemented: dict[str, str] = {}  #: stubs that did raise it: their message
        self._parsed = False
        self.last_call: Call | None = None
        self.budget = float("inf")  #: seconds of student time left for the current test
        self.budget_total = float("inf")

    def start_budget(self, seconds: float) -> None:
        """A new test: `seconds` of the student's own time (the judge's work is not counted)."""
        self.budget = self.budget_total = seconds

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)

    def call(self, function: str, *args: Any, **kwargs: Any) -> Any:
        self._ensure_imported()
        description = describe_call(function, args, kwargs, names=self._signatures.get(function, ()))
        self.last_call = Call(function, args, kwargs, description)
        if function in self._not_implemented:  # a stub raises whatever it is given: no need to ask again
            raise NotImplementedYet(self._not_implemented[function])
        try:
            reply = self._request(
                {
                    "op": "call",
                    "function": function,
                    "args": [wire.encode(a) for a in args],
                    "kwargs": {k: wire.encode(v) for k, v in kwargs.items()},
                }
            )
        except NotImplementedYet as error:
            if function in self._stubs:
                self._not_implemented[function] = str(error)
            raise
        if "missing" in reply:
            raise MissingFunction(function)
        self.last_call.mutated = reply.get("mutated", [])
        self.last_call.result = wire.decode(reply["value"])
        self.last_call.returned = True
        return self.last_call.result

    def probe(self, name: str, *args: Any) -> Any:
        self._ensure_imported()
        self.last_call = Call(name, args, {}, describe_call(name, args, {}))
        reply = self._request({"op": "probe", "probe": name, "args": [wire.encode(a) for a in args]})
        return wire.decode(reply["value"])

    def defines(self, name: str) -> bool:
        """Whether the module's source defines `name` (read from the source, never executed)."""
        self._parse()
        return name in self._signatures or name in self._top_level_names

    # -- internals ----------------------------------------------------------
    def _request(self, message: dict) -> dict:
        if self.budget <= 0:
            raise StudentTimeout(self.budget_total)
        if not self._process.running or self._imported_in is not self._process:
            self._timed(lambda: self._import_into_process(self.budget))
        reply = self._timed(lambda: self._process.request(message, timeout=self.budget))
        return self._unwrap(reply)

    def _timed(self, action):
        """Run `action`, charging its wall time to the test's budget."""
        started = time.monotonic()
        try:
            return action()
        except StudentTimeout:
            raise StudentTimeout(self.budget_total) from None
        finally:
            self.budget -= time.monotonic() - started

    @staticmethod
    def _unwrap(reply: dict) -> dict:
        if reply.get("forbidden"):
            raise ForbiddenUsed(reply["forbidden"])
        if reply.get("ok") or "missing" in reply:
            return reply
        error = reply["error"]
        if "NotImplementedError" in error.get("mro", []):
            raise NotImplementedYet(error.get("message", ""))
        raise StudentRaised(error)

    def _ensure_imported(self) -> None:
        if self._import_error is not None:
            # A fresh traceback each time: re-raising one exception object grows its traceback by
            # every test's frames, and pytest's report of the n-th test reads them all (minutes).
            raise self._import_error.with_traceback(None)
        self._parse()

    def _import_into_process(self, timeout: float) -> None:
        try:
            reply = self._process.request({"op": "import", "module": self._name}, timeout=timeout)
            self._unwrap(reply)
        except StudentRaised as error:
            self._import_error = ImportFailed(_import_message(self._file.name, error))
        except StudentCrashed as error:
            self._import_error = ImportFailed(f"importing {self._file.name} ended its process: it {error.how}")
        except StudentTimeout as error:
            self._import_error = ImportFailed(
                f"importing {self._file.name} did not finish within "
                f"{error.seconds:.0f} s: is there a loop at module level?"
            )
        except SubmissionRefused as error:
            self._import_error = ImportFailed(f"your submission was refused: {error}")
        except (NotImplementedYet, ForbiddenUsed) as error:
            self._import_error = ImportFailed(f"importing {self._file.name} raised {type(error).__name__}: {error}")
        if self._import_error is not None:
            raise self._import_error
        self._imported_in = self._process

    def _parse(self) -> None:
        """Read the source in the judge, without running it: syntax errors and signatures."""
        if self._parsed or self._import_error is not None:
            return
        if not self._file.is_file():
            self._import_error = ImportFailed(f"no file {self._file.name} in the submission")
            raise self._import_error
        source = self._file.read_text(encoding="utf-8-sig", errors="replace")  # a BOM is fine: Python takes it
        try:
            tree = ast.parse(source, filename=self._file.name)
        except SyntaxError as error:
            self._import_error = ImportFailed(_syntax_message(self._file.name, error))
            raise self._import_error from None
        for sibling in _submission_imports(tree, self._file.parent):
            # A module of the submission it imports (efficientnet.py imports scaling.py): its syntax
            # error, named with its own file and line, not as the import line that reached it.
            try:
                ast.parse(sibling.read_text(encoding="utf-8", errors="replace"), filename=sibling.name)
            except SyntaxError as error:
                self._import_error = ImportFailed(
                    _syntax_message(sibling.name, error, why=f" ({self._file.name} imports {sibling.name})")
                )
                raise self._import_error from None
        self._top_level_names = {
            target.id
            for node in tree.body
            if isinstance(node, (ast.Assign, ast.AnnAssign))
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name)
        }
        self._signatures = {
            node.name: tuple(a.arg for a in node.args.posonlyargs + node.args.args)
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef)
        }
        self._stubs = _stub_functions(tree) - self._top_level_names
        self._parsed = True


def _stub_functions(tree: ast.Module) -> set[str]:
    """Top-level functions, defined once and undecorated, whose body only raises NotImplementedError.

    Such a function raises it whatever its arguments: after its first call, the proxy answers the
    next ones itself (fail fast), with the same message.
    """
    defined: dict[str, int] = {}
    stubs = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined[node.name] = defined.get(node.name, 0) + 1
            body = [
                s
                for s in getattr(node, "body", [])
                if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)) and not isinstance(s, ast.Pass)
            ]
            if (
                isinstance(node, ast.FunctionDef)
                and not node.decorator_list
                and len(body) == 1
                and isinstance(body[0], ast.Raise)
                and _names_not_implemented(body[0].exc)
            ):
                stubs.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                name = (alias.asname or alias.name).split(".")[0]
                defined[name] = defined.get(name, 0) + 1
    return {name for name in stubs if defined[name] == 1}


def _names_not_implemented(exc: ast.expr | None) -> bool:
    target = exc.func if isinstance(exc, ast.Call) else exc
    return isinstance(target, ast.Name) and target.id == "NotImplementedError"


def _syntax_message(filename: str, error: SyntaxError, why: str = "") -> str:
    """ "scaling.py, line 97: invalid syntax", then the line and a caret under the error."""
    caret = " " * max((error.offset or 1) - 1, 0) + "^"
    text = (error.text or "").rstrip()
    return (
        f"{filename}, line {error.lineno}: {error.msg}{why}\n    {text.strip()}\n"
        f"    {caret[len(text) - len(text.lstrip()) :]}"
    )


def _submission_imports(tree: ast.Module, folder: Path) -> list[Path]:
    """The submission's own modules that `tree` imports (a file beside it), in the order imported."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    found = [folder / f"{name.split('.')[0]}.py" for name in dict.fromkeys(names)]
    return [path for path in found if path.is_file()]


def _import_message(filename: str, error: StudentRaised) -> str:
    where = ""
    if error.frames:
        frame = error.frames[-1]
        where = f" at {frame['file']}, line {frame['line']}: {frame['code']}"
    return f"importing {filename} raised {error.type_name}: {error.text}{where}"
