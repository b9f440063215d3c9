"""Every command in docs/instructor-guide.md runs, in the guide's order, on a copy of a small course.

The course is test_check's one-exercise course (its check takes seconds, where the real
course's cold check takes minutes); the guide's example exercise is added to it by the
guide's own first command. The only set-up here is what the guide takes as given: a
class's submissions folder, and the reason for the small course's equivalent mutant.
"""

from __future__ import annotations

import re
import shlex
import shutil

from support import ROOT
from test_check import EQUIVALENT, declare, make_course
from typer.testing import CliRunner

from grader.cli.app import app

GUIDE = ROOT / "docs" / "instructor-guide.md"


def guide_text() -> str:
    return GUIDE.read_text(encoding="utf-8")


def guide_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", guide_text(), re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_the_guide_is_linked_from_the_readme():
    assert "docs/instructor-guide.md" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_named_in_the_guide_is_one_that_runs():
    commands = guide_commands()
    assert len(commands) >= 8 and all(c.startswith("grader ") for c in commands)
    prose = re.sub(r"```.*?```", "", guide_text(), flags=re.DOTALL)
    inline = set(re.findall(r"`(grader [^`]*)`", prose))
    assert inline <= set(commands), f"inline commands not run by this test: {inline - set(commands)}"


def test_the_guide_links_resolve():
    for target in re.findall(r"\]\(([^)#]+)", guide_text()):
        if not target.startswith("http"):
            assert (GUIDE.parent / target).exists(), target


def test_every_command_of_the_guide_runs(tmp_path, monkeypatch):
    course = make_course(tmp_path / "course")
    declare(course, (EQUIVALENT, "astype's copy flag changes no value"))
    for student, source in (("alice", course / "reference/shift.py"), ("bob", course / "exercises/shift.py")):
        (course / "submissions" / student).mkdir(parents=True)
        shutil.copy(source, course / "submissions" / student / "shift.py")
    monkeypatch.chdir(course)
    monkeypatch.delenv("GRADER_BUNDLE_KEY", raising=False)
    runner = CliRunner()
    for command in guide_commands():
        result = runner.invoke(app, shlex.split(command)[1:])
        assert result.exit_code == 0, f"{command}\n{result.output}"
    assert (tmp_path / "release" / "exercises" / "relu.py").is_file()
    assert (tmp_path / "release-instructor" / "gradescope-autograder.zip").is_file()
    assert (course / "grades" / "scores.csv").is_file()
    assert (course / "report.xml").is_file()
