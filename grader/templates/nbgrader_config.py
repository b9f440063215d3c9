# nbgrader's configuration for {{grader:course}}, written by `grader publish --nbgrader`.
# The assignment is source/{{grader:assignment}}/: `nbgrader generate_assignment {{grader:assignment}}`
# makes the student version, `nbgrader autograde {{grader:assignment}}` grades the submissions.
c = get_config()  # noqa: F821 - nbgrader provides it

c.CourseDirectory.root = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
c.CourseDirectory.db_assignments = [{"name": "{{grader:assignment}}"}]

# Each test cell grades a whole exercise (hidden tests included) in a fresh process: give it time.
c.ExecutePreprocessor.timeout = 900
