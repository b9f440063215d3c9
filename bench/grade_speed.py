"""How long a student waits for `grader grade conv`, as ratios to a baseline taken in the same run.

The machines this runs on are noisy, so absolute seconds mean little: the baseline is the
bare import of the grader's heavy dependencies (`python -c "import torch, numpy, hypothesis,
pytest"`), measured interleaved with the grading runs, and the figure that matters is the ratio.
Target: grading the reference conv at most 4x the baseline; a correct pure-Python loop conv
completes the hidden suite within 60 s.

Usage: python bench/grade_speed.py [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOUR_LOOPS = ROOT / "tests/engine/corpus/conv/correct_four_loops.py"


def timed(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, completed.stdout


def grade_command(submission: Path) -> list[str]:
    return [sys.executable, "-m", "grader", "grade", "conv", "--submission", str(submission), "--format", "json"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    repeats = parser.parse_args().repeats
    baseline_command = [sys.executable, "-c", "import torch, numpy, hypothesis, pytest"]
    baseline, reference = [], []
    for _ in range(repeats):  # interleaved, so both see the same machine load
        baseline.append(timed(baseline_command)[0])
        reference.append(timed(grade_command(ROOT / "reference"))[0])
    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(FOUR_LOOPS, Path(folder) / "conv.py")
        loops_seconds, loops_report = timed(grade_command(Path(folder)))
    report = json.loads(loops_report)
    base, ref = statistics.median(baseline), statistics.median(reference)
    print(f"baseline (import torch, numpy, hypothesis, pytest): {base:6.2f} s  (median of {repeats})")
    print(f"grade reference conv:                               {ref:6.2f} s  ratio {ref / base:4.2f}x  (target <= 4x)")
    print(f"grade pure-Python four-loop conv:                   {loops_seconds:6.2f} s  ratio {loops_seconds / base:4.2f}x"
          f"  score {report['score']:g}/{report['max_score']:g}  (target: completes within 60 s)")


if __name__ == "__main__":
    main()
