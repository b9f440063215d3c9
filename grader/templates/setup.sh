#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
# Written by `grader publish --gradescope` for {{grader:course}}.
set -euo pipefail
cd "$(dirname "$0")"

apt-get update -qq
apt-get install -y -qq python3 python3-pip python3-venv

# A private environment: Gradescope's images may refuse system-wide pip installs.
python3 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --quiet --upgrade pip
# The CPU build of torch first: a plain requirement would pull a multi-gigabyte CUDA build.
/autograder/venv/bin/python -m pip install --quiet "{{grader:torch}}" --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/python -m pip install --quiet -e .
