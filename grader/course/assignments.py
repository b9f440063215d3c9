"""Assignments: which items a submission is graded on, and when it counts as handed in.

The late penalty itself is policy and lives in `score`; this module only gathers the facts,
and the facts come from sources the student cannot set:

- in the instructor's grading workflow, the time each push reached GitHub (the repository's
  activity, or its push events, through the API: `pushes_from_api`, `hand_in`), choosing the
  last push to the default branch before the student's deadline (`deadline_for`: the due date
  plus the roster's extension);
- for a repository the instructor cloned, the time this clone last moved its HEAD (its
  reflog, written by the instructor's git: `submission_time`);
- Gradescope's own submission time, or `--submitted-at`.

Never the committer date alone: `git commit --date` and `GIT_COMMITTER_DATE` set it to anything.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
from pathlib import Path

from grader.course.manifest import AssignmentSpec
from grader.results import Lateness


@dataclasses.dataclass(frozen=True)
class Push:
    """One update of a branch on GitHub, as its API records it."""

    sha: str  #: the commit the branch pointed to after the push
    at: dt.datetime  #: when GitHub received it (GitHub's clock, not the committer's)
    ref: str  #: "refs/heads/main"


def submission_time(submission: Path) -> dt.datetime:
    """When the work was handed in: when this clone of a repository got its HEAD, else now.

    A clone's reflog is written by the git of whoever cloned (the instructor, or the grading
    workflow), with that machine's clock: clone at the deadline, and the time is the deadline.
    A plain folder has no trustworthy time of its own (copying it changes every mtime), so
    grading time stands in. Pass `--submitted-at` where the platform knows better.
    """
    if (submission / ".git").exists():
        completed = subprocess.run(
            ["git", "-C", str(submission), "log", "-g", "-1", "--date=iso-strict", "--format=%gd"],
            capture_output=True,
            text=True,
        )
        selector = completed.stdout.strip()  # HEAD@{2026-12-11T23:59:00+00:00}
        if completed.returncode == 0 and selector.endswith("}") and "@{" in selector:
            return dt.datetime.fromisoformat(selector[selector.index("@{") + 2 : -1])
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def deadline_for(assignment: AssignmentSpec, extension_days: float = 0.0) -> dt.datetime:
    """The student's own deadline: the due date plus their extension (the roster's extension_days)."""
    due = assignment.due if assignment.due.tzinfo else assignment.due.replace(tzinfo=dt.timezone.utc)
    return due + dt.timedelta(days=extension_days)


def pushes_from_api(text: str, branch: str) -> list[Push]:
    """The pushes to `branch` in what `gh api` printed, oldest first.

    Reads the repository activity API (`repos/OWNER/REPO/activity`: `after`, `ref`,
    `timestamp`, `activity_type`) and the events API (`repos/OWNER/REPO/events`: `PushEvent`
    with `payload.head`, `payload.ref`, `created_at`), one JSON array or several
    concatenated (`gh api --paginate` prints a page after another).
    """
    ref = branch if branch.startswith("refs/") else f"refs/heads/{branch}"
    pushes = [push for item in _json_items(text) if (push := _push(item)) is not None and push.ref == ref]
    return sorted(pushes, key=lambda push: push.at)


def hand_in(pushes: list[Push], deadline: dt.datetime) -> Push | None:
    """The push that counts: the last one at or before the deadline; else the first one after it (late).

    None when there was no push at all: the repository still holds what it was created with.
    """
    ordered = sorted(pushes, key=lambda push: push.at)
    on_time = [push for push in ordered if push.at <= deadline]
    if on_time:
        return on_time[-1]
    return ordered[0] if ordered else None


def lateness_of(
    assignment: AssignmentSpec, submission: Path, submitted_at: dt.datetime | None, extension_days: float = 0.0
) -> Lateness:
    """The facts of lateness: the student's own due date (with their extension) and the hand-in time."""
    when = submitted_at or submission_time(submission)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    due = deadline_for(assignment, extension_days)
    return Lateness(
        assignment=assignment.id,
        due=due.isoformat(),
        submitted_at=when.isoformat(),
        policy=assignment.late_policy,
        penalty_per_day=assignment.penalty_per_day,
    )


def _json_items(text: str) -> list[dict]:
    decoder, items, at = json.JSONDecoder(), [], 0
    text = text.strip()
    while at < len(text):
        value, at = decoder.raw_decode(text, at)
        while at < len(text) and text[at].isspace():
            at += 1
        items.extend(value if isinstance(value, list) else [value])
    return [item for item in items if isinstance(item, dict)]


def _push(item: dict) -> Push | None:
    if item.get("activity_type") in ("push", "force_push") and item.get("after"):
        return Push(str(item["after"]), _time(item["timestamp"]), str(item.get("ref", "")))
    payload = item.get("payload") or {}
    if item.get("type") == "PushEvent" and payload.get("head"):
        return Push(str(payload["head"]), _time(item["created_at"]), str(payload.get("ref", "")))
    return None


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
