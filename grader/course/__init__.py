"""The course as files: `course.toml` (manifest), its assignments, the stubs generated from reference/, the text."""
