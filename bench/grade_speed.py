"""How long a student waits for `grader grade`, as ratios to a baseline taken in the same run.

The machines this runs on are noisy (and often shared), so absolute seconds mean little: the
baseline is the bare import of the grader's heavy dependencies (`python -c "import torch,
numpy, hypothesis, pytest"`), measured interleaved with the grading runs, and the figures
that matter are the ratios (medians). Targets:

- `grader grade` of the full reference (every exercise and quiz): at most 5x the import;
  peak memory of the whole process tree at most 600 MiB;
- `grader grade conv` on the reference: at most 2x; on the stub: at most 1.5x;
- in `grader grade --watch conv`, a regrade after a save: at most 1x;
- a correct pure-Python loop conv completes the hidden suite within 60 s.

Memory is the peak, sampled every 50 ms, of the sum of PSS (proportional set size, from
/proc/PID/smaps_rollup: pages shared by forked processes counted once in all) over the
command's process tree; the sum of RSS (shared pages counted in every process) is printed too.
Beside it: the largest single process, and an idle engine's tree (engine, zygote, judge server),
rehearsed for models or not: what every grading stands on.

Usage: python bench/grade_speed.py [--repeats N] [--skip-full]
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOUR_LOOPS = ROOT / "tests/engine/corpus/conv/correct_four_loops.py"
GRADER = [sys.executable, "-m", "grader", "grade", "--course", str(ROOT)]
ENV = dict(os.environ)  # as a student runs it: `grader` re-executes itself once for the hash seed


def timed(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True, env=ENV)
    return time.perf_counter() - started, completed.stdout


def baseline() -> float:
    return timed([sys.executable, "-c", "import torch, numpy, hypothesis, pytest"])[0]


def full_submission(folder: Path) -> Path:
    """The reference modules and a right answers file for every quiz: a full-marks submission."""
    sys.path.insert(0, str(ROOT))
    from grader.course.manifest import load_course
    from grader.quiz.grading import answer_key_values

    course = load_course(ROOT)
    shutil.copytree(ROOT / "reference", folder, ignore=shutil.ignore_patterns("__pycache__"))
    lines = ['student = "ada"']
    for quiz in course.quizzes:
        lines.append(f"\n[{quiz.id}]")
        lines += [
            f"{key} = {json.dumps(value) if not isinstance(value, bool) else str(value).lower()}"
            for key, value in answer_key_values(course, quiz, "ada").items()
        ]
    (folder / "answers.toml").write_text("\n".join(lines) + "\n")
    return folder


def grade_conv(submission: Path) -> list[str]:
    return [*GRADER, "conv", "--submission", str(submission), "--format", "json"]


# -- memory of a process tree ------------------------------------------------------------------------


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as stream:
                    parent = int(stream.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _memory(pids: list[int]) -> tuple[int, int]:
    """(sum of PSS, sum of RSS) in kB over `pids`."""
    pss = rss = 0
    for pid in pids:
        one_pss, one_rss = _process_memory(pid)
        pss, rss = pss + one_pss, rss + one_rss
    return pss, rss


def _process_memory(pid: int) -> tuple[int, int]:
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as stream:
            for line in stream:
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
    except OSError:
        pass
    return pss, rss


def _largest(pids: list[int]) -> int:
    """The largest PSS (kB) of one process of `pids`: the floor no sharing between processes can lower
    (a worker holding VGG-16's weights, 530 MB of them, is one process)."""
    return max((_process_memory(pid)[0] for pid in pids), default=0)


def idle_engine_memory(models: bool) -> float:
    """PSS (MiB) of a warm engine's tree at rest (engine, zygote, judge server), rehearsed for models or not:
    what every grading stands on, before a judge or a student process adds its own."""
    program = (
        "from grader.engine import warm; import sys; "
        f"warm.shared(models={models}); print('ready', flush=True); sys.stdin.read()"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", program], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV
    )
    try:
        assert process.stdout.readline().strip() == "ready", "the engine did not start"
        time.sleep(0.5)
        return _memory(_tree(process.pid))[0] / 1024
    finally:
        process.stdin.close()
        process.wait(timeout=60)


def timed_with_memory(command: list[str]) -> tuple[float, float, float, float, str]:
    """Seconds, peak PSS and peak RSS (MiB) of the whole tree, the largest PSS of one process in it, and stdout."""
    peak = [0, 0, 0]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=ENV)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            pids = _tree(process.pid)
            pss, rss = _memory(pids)
            peak[0], peak[1], peak[2] = max(peak[0], pss), max(peak[1], rss), max(peak[2], _largest(pids))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return seconds, peak[0] / 1024, peak[1] / 1024, peak[2] / 1024, out


# -- watch mode ------------------------------------------------------------------------------------


def watch_regrades(repeats: int) -> list[float]:
    """Seconds from saving conv.py to the end of its new report, in `grader grade conv --watch`."""
    with tempfile.TemporaryDirectory() as folder:
        submission = Path(folder) / "submission"
        shutil.copytree(ROOT / "exercises", submission)
        master, slave = pty.openpty()
        process = subprocess.Popen(
            [*GRADER, "conv", "--watch", "--submission", str(submission)],
            cwd=ROOT,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=ENV | {"COLUMNS": "120"},
            start_new_session=True,
        )
        os.close(slave)
        seen = bytearray()

        def wait_for(text: bytes, since: int) -> int:
            while text not in seen[since:]:
                ready, _, _ = select.select([master], [], [], 300)
                if not ready:
                    raise TimeoutError(f"{text!r} did not appear: {seen[-2000:].decode(errors='replace')}")
                seen.extend(os.read(master, 65536))
            return seen.index(text, since) + len(text)

        position = wait_for(b"(Ctrl-C to stop)", 0)
        sources = [(ROOT / "reference/conv.py").read_text(), (ROOT / "exercises/conv.py").read_text()]
        times = []
        try:
            for n in range(repeats):
                started = time.perf_counter()
                (submission / "conv.py").write_text(sources[n % 2])
                position = wait_for(b"total ", wait_for(b"conv: graded in", position))
                position = wait_for(b"%", position)
                times.append(time.perf_counter() - started)
        finally:
            os.killpg(process.pid, 9)
            process.wait()
            os.close(master)
        return times


# -- the report --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-full", action="store_true", help="skip grading every exercise (the longest run)")
    options = parser.parse_args()
    repeats = options.repeats
    base, reference, stub, full, pss, rss, largest = [], [], [], [], [], [], []
    everything = full_submission(Path(tempfile.mkdtemp(prefix="bench-full-")) / "submission")
    for _ in range(repeats):  # interleaved, so that every figure sees the same machine load
        base.append(baseline())
        reference.append(timed(grade_conv(ROOT / "reference"))[0])
        stub.append(timed(grade_conv(ROOT / "exercises"))[0])
        if not options.skip_full:
            seconds, peak_pss, peak_rss, peak_one, out = timed_with_memory(
                [*GRADER, "--submission", str(everything), "--format", "json"]
            )
            report = json.loads(out)
            assert report["score"] == report["max_score"], "the reference did not score full marks"
            full.append(seconds)
            pss.append(peak_pss)
            rss.append(peak_rss)
            largest.append(peak_one)
    shutil.rmtree(everything.parent)
    regrades = watch_regrades(2 * repeats)
    base.append(baseline())
    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(FOUR_LOOPS, Path(folder) / "conv.py")
        loops_seconds, loops_report = timed(grade_conv(Path(folder)))
    loops = json.loads(loops_report)
    b = statistics.median(base)

    def line(label: str, values: list[float], target: str) -> None:
        value = statistics.median(values)
        print(f"{label:<44} {value:7.2f} s  ratio {value / b:5.2f}x  (target {target})")

    print(
        f"{'baseline: import torch, numpy, hypothesis, pytest':<44} {b:7.2f} s  (median of {len(base)}: "
        f"{', '.join(f'{x:.2f}' for x in base)})"
    )
    if full:
        line("grader grade, reference, every exercise+quiz", full, "<= 5x")
        print(
            f"{'  peak memory of its process tree':<44} {statistics.median(pss):7.0f} MiB PSS (target <= 600), "
            f"{statistics.median(rss):.0f} MiB summed RSS"
        )
        print(f"{'  the largest single process in it':<44} {statistics.median(largest):7.0f} MiB PSS")
        print(
            f"{'  an idle engine (engine, zygote, server)':<44} {idle_engine_memory(True):7.0f} MiB PSS rehearsed "
            f"for models, {idle_engine_memory(False):.0f} MiB not"
        )
    line("grader grade conv, reference", reference, "<= 2x")
    line("grader grade conv, stub", stub, "<= 1.5x")
    line("--watch: regrade of conv after a save", regrades, "<= 1x")
    print(
        f"{'grader grade conv, pure-Python four loops':<44} {loops_seconds:7.2f} s  ratio {loops_seconds / b:5.2f}x"
        f"  score {loops['score']:g}/{loops['max_score']:g}  (target: completes within 60 s)"
    )


if __name__ == "__main__":
    main()
