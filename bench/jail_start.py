"""What starting one student process costs: a jailed worker forked by the zygote, against a cold start.

Before the jail, each student process was a new interpreter, `python -I -m grader.engine.worker`,
which imported the worker and numpy before its first answer (and torch when the submission
imported it: the model exercises). Now a zygote that has imported numpy and torch once forks
each worker, which then builds its jail (namespaces, a new root, pivot_root) before answering.

Measured interleaved in the same run, medians of a few repeats, as ratios (machines are noisy:
seconds mean little). Each start is timed until the worker's greeting, the moment it can take a
request; the cold start is timed until its imports are done, as the old worker's was.

Usage: python bench/jail_start.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.engine import wire
from grader.engine.zygote import Zygote

COLD_NUMPY = [sys.executable, "-I", "-c", "import grader.engine.worker, numpy"]
COLD_TORCH = [sys.executable, "-I", "-c", "import grader.engine.worker, numpy, torch"]


def cold(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL, env=os.environ | {"OMP_NUM_THREADS": "1"})
    return time.perf_counter() - started


def jailed(zygote: Zygote, submission: Path) -> tuple[float, bool]:
    """Seconds from the request to the worker's greeting; whether it is jailed."""
    request_read, request_write = os.pipe()
    reply_read, reply_write = os.pipe()
    output_read, output_write = os.pipe()
    started = time.perf_counter()
    worker = zygote.spawn(
        submission=submission,
        forbidden=(),
        memory_mb=3072,
        requests=request_read,
        replies=reply_write,
        output=output_write,
    )
    for fd in (request_read, reply_write, output_write):
        os.close(fd)
    with os.fdopen(reply_read, "rb") as replies:
        select.select([replies], [], [], 60)
        greeting = wire.read_message(replies)
        seconds = time.perf_counter() - started
    worker.kill()
    for fd in (request_write, output_read):
        os.close(fd)
    return seconds, bool(greeting.get("confined"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as scratch:
        submission = Path(scratch)
        (submission / "conv.py").write_text("def f(x):\n    return x\n")
        started = time.perf_counter()
        zygote = Zygote.start_fresh()
        zygote_seconds = time.perf_counter() - started
        times: dict[str, list[float]] = {"cold, numpy": [], "cold, numpy + torch": [], "jailed, from the zygote": []}
        confined = True
        try:
            for _ in range(options.repeats):
                times["cold, numpy"].append(cold(COLD_NUMPY))
                times["cold, numpy + torch"].append(cold(COLD_TORCH))
                seconds, confined = jailed(zygote, submission)
                times["jailed, from the zygote"].append(seconds)
        finally:
            zygote.close()
    medians = {name: statistics.median(values) for name, values in times.items()}
    jail = medians["jailed, from the zygote"]
    print(
        f"starting one student process, medians of {options.repeats}"
        + ("" if confined else " (NOT jailed: the kernel refused namespaces here)")
    )
    for name, value in medians.items():
        print(f"  {name:26s} {value * 1000:8.1f} ms   {value / jail:6.1f}x the jailed start")
    print(f"  (the zygote itself, once per judge without a warm engine: {zygote_seconds * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
