"""Running suites against student code: the warm engine (`warm`) forks a judge per exercise (`judge`, `plugin`,
`runner`); student code runs in a jailed process (`zygote`, `jail`, `worker`, `sandbox`) that the judge's
suites reach only through plain data (`wire`, `student`)."""
