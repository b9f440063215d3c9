"""Known mistakes in the efficientnet exercise (catalogue being written; see conv.py for the form)."""

from grader.diagnosis import misconception  # noqa: F401
