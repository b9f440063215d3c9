"""Probes about the student's module itself."""

from __future__ import annotations

from typing import Any

from grader.probes import probe


@probe
def has_attribute(module: Any, name: str) -> bool:
    return hasattr(module, name)
