"""Fixtures for the engine's own tests."""

from __future__ import annotations

import pytest
from support import ROOT

from grader.course.manifest import Course, load_course

#: Tests that start an external tool (nbgrader, actionlint, a PostgreSQL server, a browser), or grade the
#: whole corpus (about 200 judges) or a whole course: `-m "not slow"` leaves them out of the inner loop;
#: CI runs them all.
SLOW_MODULES = {"test_bulk_nbgrader", "test_publish_nbgrader"}
SLOW_TESTS = {
    "test_workflow_passes_actionlint",
    "test_grade_all_grades_a_mixed_class_in_parallel_and_once",  # a real grade-all of a class
    "test_every_module_imports_on_its_own",  # each module of the package in a fresh child
    "test_import_then_export_to_nbgrader",
    "test_nbgrader_flags_exercises_whose_manual_items_are_not_graded_yet",  # nbgrader's own gradebook
    "test_a_server_gradebook_is_chosen_by_url_and_a_bad_one_is_a_usage_error",
    "test_correct_alternatives_score_full_marks",
    "test_each_known_bug_loses_points_with_short_feedback",
    "test_two_mistakes_are_each_named_on_their_own_tests_within_the_line_budget",
    "test_with_no_exercise_named_everything_is_graded_at_once_then_each_saved_exercise",
    # every exercise's reference, VGG-16 and EfficientNet-B7 included: a whole course's grading
    # (`grader check` also passes every reference, before the tests in CI)
    "test_reference_scores_full_marks",
}
SLOW_FIXTURES = {"postgres", "page", "browser"}


def pytest_sessionstart(session: pytest.Session) -> None:
    """Warm the engine and fork its zygote before any test loads a reference or a suite into this process
    (as `grader grade` does before reading any course secret); xdist's controller runs no test."""
    if hasattr(session.config, "workerinput") or not session.config.getoption("numprocesses", None):
        from grader.engine import warm as engine

        engine.shared()


def pytest_ignore_collect(collection_path, config: pytest.Config) -> bool | None:
    """With `-m "not slow"`, a slow module is not even imported: nbgrader's import alone (its module-level
    importorskip) was a quarter of the fast tier's collection."""
    if config.getoption("markexpr", "").strip() == "not slow" and collection_path.stem in SLOW_MODULES:
        return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        name = getattr(item, "originalname", item.name)
        params = getattr(getattr(item, "callspec", None), "params", {})
        if (
            item.module.__name__ in SLOW_MODULES
            or name in SLOW_TESTS
            or SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
            or "postgresql" in params.values()
        ):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def course() -> Course:
    return load_course(ROOT)


@pytest.fixture(scope="session")
def student_banks(course: Course) -> dict[str, str]:
    """Each quiz's student copy as `grader publish` writes it, by quiz id: built once a session (a formative
    quiz's copy holds a digest of every answer it can check offline, seconds to compute)."""
    from grader.quiz.release import student_bank

    return {quiz.id: student_bank(course, quiz) for quiz in course.quizzes}


@pytest.fixture(scope="session")
def flipped_kernel_graded_twice(course: Course, tmp_path_factory) -> list:
    """The corpus's flipped kernel (conv) graded twice, as `grader grade conv` grades it: test_conv's
    determinism test compares the two; its feedback test and the README's sample (test_feedback) read the first."""
    from support import corpus_text

    from grader.engine.runner import GradeOptions, grade

    submission = tmp_path_factory.mktemp("flipped-kernel")
    (submission / "conv.py").write_text(corpus_text("conv/buggy_flipped_kernel"), encoding="utf-8")
    return [grade(course, submission, GradeOptions(exercises=("conv",))) for _ in range(2)]
