"""Writing a course: `grader check` (suites against reference, stub and mutants) and `grader new exercise`."""
