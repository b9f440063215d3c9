"""Finding a class's submissions in the layouts instructors get, and unpacking them safely."""

from __future__ import annotations

import os
import zipfile

import pytest
from class_corpus import REFERENCE_CONV, student

from grader.classes import submissions
from grader.classes.submissions import Student, SubmissionError, discover, prepare


def _zip(path, members: dict[str, str]):
    with zipfile.ZipFile(path, "w") as bundle:
        for name, text in members.items():
            bundle.writestr(name, text)
    return path


def test_a_folder_per_student(tmp_path):
    student(tmp_path, "bob", REFERENCE_CONV)
    student(tmp_path, "alice", REFERENCE_CONV)
    (tmp_path / "README.txt").write_text("not a submission")
    (tmp_path / ".DS_Store").write_text("")
    (tmp_path / "__MACOSX").mkdir()
    found = discover(tmp_path)
    assert [(s.student.id, s.layout) for s in found] == [("alice", "folder"), ("bob", "folder")]


def test_github_classroom_repositories_lose_the_assignment_prefix(tmp_path, course):
    root = tmp_path / "cnn-hw1-submissions"
    for login in ("octocat", "hubot"):
        repo = root / f"cnn-hw1-{login}"
        (repo / ".git").mkdir(parents=True)
        (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
        student(repo, "exercises", REFERENCE_CONV)
        (repo / "README.md").write_text("# my work\n")
    found = discover(root)
    assert [(s.student.id, s.layout) for s in found] == [("hubot", "repository"), ("octocat", "repository")]
    prepared = prepare(found[0], tmp_path / "scratch", course)
    assert prepared.folder.name == "exercises" and (prepared.folder / "conv.py").is_file()
    assert not (tmp_path / "scratch" / "submission" / ".git").exists()


def test_a_zip_per_student_with_or_without_a_wrapping_folder(tmp_path, course):
    code = REFERENCE_CONV.read_text()
    _zip(tmp_path / "alice.zip", {"conv.py": code})
    _zip(tmp_path / "bob.zip", {"bob-hw/conv.py": code, "bob-hw/notes.txt": "hi", "__MACOSX/bob-hw/._conv.py": ""})
    alice, bob = discover(tmp_path)
    assert (alice.student.id, alice.layout, bob.student.id) == ("alice", "zip", "bob")
    prepared_a = prepare(alice, tmp_path / "a", course)
    prepared_b = prepare(bob, tmp_path / "b", course)
    assert (prepared_a.folder / "conv.py").read_text() == code
    assert prepared_b.folder.name == "bob-hw" and (prepared_b.folder / "conv.py").read_text() == code
    assert not (tmp_path / "b" / "submission" / "__MACOSX").exists()


def test_gradescope_export_names_every_submitter(tmp_path, course):
    export = tmp_path / "assignment_42_export"
    student(export, "submission_1001", REFERENCE_CONV)
    student(export, "submission_1002", REFERENCE_CONV)
    (export / "submission_metadata.yml").write_text(
        "submission_1001:\n  :submitters:\n  - :name: Ada Lovelace\n    :sid: '100'\n    :email: ada@uni.edu\n"
        "  :created_at: 2026-11-20 10:00:00.000000000 -08:00\n"
        "submission_1002:\n  :submitters:\n  - :name: Pair One\n    :sid: '200'\n    :email: one@uni.edu\n"
        "  - :name: Pair Two\n    :email: two@uni.edu\n"
    )
    found = discover(tmp_path)  # the folder the export's zip unpacked into
    assert [s.student for s in found] == [
        Student("100", "Ada Lovelace", "ada@uni.edu"),
        Student("200", "Pair One", "one@uni.edu"),
        Student("two@uni.edu", "Pair Two", "two@uni.edu"),
    ]
    assert {s.layout for s in found} == {"gradescope"}
    assert found[1].source == found[2].source == export / "submission_1002"


@pytest.mark.parametrize("name", ["../escape.py", "/etc/evil.py", "a/../../escape.py"])
def test_a_zip_that_writes_outside_its_folder_is_refused(tmp_path, course, name):
    (tmp_path / "class").mkdir()
    _zip(tmp_path / "class" / "mallory.zip", {"conv.py": "x = 1\n", name: "x = 2\n"})
    [found] = discover(tmp_path / "class")
    with pytest.raises(SubmissionError, match="unsafe path"):
        prepare(found, tmp_path / "scratch", course)
    assert not (tmp_path / "escape.py").exists() and not (tmp_path / "scratch" / "escape.py").exists()


def test_a_corrupt_zip_is_a_submission_error(tmp_path, course):
    (tmp_path / "eve.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    [found] = discover(tmp_path)
    with pytest.raises(SubmissionError, match="eve.zip is not a readable zip"):
        prepare(found, tmp_path / "scratch", course)


def test_a_submission_holding_a_symbolic_link_is_refused_by_name(tmp_path, course):
    """A link could point at any file of the grading machine: never followed, never silently dropped."""
    home = student(tmp_path / "class", "sym", REFERENCE_CONV)
    secret = tmp_path / "secret.txt"
    secret.write_text("the answers")
    os.symlink(secret, home / "answers.txt")
    [found] = discover(tmp_path / "class")
    with pytest.raises(SubmissionError, match="answers.txt is a symbolic link"):
        prepare(found, tmp_path / "scratch", course)


def test_a_submission_over_the_size_limit_is_refused(tmp_path, course, monkeypatch):
    monkeypatch.setattr(submissions, "_MAX_BYTES", 1000)
    home = student(tmp_path / "class", "big", REFERENCE_CONV)
    (home / "data.bin").write_bytes(b"\0" * 5000)
    [found] = discover(tmp_path / "class")
    with pytest.raises(SubmissionError, match="larger than a submission may be"):
        prepare(found, tmp_path / "scratch", course)


def test_the_content_hash_follows_the_files_and_nothing_else(tmp_path, course):
    first = student(tmp_path / "one", "a", REFERENCE_CONV)
    student(tmp_path / "two", "a", REFERENCE_CONV)

    def hashes():
        return [
            prepare(s, tmp_path / f"scratch{i}", course).content_hash
            for i, s in enumerate(discover(tmp_path / "one") + discover(tmp_path / "two"))
        ]

    same_a, same_b = hashes()
    assert same_a == same_b  # the same files in another place
    (first / "__pycache__").mkdir()
    (first / "__pycache__" / "conv.cpython-311.pyc").write_bytes(b"cache")
    os.utime(first / "conv.py", (0, 0))
    assert hashes()[0] == same_a  # caches and timestamps are not content
    (first / "conv.py").write_text(REFERENCE_CONV.read_text() + "\n# edited\n")
    assert hashes()[0] != same_a
    (first / "conv.py").write_text(REFERENCE_CONV.read_text())
    (first / "helper.py").write_text("X = 1\n")
    assert hashes()[0] != same_a  # a new file is a change


def test_a_submission_without_any_course_module_is_graded_from_its_top_folder(tmp_path, course):
    home = student(tmp_path / "class", "lost", "print('hello')\n", module="homework.py")
    [found] = discover(tmp_path / "class")
    prepared = prepare(found, tmp_path / "scratch", course)
    assert prepared.folder == tmp_path / "scratch" / "submission" and home.is_dir()


def test_a_missing_class_folder_is_an_error(tmp_path):
    with pytest.raises(SubmissionError, match="is not a folder"):
        discover(tmp_path / "nowhere")


def test_two_submissions_for_one_student_are_refused(tmp_path):
    student(tmp_path, "alice", REFERENCE_CONV)
    _zip(tmp_path / "alice.zip", {"conv.py": "x = 1\n"})
    with pytest.raises(SubmissionError, match="two submissions, e.g. alice: alice, alice.zip"):
        discover(tmp_path)
