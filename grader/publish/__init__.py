"""Publishing a course: the student release, and what CI, Gradescope and nbgrader consume.

`release.publish` writes the release as an ordered list of small transforms;
the other modules each make one thing: `bundle` the encrypted hidden suites,
`tamper` the checksum manifest, `classroom` the GitHub Actions workflow,
`gradescope` the autograder zip, `notebooks` the nbgrader source notebooks,
`runtime` what `grader grade` does differently inside a release.
"""
