"""`grader grade --watch`: the engine stays warm, and each saved exercise file is graded again.

The engine (`grader.engine.warm`) is started once; a *watcher* process, forked from it before any
judge, runs watchfiles over the submission folder and writes the names of saved files to a
pipe. The engine's process reads that pipe between gradings, so it keeps no thread of its own
running when it forks a judge. Saving `conv.py` regrades `conv` (and only the exercises
asked for, when some are named) and prints its report; Ctrl-C ends the watch with exit code 0.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from grader.course.manifest import Course
from grader.engine import warm as engine_module
from grader.engine.runner import GradeOptions, runs_torch
from grader.publish.runtime import grade_release
from grader.results import GradeReport


def watch(
    course: Course,
    submission: Path,
    options: GradeOptions,
    show: Callable[[GradeReport, str], None],
    say: Callable[[str], None],
) -> None:
    """Grade `options.exercises` (none named: all of them) now, then each exercise again when its file is
    saved, until Ctrl-C."""
    submission = Path(submission).resolve()
    modules = {e.module: e.id for e in course.exercises if not options.exercises or e.id in options.exercises}
    watcher = None
    try:
        engine_module.shared(models=runs_torch(course, options.exercises))
        watcher = _Watcher(submission)
        _grade(course, submission, options, options.exercises, show)  # none named: every exercise and quiz
        say(f"watching {submission} for changes to {', '.join(sorted(modules))} (Ctrl-C to stop)")
        for saved in watcher.changes():
            exercises = tuple(sorted({modules[name] for name in saved if name in modules}))
            if exercises:
                _grade(course, submission, options, exercises, show)
    except KeyboardInterrupt:
        say("stopped watching")
    finally:
        if watcher is not None:
            watcher.close()


def _grade(
    course: Course,
    submission: Path,
    options: GradeOptions,
    exercises: tuple[str, ...],
    show: Callable[[GradeReport, str], None],
) -> None:
    started = time.monotonic()
    report = grade_release(
        course, submission, GradeOptions(exercises=exercises, public_only=options.public_only, jobs=options.jobs)
    )  # a release's seal, as `grade`
    show(report, f"{', '.join(exercises) or 'everything'}: graded in {time.monotonic() - started:.1f} s")


class _Watcher:
    """A child process that reports, one line per batch, the names of the files saved in `folder`."""

    def __init__(self, folder: Path):
        read, write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            _watch_folder(folder, write)
        os.close(write)
        self.pid = pid
        self._stream = os.fdopen(read, "r", encoding="utf-8")

    def changes(self) -> Iterator[set[str]]:
        for line in self._stream:
            yield set(filter(None, line.rstrip("\n").split("\0")))

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        self._stream.close()


def _watch_folder(folder: Path, fd: int) -> None:
    """In the forked child: watch until killed; never returns."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the engine's to handle; it ends us
        import watchfiles

        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for batch in watchfiles.watch(
                folder, debounce=200, step=20, rust_timeout=0, yield_on_timeout=False, watch_filter=_saved_python_file
            ):
                names = sorted({Path(path).name for change, path in batch if change != watchfiles.Change.deleted})
                if names:
                    out.write("\0".join(names) + "\n")
                    out.flush()
    finally:
        os._exit(0)


def _saved_python_file(change, path: str) -> bool:
    return path.endswith(".py") and "__pycache__" not in path
