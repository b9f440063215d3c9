"""`grader grade --watch`, driven through a pseudo-terminal as a student at a terminal drives it:
start it, save a file, read the new report, press Ctrl-C."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

from support import ROOT


def _controlling_terminal() -> None:
    """In the child: a session of its own, whose controlling terminal is the pseudo-terminal (stdin)."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """A command running on a pseudo-terminal; `expect` reads its output until a text appears."""

    def __init__(self, command: list[str], cwd: Path):
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            command,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            preexec_fn=_controlling_terminal,
            env=os.environ | {"COLUMNS": "120", "TERM": "dumb"},
        )
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 300) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} never appeared; the terminal shows:\n{self.seen[-3000:]}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the command ended and closed the terminal
                    chunk = b""
                assert chunk or text in self.seen, f"{text!r} never appeared before the end:\n{self.seen[-3000:]}"
                self.seen += chunk.decode("utf-8", errors="replace")
        found = self.seen[: self.seen.index(text) + len(text)]
        self.seen = self.seen[len(found) :]
        return found

    def ctrl_c(self) -> None:
        os.write(self.master, b"\x03")  # what the terminal turns into SIGINT for its foreground group

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        os.close(self.master)


def test_saving_a_file_regrades_its_exercise_and_ctrl_c_exits_cleanly(tmp_path):
    submission = tmp_path / "submission"
    shutil.copytree(ROOT / "exercises", submission)
    terminal = Terminal(
        [
            sys.executable,
            "-m",
            "grader",
            "grade",
            "conv",
            "--watch",
            "--submission",
            str(submission),
            "--course",
            str(ROOT),
        ],
        cwd=tmp_path,
    )
    try:
        terminal.expect("conv: graded in")
        assert "0/20" in terminal.expect("(Ctrl-C to stop)")
        (submission / "pooling.py").write_text((ROOT / "reference/pooling.py").read_text())  # not watched: conv only
        shutil.copy(ROOT / "reference/conv.py", submission / "conv.py")
        regraded = terminal.expect("conv: graded in")
        report = terminal.expect("100%")
        assert "pooling" not in regraded + report and "20/20" in report
        terminal.ctrl_c()
        terminal.expect("stopped watching")
        assert terminal.process.wait(timeout=60) == 0
        rest = terminal.seen
        try:
            rest += os.read(terminal.master, 65536).decode(errors="replace")
        except OSError:
            pass
        assert "Traceback" not in rest and "KeyboardInterrupt" not in rest
    finally:
        terminal.close()


def test_with_no_exercise_named_everything_is_graded_at_once_then_each_saved_exercise(tmp_path):
    """A student who starts `grader grade --watch` sees their whole grade before saving anything."""
    submission = tmp_path / "submission"
    submission.mkdir()
    shutil.copy(ROOT / "exercises/conv.py", submission / "conv.py")
    terminal = Terminal(
        [sys.executable, "-m", "grader", "grade", "--watch", "--submission", str(submission), "--course", str(ROOT)],
        cwd=tmp_path,
    )
    try:
        terminal.expect("everything: graded in")
        whole = terminal.expect("watching")
        assert all(name in whole for name in ("conv", "pooling", "vgg", "quiz1")) and "0/20" in whole
        terminal.expect("stop)")  # "(Ctrl-C to stop)", wrapped with the long folder name on a narrow terminal
        shutil.copy(ROOT / "reference/conv.py", submission / "conv.py")
        terminal.expect("conv: graded in")
        assert "20/20" in terminal.expect("%")
        terminal.ctrl_c()
        terminal.expect("stopped watching")
        assert terminal.process.wait(timeout=60) == 0
    finally:
        terminal.close()
