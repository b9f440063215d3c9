"""Known mistakes in the vgg exercise (catalogue being written; see conv.py for the form)."""

from grader.diagnosis import misconception  # noqa: F401
