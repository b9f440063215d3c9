"""The release's README: set-up in two commands, how to grade, the quiz, CI and Gradescope."""

from __future__ import annotations

from grader.course.manifest import Course
from grader.publish.classroom import torch_requirement
from grader.publish.files import template


def student_readme(course: Course) -> str:
    """The README of a release of `course` (narrowed to what is released)."""
    rows = ["| exercise | module | points | tutorial section |", "| --- | --- | ---: | --- |"]
    rows += [
        f"| {e.id}: {e.title} | `{course.info.exercises}/{e.module}` | {e.points} | {e.section} |"
        for e in course.exercises
    ]
    grade_one = f"grader grade {course.exercises[0].id}".ljust(30)  # its comment aligned with the others'
    return template(
        "README.md",
        course=course.info.name,
        tutorial=course.info.tutorial,
        exercises="\n".join(rows),
        torch=torch_requirement(),
        exercises_dir=course.info.exercises,
        grade_one=grade_one,
        quiz=_quiz_section(course),
    )


def _quiz_section(course: Course) -> str:
    if not course.quizzes:
        return ""
    lines = [
        "",
        "## The quiz",
        "",
        "```bash",
        "grader quiz             # take it in the terminal (answers are saved as you go)",
        "grader quiz --review    # change an answer",
        "```",
        "",
    ]
    for quiz in course.quizzes:
        how = (
            "each answer is checked as you give it, a few attempts per question"
            if quiz.mode == "formative"
            else "your answers are graded with the exercises, after you hand them in"
        )
        lines.append(
            f"- **{quiz.title}** (`grader quiz {quiz.id}`): {how}. The questions are in `{quiz.bank}`, "
            f"your answers in `{course.info.exercises}/{quiz.answers}`."
        )
    lines += ["", "The answer key is not in this folder, in any form: your instructor grades the quizzes.", ""]
    return "\n".join(lines)
