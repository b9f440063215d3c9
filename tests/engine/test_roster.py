"""The class roster: one CSV that every class command reads to know who a submission belongs to."""

from __future__ import annotations

import datetime as dt

import pytest

from grader.classes.roster import RosterError, load_roster

ROSTER = """\ufeffid,name,email,github,repository,extension_days
s001,Ada Lovelace,ada@example.edu,ada-l,,
s002,Alan Turing,alan@example.edu,@aturing,turing-folder,2
"""


@pytest.fixture
def roster_file(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return path


def test_a_submission_is_found_by_id_login_folder_or_classroom_repository(roster_file):
    roster = load_roster(roster_file)
    assert roster.find("s001").name == "Ada Lovelace"
    assert roster.find("ADA-L").id == "s001"
    assert roster.find("turing-folder.zip").id == "s002"
    assert roster.find("cnn-deep-dive-aturing").id == "s002"
    assert roster.find("someone-else") is None


def test_extensions_are_days_added_to_the_due_date(roster_file):
    roster = load_roster(roster_file)
    assert roster.entry("s002").extension == dt.timedelta(days=2)
    assert roster.entry("s001").extension == dt.timedelta(0)


@pytest.mark.parametrize(
    "text, message",
    [
        ("name,email\nAda,a@b\n", "missing column 'id'"),
        ("id,nickname\ns1,x\n", "unknown column 'nickname'"),
        ("id,name\ns1,A\ns1,B\n", ":3: id 's1' is already on line 2"),
        ("id,name\n,A\n", ":2: the id is empty"),
        ("id,extension_days\ns1,soon\n", "extension_days must be a number of days"),
        ("id,extension_days\ns1,-1\n", "extension_days must be zero or more"),
    ],
)
def test_a_bad_roster_is_refused_with_its_line(tmp_path, text, message):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RosterError, match=message):
        load_roster(path)
