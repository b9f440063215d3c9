"""A pytest plugin for the engine's own tests: run them with the judges' hash seed.

The engine's tests grade in judges forked from the test process (`grader.engine.warm`), and
hash randomisation is fixed when an interpreter starts: like `grader` itself (see
`grader.__main__`), pytest re-executes itself once with PYTHONHASHSEED=0. Loaded with
`-p grader.engine.pytest_hashseed` (pyproject's addopts), before pytest captures any output.
"""

import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, sys.orig_argv)
