"""Grading a class: submissions as they arrive, bulk grading, the gradebook, imports, exports, the class report."""
