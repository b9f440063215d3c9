"""`grader quiz` as a student takes it: typer's CliRunner, and a real pseudo-terminal."""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import struct
import subprocess
import sys
import termios
import textwrap
import time
from pathlib import Path

import pytest
from support import ROOT
from typer.testing import CliRunner

from grader.cli.app import app
from grader.cli.common import ExitCode
from grader.course.manifest import load_course
from grader.quiz.answers import read_answers
from grader.quiz.bank import load_bank
from grader.quiz.grading import answer_key_values

COURSE = load_course(ROOT)
QUIZ1, QUIZ2 = COURSE.quizzes
BANK1 = load_bank(COURSE, QUIZ1)
runner = CliRunner()


@pytest.fixture(scope="module")
def right1() -> dict:
    """Quiz 1's key for ada: computed when a test asks (it runs the reference's code), not at collection."""
    return answer_key_values(COURSE, QUIZ1, "ada")


def typed(value) -> str:
    """An answer as a student types it at the prompt."""
    if isinstance(value, list) and value and isinstance(value[0], int):
        return "(" + ", ".join(map(str, value)) + ")"
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)


def quiz(tmp_path: Path, *args: str, lines: list[str], course: Path = ROOT):
    """Run `grader quiz` with `lines` typed in; `.text` is its output with the line wrapping undone."""
    result = runner.invoke(
        app,
        ["quiz", *args, "--course", str(course), "--submission", str(tmp_path)],
        input="".join(line + "\n" for line in lines),
    )
    result.text = " ".join(result.output.split())
    return result


def test_a_formative_quiz_checks_each_answer_and_saves_it(tmp_path, right1):
    result = quiz(tmp_path, "quiz1", "--student", "ada", lines=[typed(v) for v in right1.values()])
    assert result.exit_code == ExitCode.OK, result.output
    assert result.text.count("✓ right") == len(BANK1.questions)
    assert "Right so far: 18 of 18" in result.text
    saved = read_answers(tmp_path / "answers.toml", "quiz1")
    assert saved.student == "ada" and dict(saved.values) == right1
    assert set(saved.attempts.values()) == {1}


def test_prompts_are_reflowed_to_the_terminals_width_not_the_answers_files(tmp_path, right1):
    """A prompt paragraph wraps at the terminal's 80 columns, and only there: the bank's own line breaks
    inside a paragraph reflow (an indented line, such as a matrix's row, stays as it is)."""
    from grader.quiz.variants import variant_for
    from grader.reports.text_report import paragraphs

    result = quiz(tmp_path, "quiz1", "--student", "ada", lines=[typed(v) for v in right1.values()])
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    prompts = {q.id: variant_for("quiz1", q, "ada").prompt() for q in BANK1.questions}
    assert "no padding\n(PyTorch's Conv2d" in prompts["conv_value"], "the bank breaks this paragraph by hand"
    assert "no padding (PyTorch's Conv2d" in paragraphs(prompts["conv_value"])[0]
    long = [p for prompt in prompts.values() for p in paragraphs(prompt) if len(p) > 80]
    assert long, "the bank has a prompt paragraph longer than a line"
    wrapped = textwrap.wrap(max(long, key=len), 80, break_on_hyphens=False)
    first = lines.index(wrapped[0])
    assert lines[first : first + len(wrapped)] == wrapped


def test_a_malformed_shape_is_asked_again(tmp_path, right1):
    position = list(right1).index("conv_output_shape")
    lines = [typed(v) for v in list(right1.values())[:position]] + [
        "(32, 24.5, 32)",
        "32 by 24",
        typed(right1["conv_output_shape"]),
        "quit",
    ]
    result = quiz(tmp_path, "quiz1", "--student", "ada", lines=lines)
    assert result.exit_code == ExitCode.OK
    assert "✗ a shape must be a tuple of ints, such as (64, 56, 56): 24.5 is not a whole number" in result.text
    assert "✗ a shape must be a tuple of ints" in result.text.split("24.5")[1]
    assert read_answers(tmp_path / "answers.toml", "quiz1").values["conv_output_shape"] == right1["conv_output_shape"]
    assert "Run `grader quiz quiz1` again to go on where you left off." in result.text


def test_wrong_answers_use_up_the_attempts_then_the_question_is_closed(tmp_path, right1):
    wrong = str(right1["conv_value"] + 1)
    result = quiz(tmp_path, "quiz1", "--student", "ada", lines=[wrong, wrong, wrong, "quit"])
    assert result.text.count("✗ not right. hint: y[i, j] = sum over u, v") == 3
    assert "2 tries left" in result.text and "1 try left" in result.text and "no tries left" in result.text
    assert read_answers(tmp_path / "answers.toml", "quiz1").attempts == {"conv_value": 3}
    again = quiz(tmp_path, "quiz1", lines=["quit"])
    assert "Resuming: 1 of 18 already answered." in again.text
    assert "Question 2 of 18" in again.text and "Question 1 of 18" not in again.text


def test_the_student_id_is_asked_once_and_kept(tmp_path):
    first = quiz(tmp_path, "quiz2", lines=["not an id!", "ada", "quit"])
    assert "letters, digits and . _ @ + - only" in first.text
    assert read_answers(tmp_path / "answers.toml", "quiz2").student == "ada"
    second = quiz(tmp_path, "quiz2", "--student", "grace", lines=[])
    assert second.exit_code == ExitCode.USAGE and "belongs to student 'ada', not 'grace'" in second.text


def test_a_summative_quiz_saves_and_says_nothing_until_graded(tmp_path):
    result = quiz(tmp_path, "quiz2", "--student", "ada", lines=["b a c e d", "", "quit"])
    assert "saved: b a c e d" in result.text and "skipped" in result.text
    assert "right" not in result.text.replace("Right so far", "").split("Question 1")[1]
    review = quiz(tmp_path, "quiz2", "--review", lines=["a b c d e", "quit"])
    assert "saved so far: b a c e d (saved)" in review.text
    assert read_answers(tmp_path / "answers.toml", "quiz2").values["architecture_order"] == list("abcde")


def test_an_unknown_quiz_is_a_usage_error(tmp_path):
    result = quiz(tmp_path, "quiz9", lines=[])
    assert result.exit_code == ExitCode.USAGE
    assert "no quiz 'quiz9' in this course (quizzes: quiz1, quiz2)" in result.text


def test_without_an_id_the_first_quiz_not_finished_is_taken(tmp_path, right1):
    assert "Quiz 1: convolution, padding and pooling (quiz1)" in quiz(tmp_path, "--student", "ada", lines=["quit"]).text
    quiz(tmp_path, "quiz1", lines=[typed(v) for v in right1.values()])
    assert "Quiz 2: architectures, LeNet to EfficientNet (quiz2)" in quiz(tmp_path, lines=["quit"]).text
    quiz(tmp_path, "quiz2", lines=[typed(v) for v in answer_key_values(COURSE, QUIZ2, "ada").values()])
    answered = quiz(tmp_path, lines=[])
    assert answered.exit_code == ExitCode.USAGE and "every quiz is answered" in answered.text


def test_an_answers_file_that_is_not_toml_is_never_overwritten(tmp_path):
    (tmp_path / "answers.toml").write_text('student = "ada"\n[quiz1]\noutput_size = (1, 2)\n')
    result = quiz(tmp_path, "quiz1", lines=["1"])
    assert result.exit_code == ExitCode.USAGE and "fix it by hand first" in result.text
    assert (tmp_path / "answers.toml").read_text().endswith("output_size = (1, 2)\n")


def test_a_release_checks_answers_against_digests_and_unseals_the_explanation(tmp_path, right1, student_banks):
    release = tmp_path / "release"
    (release / "quizzes").mkdir(parents=True)
    (release / QUIZ1.bank).write_text(student_banks[QUIZ1.id])
    (release / "course.toml").write_text(
        textwrap.dedent(f"""
        [course]
        name = "release"
        tutorial = "{ROOT}/docs/course.md"
        exercises = "{ROOT}/exercises"
        [[exercise]]
        id = "conv"
        title = "conv"
        module = "conv.py"
        points = 20
        section = "The Convolution Operation"
        public = ["{ROOT}/tests/public/test_conv.py"]
        [[quiz]]
        id = "quiz1"
        title = "Quiz 1"
        bank = "quizzes/basics.toml"
        mode = "formative"
        """)
    )
    wrong = str(right1["conv_value"] + 1)
    result = quiz(
        tmp_path, "quiz1", "--student", "ada", course=release, lines=[wrong, typed(right1["conv_value"]), "quit"]
    )
    assert result.exit_code == ExitCode.OK, result.output
    assert "✗ not right" in result.text and "✓ right" in result.text
    assert "why ─" in result.text and "Lay w on x with its top-left corner at row" in result.text  # unsealed


# -- a real terminal ----------------------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>]|\r")


class Terminal:
    """A program in a pseudo-terminal of its own, driven as a person would: read the screen, type a line."""

    def __init__(self, argv: list[str], cwd: Path, *, columns: int = 100, rows: int = 40):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
        self.process = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env=env | {"TERM": "xterm-256color"},
            preexec_fn=_controlling_terminal,
        )
        os.close(slave)
        self.output, self.read_up_to = b"", 0

    @property
    def screen(self) -> str:
        return ANSI.sub("", self.output.decode("utf-8", errors="replace"))

    def expect(self, pattern: str, timeout: float = 120) -> str:
        """Wait until `pattern` appears after what was read so far; return the text up to it."""
        deadline = time.monotonic() + timeout
        while True:
            match = re.compile(pattern, re.DOTALL).search(self.screen, self.read_up_to)
            if match:
                text, self.read_up_to = self.screen[self.read_up_to : match.end()], match.end()
                return text
            if time.monotonic() > deadline or not self._read(0.5) and self.process.poll() is not None:
                raise AssertionError(
                    f"{pattern!r} never shown; the screen after the last match:\n"
                    f"{self.screen[self.read_up_to :][-2000:]}"
                )

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")  # Enter, as a keyboard sends it

    def wait(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self._read(0.2)
        while self._read(0.1):
            pass
        os.close(self.master)
        return self.process.wait(timeout=5)

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        try:
            data = os.read(self.master, 65536) if ready else b""
        except OSError:  # the program ended and closed its side
            data = b""
        self.output += data
        return bool(data)


def _controlling_terminal() -> None:
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def test_a_new_student_takes_quiz1_in_a_real_terminal_stops_and_resumes(tmp_path, right1):
    command = [sys.executable, "-m", "grader", "quiz", "quiz1", "--course", str(ROOT), "--submission", str(tmp_path)]
    answers = list(right1.items())
    stop_after = [qid for qid, _ in answers].index("conv_output_shape")

    first = Terminal(command, tmp_path)
    first.expect(r"student id \(as your instructor gave it\): ")
    first.type("ada")
    first.expect(r"18 questions, 28 points\. formative")
    for number, (qid, value) in enumerate(answers[: stop_after + 1], 1):
        first.expect(rf"Question {number} of 18.*?{number - 1}/18 answered.*?answer: ", timeout=120)
        if qid == "conv_output_shape":
            first.type("(32, 24.5)")
            first.expect(r"✗ a shape must be a tuple of ints, such as \(64, 56, 56\): 24\.5 is not a whole number")
            first.expect(r"answer: ")
        first.type(typed(value))
        first.expect(r"✓ right")
    first.expect(r"answer: ")
    first.type("quit")
    first.expect(r"7 of 18 questions answered")
    assert first.wait() == 0

    second = Terminal(command, tmp_path)
    second.expect(r"Resuming: 7 of 18 already answered\.")
    for number, (qid, value) in enumerate(answers[stop_after + 1 :], stop_after + 2):
        second.expect(rf"Question {number} of 18.*?answer: ")
        second.type(typed(value))
        second.expect(r"✓ right")
    second.expect(r"end of the quiz.*18 of 18 questions answered.*Right so far:\s+18 of 18")
    assert second.wait() == 0
    assert "Question 1 of 18" not in second.screen

    # What the sessions saved grades full (in this process: the sessions were the real command lines).
    graded = runner.invoke(
        app, ["grade", "quiz1", "--course", str(ROOT), "--submission", str(tmp_path), "--format", "json"]
    )
    assert graded.exit_code == ExitCode.OK, graded.output
    report = json.loads(graded.stdout)
    assert (report["score"], report["max_score"]) == (28, 28)
