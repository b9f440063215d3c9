"""Fixtures for the engine's own tests."""

from __future__ import annotations

import pytest

from grader.manifest import Course, load_course
from support import ROOT


@pytest.fixture(scope="session")
def course() -> Course:
    return load_course(ROOT)
