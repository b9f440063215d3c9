"""`grader` and `python -m grader`: the command line, always with the judges' hash seed.

Hash randomisation is decided when an interpreter starts. Judges used to be new
interpreters started with PYTHONHASHSEED=0; they are now forked from this process
(`grader.engine.warm`), so this process re-executes itself once with the same seed, before
importing anything heavy: the same submission gets the same messages, whatever order a
set of strings iterates in.
"""

import os
import sys


def main() -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, sys.orig_argv)  # the same command line (and -X options), seeded
    from grader.cli.app import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
