"""Assignments: which items a submission is graded on, and when it counts as submitted.

The late penalty itself is policy and lives in `score`; this module only gathers the facts.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from grader.manifest import AssignmentSpec
from grader.results import Lateness


def submission_time(submission: Path) -> dt.datetime:
    """When the work was handed in: its last git commit if it is a repository, else now.

    A repository's commit time is what GitHub-style workflows hand in; a plain folder has no
    trustworthy time of its own (copying it changes every mtime), so grading time stands in.
    Pass `--submitted-at` where the platform knows better (Gradescope's submission metadata).
    """
    if (submission / ".git").exists():
        completed = subprocess.run(["git", "-C", str(submission), "log", "-1", "--format=%cI"],
                                   capture_output=True, text=True)
        if completed.returncode == 0 and completed.stdout.strip():
            return dt.datetime.fromisoformat(completed.stdout.strip())
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def lateness_of(assignment: AssignmentSpec, submission: Path, submitted_at: dt.datetime | None) -> Lateness:
    when = submitted_at or submission_time(submission)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return Lateness(assignment=assignment.id, due=assignment.due.isoformat(), submitted_at=when.isoformat(),
                    policy=assignment.late_policy, penalty_per_day=assignment.penalty_per_day)
