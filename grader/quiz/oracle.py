"""The answer key, computed: a question's `compute` expression run against the course's reference/.

This runs on the instructor's side only (grading, publishing, the instructor
trying a quiz): a student release has no reference/. An expression sees the
variant's parameters, the reference modules it names (`shapes`, `vgg`, ...),
`math`, `functools`, `np`, `nn`, `torch`, the question's `choices` (in the bank's
order), and four helpers:

- `count_params(module)`: the number of scalar parameters
- `meta(factory, *args, **kwargs)`: a model built on PyTorch's meta device (shapes, no memory)
- `run_shape(modules, input_shape)`: the shape after running `modules` in turn on a meta tensor
- `derivative(fn, at=1.0)`: d fn / dx at x = `at`, by autograd

torch is imported only when an expression needs it.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.quiz import expressions, forms
from grader.quiz.bank import ORACLE_NAMES, Question
from grader.quiz.variants import Variant


class Oracle:
    """Computes (and remembers) the key of every variant asked for."""

    def __init__(self, reference_dir: Path):
        self.reference_dir = Path(reference_dir)
        self._keys: dict[tuple[str, str], Any] = {}
        self._modules: dict[str, Any] = {}  #: reference modules, loaded once per oracle (never into sys.modules)

    def expected(self, variant: Variant) -> Any:
        """The variant's key in the form `forms` compares: an int, a float, a tuple, a choice's text..."""
        question = variant.question
        cache = (question.id, variant.key)
        if cache not in self._keys:
            value = question.answer if question.compute is None else self._compute(question, variant.params)
            self._keys[cache] = forms.normalize_expected(question, value)
        return self._keys[cache]

    def _compute(self, question: Question, params: dict[str, Any]) -> Any:
        names = expressions.free_names(question.compute) - set(params) - set(expressions.SAFE_BUILTINS)
        namespace = {name: self._resolve(name) for name in names - {"choices"}}
        namespace["choices"] = list(question.choices)
        return expressions.evaluate(expressions.compile_expression(question.compute), {**namespace, **params})

    def _resolve(self, name: str) -> Any:
        path = self.reference_dir / f"{name}.py"
        if path.is_file():
            if name not in self._modules:
                self._modules[name] = load_reference_module(path)
            return self._modules[name]
        if name in ORACLE_NAMES:
            return _library(name)
        raise NameError(f"{name!r} is neither a reference module in {self.reference_dir} nor a helper")


def load_reference_module(path: Path) -> Any:
    """Import reference/<name>.py under its own name, as the judge does (references import each other),
    and leave nothing of it behind: the process that computes quiz keys is the engine, whose later forks
    (the judges of `--watch`, `grade-all`, the tests) must import the course's modules afresh. A module
    left under the name `scaling` would answer a judge's `from scaling import ...` with another
    folder's (a release's stub) code."""
    name = path.stem
    modules_before, path_before = set(sys.modules), list(sys.path)
    sys.path.insert(0, str(path.parent))  # efficientnet does `from scaling import ...`
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path[:] = path_before
        for added in set(sys.modules) - modules_before:
            if _is_under(sys.modules[added], path.parent):
                del sys.modules[added]


def _is_under(module: Any, folder: Path) -> bool:
    file = getattr(module, "__file__", None)
    return bool(file) and Path(file).resolve().parent == folder.resolve()


def _library(name: str) -> Any:
    helpers: dict[str, Callable] = {
        "count_params": count_params,
        "meta": meta,
        "run_shape": run_shape,
        "derivative": derivative,
    }
    if name in helpers:
        return helpers[name]
    if name in ("math", "functools"):
        return {"math": math, "functools": functools}[name]
    return {
        "np": lambda: importlib.import_module("numpy"),
        "nn": lambda: importlib.import_module("torch.nn"),
        "torch": lambda: importlib.import_module("torch"),
    }[name]()


def count_params(module: Any) -> int:
    return sum(p.numel() for p in module.parameters())


def meta(factory: Callable, *args: Any, **kwargs: Any) -> Any:
    import torch

    with torch.device("meta"):
        return factory(*args, **kwargs)


def run_shape(modules: Any, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    import torch

    x = torch.empty(tuple(input_shape), device="meta")
    for module in modules:
        x = module.to("meta")(x)
    return tuple(x.shape)


def derivative(fn: Callable, at: float = 1.0) -> float:
    import torch

    x = torch.tensor(float(at), dtype=torch.float64, requires_grad=True)
    (gradient,) = torch.autograd.grad(fn(x), x)
    return gradient.item()
