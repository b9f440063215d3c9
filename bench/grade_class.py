"""How fast a class is graded: submissions per minute with `grader grade-all -j 1` and `-j 2`, and against
`grader grade` run once per submission in a shell loop.

The corpus is N copies of a mixed set of conv submissions: the reference (correct), two
buggy variants from tests/engine/corpus/conv/ (one failing fast, one that hypothesis shrinks),
and one that hangs (a busy endless loop at import). All three ways grade the same folder with
the same copy of the course, whose time limits are shortened (--test-timeout,
--exercise-timeout) so that the hang costs seconds, not minutes. Each grade-all run uses a
fresh gradebook, so nothing is skipped.

Targets: -j 2 at least 1.8x the throughput of -j 1 (on a machine with 2 free cores), and a
hanging submission costs its own time limit and no more.

A class of 12 is `--copies 3`. `--skip-loop` leaves out the shell loop (the slowest way) when
only the -j ratio is wanted. The script prints the machine's load average before and after:
on a shared machine the ratio says more about the neighbours than about the grader.

Usage: python bench/grade_class.py [--copies N] [--repeats R] [--exercise-timeout S] [--test-timeout S] [--skip-loop]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "engine"))

from class_corpus import REFERENCE_CONV, quick_course, student  # noqa: E402 - beside the engine's tests

from grader.classes.gradebook import Gradebook  # noqa: E402

CORPUS = ROOT / "tests/engine/corpus/conv"
BUSY_HANG = "\n\nwhile True:  # an endless loop at import\n    pass\n"


def make_class(folder: Path, copies: int) -> dict[str, str]:
    """Student folder name -> kind."""
    kinds = {}
    for copy in range(copies):
        kinds[student(folder, f"correct{copy}", REFERENCE_CONV).name] = "correct"
        kinds[student(folder, f"buggy-refusals{copy}", CORPUS / "buggy_no_refusals.py").name] = "buggy"
        kinds[student(folder, f"buggy-flipped{copy}", CORPUS / "buggy_flipped_kernel.py").name] = "buggy"
        kinds[student(folder, f"hanging{copy}", REFERENCE_CONV.read_text() + BUSY_HANG).name] = "hanging"
    return kinds


def grade_all(course_root: Path, class_dir: Path, out: Path, jobs: int) -> float:
    command = [
        sys.executable,
        "-m",
        "grader",
        "grade-all",
        str(class_dir),
        "-e",
        "conv",
        "-j",
        str(jobs),
        "-o",
        str(out),
        "--course",
        str(course_root),
    ]
    return _timed(command)


def shell_loop(course_root: Path, class_dir: Path) -> float:
    script = (
        f'for d in "{class_dir}"/*/; do "{sys.executable}" -m grader grade conv --submission "$d" '
        f'--course "{course_root}" --format json > /dev/null || exit 1; done'
    )
    return _timed(["bash", "-c", script])


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def hang_costs(out: Path) -> list[float]:
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gradebook:
        return [r.duration for r in gradebook.latest() if r.student.id.startswith("hanging")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=3, help="copies of the 4 kinds (3: a class of 12)")
    parser.add_argument("--skip-loop", action="store_true", help="leave out the `grader grade` shell loop")
    parser.add_argument("--test-timeout", type=float, default=5.0)
    parser.add_argument("--exercise-timeout", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=1, help="rounds; each way's fastest is kept")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grade-class-bench-") as scratch:
        scratch = Path(scratch)
        course = quick_course(
            scratch / "course", test_timeout=options.test_timeout, exercise_timeout=options.exercise_timeout
        )
        kinds = make_class(scratch / "class", options.copies)
        count = len(kinds)
        ways = {
            "-j 1": lambda out: grade_all(course.root, scratch / "class", out, 1),
            "-j 2": lambda out: grade_all(course.root, scratch / "class", out, 2),
            "grader grade loop": lambda out: shell_loop(course.root, scratch / "class"),
        }
        if options.skip_loop:
            del ways["grader grade loop"]
        load_before = os.getloadavg()[0]
        runs: dict[str, list[float]] = {way: [] for way in ways}
        for round_ in range(options.repeats):  # interleaved, so every way sees the same machine load
            for index, (way, run) in enumerate(ways.items()):
                runs[way].append(run(scratch / f"out-{round_}-{index}"))
        seconds = {way: min(times) for way, times in runs.items()}
        hangs = hang_costs(scratch / "out-0-1")  # the -j 2 run
        load_after = os.getloadavg()[0]
        shutil.rmtree(scratch / "class")
    rate = {way: count / s * 60 for way, s in seconds.items()}
    print(
        f"{count} submissions of conv ({options.copies} copies of: correct, 2 buggy, 1 hanging); "
        f"limits: {options.test_timeout:g} s per test, {options.exercise_timeout:g} s per exercise; "
        f"fastest of {options.repeats} round(s); {os.cpu_count()} cores, load average {load_before:.1f} "
        f"before, {load_after:.1f} after"
    )
    for way, s in seconds.items():
        print(f"  {way:<18} {s:7.1f} s  {rate[way]:6.2f} submissions/min")
    print(f"  -j 2 / -j 1:             {rate['-j 2'] / rate['-j 1']:.2f}x  (target >= 1.8x)")
    if "grader grade loop" in rate:
        print(f"  -j 1 / grader grade loop: {rate['-j 1'] / rate['grader grade loop']:.2f}x")
        print(f"  -j 2 / grader grade loop: {rate['-j 2'] / rate['grader grade loop']:.2f}x")
    print(
        f"  hanging submissions took {', '.join(f'{h:.1f}' for h in hangs)} s each at -j 2 "
        f"(their time limit: {options.exercise_timeout:g} s per exercise)"
    )


if __name__ == "__main__":
    main()
