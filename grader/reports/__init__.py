"""Report formats: each module renders a `GradeReport` to text; none of them scores.

Register a format in `EXPORTERS`; `grader grade --format NAME` finds it there.
"""

from __future__ import annotations

from typing import Callable

from grader.reports import classroom, json_report, junit, text_report
from grader.results import GradeReport

EXPORTERS: dict[str, Callable[[GradeReport], str]] = {
    "text": text_report.render,
    "json": json_report.render,
    "junit": junit.render,
    "classroom": classroom.render,
}
