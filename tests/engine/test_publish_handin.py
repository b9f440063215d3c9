"""When work counts as handed in: from sources the student cannot set (grader/course/assignments.py).

GitHub's record of each push (its clock), the instructor's clone (its reflog, the
instructor's clock), and the student's own deadline from the roster's extension;
never the committer date, which `GIT_COMMITTER_DATE` sets to anything.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess

from grader.course.assignments import (
    Push,
    deadline_for,
    hand_in,
    lateness_of,
    pushes_from_api,
    submission_time,
)
from grader.course.manifest import AssignmentSpec

UTC = dt.timezone.utc
DUE = dt.datetime(2026, 12, 11, 23, 59, tzinfo=UTC)
A1 = AssignmentSpec(id="a1", title="A1", items=("conv",), due=DUE, late_policy="penalty", penalty_per_day=10)


def _activity(sha: str, when: str, ref: str = "refs/heads/main", kind: str = "push") -> dict:
    return {
        "id": 1,
        "before": "0" * 40,
        "after": sha,
        "ref": ref,
        "timestamp": when,
        "activity_type": kind,
        "actor": {"login": "ada"},
    }


def _event(sha: str, when: str, ref: str = "refs/heads/main") -> dict:
    return {"type": "PushEvent", "created_at": when, "payload": {"ref": ref, "head": sha, "before": "0" * 40}}


def test_the_last_push_before_the_deadline_counts_not_a_later_one():
    pushes = [
        Push("early", dt.datetime(2026, 12, 10, tzinfo=UTC), "refs/heads/main"),
        Push("on-time", dt.datetime(2026, 12, 11, 23, 0, tzinfo=UTC), "refs/heads/main"),
        Push("late", dt.datetime(2026, 12, 12, 1, 0, tzinfo=UTC), "refs/heads/main"),
    ]
    assert hand_in(pushes, DUE).sha == "on-time"
    assert hand_in(list(reversed(pushes)), DUE).sha == "on-time", "the API's order does not matter"


def test_with_no_push_in_time_the_first_late_push_counts_and_none_without_any_push():
    late = [
        Push("second", dt.datetime(2026, 12, 14, tzinfo=UTC), "refs/heads/main"),
        Push("first", dt.datetime(2026, 12, 13, tzinfo=UTC), "refs/heads/main"),
    ]
    assert hand_in(late, DUE).sha == "first"
    assert hand_in([], DUE) is None


def test_an_extension_moves_the_deadline_and_the_due_date_in_the_report():
    assert deadline_for(A1, 2) == DUE + dt.timedelta(days=2)
    pushes = [Push("in-extension", dt.datetime(2026, 12, 13, tzinfo=UTC), "refs/heads/main")]
    assert hand_in(pushes, deadline_for(A1, 0)) == hand_in(pushes, deadline_for(A1, 2)) == pushes[0]
    lateness = lateness_of(A1, None, dt.datetime(2026, 12, 13, tzinfo=UTC), extension_days=2)
    assert lateness.due == (DUE + dt.timedelta(days=2)).isoformat()


def test_pushes_are_read_from_the_activity_and_the_events_apis_for_the_default_branch_only():
    activity = [
        _activity("a" * 40, "2026-12-11T20:00:00Z"),
        _activity("b" * 40, "2026-12-11T21:00:00Z", "refs/heads/dev"),
        _activity("c" * 40, "2026-12-11T22:00:00Z", kind="branch_creation"),
    ]
    events = [_event("d" * 40, "2026-12-11T19:00:00Z"), {"type": "WatchEvent", "created_at": "2026-12-11T19:30:00Z"}]
    pages = json.dumps(activity) + "\n" + json.dumps(events)  # `gh api --paginate` prints page after page
    pushes = pushes_from_api(pages, "main")
    assert [p.sha[0] for p in pushes] == ["d", "a"]
    assert pushes[-1].at == dt.datetime(2026, 12, 11, 20, tzinfo=UTC)
    assert pushes_from_api("[]", "main") == []


def test_a_backdated_commit_counts_from_when_the_clone_was_made_not_its_committer_date(tmp_path):
    origin, clone = tmp_path / "origin", tmp_path / "clone"
    origin.mkdir()
    git = ["git", "-c", "user.name=s", "-c", "user.email=s@uni.edu"]
    subprocess.run(git + ["-C", str(origin), "init", "-q"], check=True)
    (origin / "conv.py").write_text("x = 1\n")
    subprocess.run(git + ["-C", str(origin), "add", "."], check=True)
    backdated = "2026-12-01T00:00:00+00:00"
    subprocess.run(
        git + ["-C", str(origin), "commit", "-q", "-m", "done"],
        check=True,
        env=os.environ | {"GIT_COMMITTER_DATE": backdated, "GIT_AUTHOR_DATE": backdated},
    )
    cloned_at = "2026-12-12T08:00:00+00:00"  # the instructor's clock when cloning (git reads this variable)
    subprocess.run(
        git + ["clone", "-q", str(origin), str(clone)], check=True, env=os.environ | {"GIT_COMMITTER_DATE": cloned_at}
    )
    assert submission_time(clone) == dt.datetime.fromisoformat(cloned_at)
    assert lateness_of(A1, clone, None).submitted_at == cloned_at
