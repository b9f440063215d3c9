"""The small Python expressions a bank may hold: derived parameters, constraints, answer keys.

Banks are written by the instructor and trusted like reference/; expressions are
still compiled when a bank is loaded, and their free names checked, so that a
typo is reported with the question's id instead of failing while a student waits.
"""

from __future__ import annotations

import ast
import builtins
import functools
from collections.abc import Mapping
from types import CodeType
from typing import Any

#: Builtins an expression may call; anything else is a typo or does not belong in a bank.
SAFE_BUILTINS = {
    name: getattr(builtins, name)
    for name in (
        "abs",
        "all",
        "any",
        "bool",
        "dict",
        "enumerate",
        "float",
        "int",
        "isinstance",
        "len",
        "list",
        "map",
        "max",
        "min",
        "range",
        "reversed",
        "round",
        "set",
        "sorted",
        "str",
        "sum",
        "tuple",
        "zip",
    )
}


class ExpressionError(ValueError):
    """An expression that does not compile or names something unknown."""


@functools.lru_cache(maxsize=1024)
def compile_expression(source: str) -> CodeType:
    try:
        return compile(source.strip(), "<bank>", "eval")
    except SyntaxError as error:
        raise ExpressionError(f"not a Python expression ({error.msg}): {source.strip()!r}") from None


@functools.lru_cache(maxsize=1024)
def free_names(source: str) -> frozenset[str]:
    """Names an expression reads that it does not bind itself (in a comprehension or lambda)."""
    tree = ast.parse(source.strip(), mode="eval")
    read, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return frozenset(read - bound)


def check_names(source: str, known: set[str]) -> None:
    unknown = sorted(free_names(source) - known - set(SAFE_BUILTINS))
    if unknown:
        raise ExpressionError(
            f"{source.strip()!r} uses unknown name{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}"
        )


def evaluate(code: CodeType, namespace: Mapping[str, Any]) -> Any:
    # Parameters go into the globals: a comprehension inside eval cannot see eval's locals.
    return eval(code, {"__builtins__": SAFE_BUILTINS, **namespace})
