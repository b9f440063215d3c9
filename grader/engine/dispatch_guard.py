"""Forbidden PyTorch calls refused where PyTorch dispatches, whatever name the student reached them by.

Replacing `torch.nn.functional.conv2d` by a guard (see `worker.Worker.install_guards`) gives a
clear message, but a name is only one route: `torch.ops.aten.convolution(...)`,
`torch._C._VariableFunctions.conv2d(...)` or a reference to `F.conv2d` kept from import time
all reach the same kernel. Two modes, active during every student call, see every route:

- a `TorchDispatchMode`, which sees each aten operator as it is dispatched, refuses the
  operators of the forbidden families (convolution: `aten.convolution`, `aten._convolution`,
  `aten.mkldnn_convolution`, `aten._slow_conv2d_forward`, ...; pooling: `aten.max_pool2d_with_indices`,
  `aten.avg_pool2d`, `aten._adaptive_avg_pool2d`, ...);
- a `TorchFunctionMode`, which sees the torch functions called, refuses those named in
  course.toml's list even when they decompose into allowed operators
  (`F.adaptive_avg_pool2d(x, 1)` is a mean at the dispatcher).

The families come from course.toml's `forbidden` names: an exercise that forbids
`torch.nn.functional.conv2d` forbids convolution at the dispatcher; exercises that forbid
nothing of torch (the model exercises, which use `nn.Conv2d`) get no mode at all.

Removing or switching off the modes during a call (popping them from their stacks,
`torch._C._DisableTorchDispatch`, `DisableTorchFunction`, excluding the Python dispatch key)
is itself a forbidden call. A thread the student starts runs under the same modes.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable

#: Operator names (aten, without overload) of each family; matched on the whole name.
FAMILIES = {
    "conv": re.compile(r"(.*_)?conv(olution|\d+d|_tbc|_transpose\d*d?|_depthwise\d+d)?(_.*)?"),
    "pool": re.compile(r".*pool.*"),
}
#: Names whose use switches the modes off; refused while a guard is active.
_SWITCHES = {
    "torch._C": (
        "_DisableTorchDispatch",
        "DisableTorchFunction",
        "_DisablePythonDispatcher",
        "_pop_torch_dispatch_stack",
        "_pop_torch_function_stack",
        "_set_dispatch_mode",
        "_unset_dispatch_mode",
        "_ExcludeDispatchKeyGuard",
        "ExcludeDispatchKeyGuard",
        "_SetExcludeDispatchKeyGuard",
    ),
    "torch.utils._python_dispatch": ("_pop_mode", "_pop_mode_temporarily", "_disable_current_modes"),
    "torch.overrides": ("_pop_mode", "_pop_mode_temporarily"),
}
TAMPERED = "something that removed the grader's torch modes (they see forbidden calls)"


def families_of(forbidden: list[str]) -> set[str]:
    """The operator families course.toml's forbidden names of torch stand for."""
    found = set()
    for dotted in forbidden:
        if dotted.split(".")[0] != "torch":
            continue
        last = dotted.rpartition(".")[2].lower()
        found.update(f for f in FAMILIES if f in last)
    return found


class DispatchGuard:
    """The two modes for one worker; `active()` wraps each student call."""

    def __init__(self, forbidden: list[str], record: Callable[[str], None], error: type[BaseException]):
        import torch
        from torch.overrides import TorchFunctionMode
        from torch.utils._python_dispatch import TorchDispatchMode

        families = families_of(forbidden)
        patterns = [FAMILIES[f] for f in sorted(families)]
        by_function: dict[str, str] = {}
        for dotted in forbidden:  # the first name of course.toml's list names a function in the message
            if dotted.split(".")[0] == "torch":
                by_function.setdefault(dotted.rpartition(".")[2].lower(), dotted)

        def refuse(name: str):
            record(name)
            raise error(name)

        class Operators(TorchDispatchMode):
            _should_skip_dynamo = _no_dynamo

            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                name = func._schema.name.split("::")[-1]
                if any(p.fullmatch(name) for p in patterns):
                    refuse(_shown(name, by_function))
                return func(*args, **(kwargs or {}))

        class Functions(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                name = getattr(func, "__name__", "")
                if name.lower() in by_function:
                    refuse(by_function[name.lower()])
                return func(*args, **(kwargs or {}))

        self.torch = torch
        self.operators, self.functions = Operators(), Functions()
        self.depth = 0
        self._local = threading.local()
        self._refuse = refuse
        self._install_switch_guards()
        self._guard_new_threads()

    # -- during a call ------------------------------------------------------
    def active(self):
        return _Active(self)

    def _enter(self) -> tuple[int, int]:
        torch = self.torch
        before = (torch._C._len_torch_function_stack(), torch._C._len_torch_dispatch_stack())
        self._local.trusted = True
        try:
            self.functions.__enter__()
            self.operators.__enter__()
        finally:
            self._local.trusted = False
        self.depth += 1
        return before

    def _exit(self, before: tuple[int, int]) -> bool:
        """Pop the modes; False when the student's code removed or replaced them."""
        from torch.overrides import _get_current_function_mode_stack
        from torch.utils._python_dispatch import _get_current_dispatch_mode_stack

        torch = self.torch
        self.depth -= 1
        dispatch, function = _get_current_dispatch_mode_stack(), _get_current_function_mode_stack()
        intact = (
            len(dispatch) == before[1] + 1
            and dispatch[-1] is self.operators
            and len(function) == before[0] + 1
            and function[-1] is self.functions
        )
        self._local.trusted = True
        try:
            if intact:
                self.operators.__exit__(None, None, None)
                self.functions.__exit__(None, None, None)
            while torch._C._len_torch_dispatch_stack() > before[1]:
                torch._C._pop_torch_dispatch_stack()
            while torch._C._len_torch_function_stack() > before[0]:
                torch._C._pop_torch_function_stack()
        finally:
            self._local.trusted = False
        return intact

    # -- the routes around the modes ------------------------------------------
    def _install_switch_guards(self) -> None:
        for module_name, names in _SWITCHES.items():
            module = sys.modules.get(module_name) or __import__(module_name, fromlist=["_"])
            for name in names:
                original = getattr(module, name, None)
                if original is None or getattr(original, "_grader_guard", False):
                    continue
                _ORIGINALS[f"{module_name}.{name}"] = original
                setattr(module, name, self._switch_guard(original, f"{module_name}.{name}"))

    def _switch_guard(self, original, dotted: str):
        def guarded(*args, **kwargs):
            if self.depth > 0 and not getattr(self._local, "trusted", False):
                self._refuse(f"{dotted} (it would hide forbidden calls)")
            return original(*args, **kwargs)

        guarded._grader_guard = True
        return guarded

    def _guard_new_threads(self) -> None:
        """A thread started during a call runs the student's function under the modes too."""
        import _thread

        start = _thread.start_new_thread
        if getattr(start, "_grader_guard", False):
            return
        _ORIGINALS["_thread.start_new_thread"] = start

        def start_new_thread(function, args, kwargs=None):
            def run(*a, **k):
                with self.active():
                    return function(*a, **k)

            return start(run, args, kwargs or {})

        start_new_thread._grader_guard = True
        _thread.start_new_thread = start_new_thread
        threading._start_new_thread = start_new_thread


_ORIGINALS: dict[str, Callable] = {}


@classmethod
def _no_dynamo(cls) -> bool:
    """A TorchDispatchMode subclass's `__torch_dispatch__` is wrapped to skip torch.compile's tracing unless
    this says False; the wrapper imports torch._dynamo (and sympy) on first use: seconds in every worker
    for a compiler the modes never run under. Their frames are plain eager Python here either way."""
    return False


def warm_up() -> None:
    """Run one operator under both kinds of mode: the first use imports much of torch (seconds).

    Called in the zygote, so that no worker pays for it within a test's time limit.
    """
    import torch
    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode

    class Functions(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    class Operators(TorchDispatchMode):
        _should_skip_dynamo = _no_dynamo

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    with Functions(), Operators():
        torch.nn.functional.conv2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 1, 1))


class _Active:
    def __init__(self, guard: DispatchGuard):
        self.guard = guard

    def __enter__(self):
        self.before = self.guard._enter()
        return self

    def __exit__(self, kind, value, traceback):
        if not self.guard._exit(self.before):
            self.guard._refuse(TAMPERED)
        return False


def _shown(operator: str, by_function: dict[str, str]) -> str:
    """The name the message gives: course.toml's, when the operator is one of its functions."""
    return by_function.get(operator, f"torch.ops.aten.{operator}")
