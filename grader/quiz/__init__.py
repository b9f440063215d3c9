"""Quizzes: question banks in TOML, per-student variants, answers graded with the exercises.

- `bank`: load and validate a bank (quizzes/*.toml), the course's or a student copy.
- `variants`: a question's numbers drawn per student (seeded by the student's id).
- `forms`: what an answer of each kind looks like: parsing, comparing, showing.
- `oracle`: the answer key, computed by the course's reference/ code (grading side only).
- `keys`: salted digests of answers, for formative checks in a release without a key.
- `answers`: the student's answers file (plain TOML, also edited by hand).
- `grading`: an answers file graded into an `ExerciseResult`, one test per question.
- `release`: the student copy of a bank: questions and templates, no key in clear text.
- `session`, `cli`: `grader quiz`, the quiz in the terminal.
"""
