#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
# Written by `grader publish --gradescope` for {{grader:course}}.
set -euo pipefail
cd "$(dirname "$0")"

# The heaviest exercise's student process may use {{grader:memory_mb}} MB (course.toml's memory_mb),
# beside the grader's own processes: the container needs {{grader:container_mb}} MB. Pick at least
# that in the autograder's settings ("Container specifications"); a smaller one fails here, at build
# time, rather than costing students points for memory they did not use.
needed_kb=$(( {{grader:container_mb}} * 1024 ))
total_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
if [ "$total_kb" -lt "$needed_kb" ]; then
  echo "this container has $((total_kb / 1024)) MB of memory; the course needs {{grader:container_mb}} MB" >&2
  exit 1
fi

apt-get update -qq
apt-get install -y -qq python3 python3-pip python3-venv

# A private environment: Gradescope's images may refuse system-wide pip installs.
python3 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --quiet --upgrade pip
# The CPU build of torch first: a plain requirement would pull a multi-gigabyte CUDA build.
/autograder/venv/bin/python -m pip install --quiet "{{grader:torch}}" --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/python -m pip install --quiet -e .
