"""An auto-grader for the CNN Deep Dive course.

The folder is the architecture: `manifest` reads course.toml; `runner` grades a
submission with one `judge` process per exercise; the judge runs the suites
through `plugin`, which talks to the student's code in a `sandbox`ed `worker`
process over `wire`; `checks` and `feedback` word the verdicts; `score` holds
the policy; `reports` renders; `stubs` generates exercises/ from reference/.
"""
