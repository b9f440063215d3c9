"""Publishing a course: the student release, and the graders that compute official grades.

`release.publish` writes the formative student release as an ordered list of small
transforms (no secret in it: `leaks` proves it); the other modules each make one
thing: `tamper` the checksum manifest, `classroom` the release's GitHub Actions
workflow, `runtime` what `grader grade` does inside a release, and, for official
grades where students have no hand, `grading_repo` the instructor's grading
repository (its steps in `grading_cli`), `gradescope` the autograder zip,
`notebooks` the nbgrader source notebooks.
"""
