"""The feedback pages in a real browser: they render, and the diagnosis and the manual points show.

Chromium comes from Playwright's own download when the machine can reach it
(`python -m playwright install chromium`, run here once if missing), else from the system
(Debian's `chromium` package, which .ci/run installs); without either the test is skipped, saying so.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys

import pytest
from class_corpus import make_exercise, make_report

from grader.classes import exports
from grader.classes.gradebook import Gradebook, ManualGrade, Record
from grader.classes.submissions import Student

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the browser test needs playwright: pip install -e '.[test]'"
)

pytestmark = pytest.mark.slow

NOTES_ID = "tests/public/test_design.py::test_design_notes_justify_the_choices"


def _launch(playwright, executable: str | None):
    return playwright.chromium.launch(executable_path=executable) if executable else playwright.chromium.launch()


@pytest.fixture(scope="module")
def browser():
    """Playwright's Chromium, installed if missing; else the system's chromium; else a skip with the reason."""
    with sync_api.sync_playwright() as playwright:
        tried = []
        for attempt in ("bundled", "install", "system"):
            if attempt == "install":
                done = subprocess.run(
                    [sys.executable, "-m", "playwright", "install", "chromium"],
                    capture_output=True,
                    text=True,
                    timeout=300,
                    check=False,
                )
                if done.returncode != 0:
                    tried.append(
                        "playwright install chromium failed: " + (done.stderr.strip().splitlines() or ["?"])[0]
                    )
                    continue
            executable = None
            if attempt == "system":
                executable = shutil.which("chromium") or shutil.which("chromium-browser")
                if executable is None:
                    tried.append("no chromium on PATH (apt-get install chromium)")
                    break
            try:
                launched = _launch(playwright, executable)
            except sync_api.Error as error:
                tried.append(f"{attempt}: {str(error).splitlines()[0]}")
                continue
            yield launched
            launched.close()
            return
        pytest.skip("no Chromium for Playwright: " + "; ".join(tried))


@pytest.fixture
def class_folder(tmp_path, course):
    """A gradebook with one student whose conv shows a named misconception and whose design notes got 3 of 5 points."""
    conv = make_exercise("conv", [("stride 2 with padding", "public", 20, "failed", "mismatch")])
    conv = dataclasses.replace(conv, tests=(dataclasses.replace(conv.tests[0], diagnosis="flipped_kernel"),))
    design = make_exercise(
        "design",
        [
            ("rubric", "public", 20, "passed", None),
            ("DESIGN_NOTES justifies each design choice", "public", 5, "pending", "manual"),
        ],
    )
    design = dataclasses.replace(
        design, tests=(design.tests[0], dataclasses.replace(design.tests[1], test_id=NOTES_ID))
    )
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as book:
        book.record(
            Record(
                student=Student("s001", "Ada Lovelace"),
                status="graded",
                origin="grade-all",
                source="/class/ada",
                content_hash="h",
                fingerprint="f",
                duration=1.0,
                report=make_report([conv, design]),
            )
        )
        book.grade_manually(ManualGrade("s001", "design", NOTES_ID, 3, "Say why the stem has stride 2.", "prof"))
        exports.write_all(course, book.latest(), tmp_path / "grades")
    return tmp_path / "grades"


def test_the_feedback_page_shows_the_diagnosis_and_the_manual_points(browser, class_folder):
    page = browser.new_page()
    page.goto((class_folder / "summary.html").as_uri())
    assert page.title().startswith("Class summary")
    page.get_by_role("link", name="s001").click()
    assert page.title() == "Feedback for Ada Lovelace"
    assert page.locator(".score").first.inner_text() == "Score: 23 / 45 (51%)"
    assert page.locator(".diagnosis").inner_text() == "Diagnosis: flipped_kernel"
    manual = page.locator("li.manual")
    assert manual.locator(".awarded").inner_text() == "3 / 5"
    assert "Say why the stem has stride 2." in manual.inner_text() and "graded by prof" in manual.inner_text()
    assert manual.is_visible() and page.locator(".diagnosis").is_visible()
