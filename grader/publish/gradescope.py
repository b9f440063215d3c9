"""Gradescope: the autograder zip, and what its `run_autograder` runs for each submission.

The zip holds the engine and the course as the instructor has it, limited to
the released exercises (hidden suites, references and misconception catalogues
included: Gradescope never shows the zip to students), with `setup.sh` (which
checks the container has the memory the heaviest exercise needs) and
`run_autograder` at its top. run_autograder has the results computed into a
private folder (`GRADER_RESULTS_OUT`) and renames them into results/results.json
itself once grading is over, so nothing a submission's process left there counts. For a submission,
`python -m grader.publish.gradescope` finds the
student's modules as `grader grade-all` does (flat, in an `exercises/` folder,
or deeper in an uploaded repository), grades them, and writes results.json with each hidden test's
visibility from course.toml (`grading.hidden_visibility`, "after_due_date" by
default). Whatever goes wrong, a results.json is written that says so.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

from grader.classes.submissions import locate_modules, module_names
from grader.course.manifest import Course, load_course
from grader.engine.copying import RefusedSubmission, link_refusal
from grader.engine.runner import GradeOptions, grade
from grader.publish import coursefile
from grader.publish.classroom import torch_requirement
from grader.publish.files import engine_files, template
from grader.reports import json_report
from grader.results import GradeReport

ZIP_NAME = "gradescope-autograder.zip"
ROOT_ENV = "AUTOGRADER_ROOT"  #: /autograder on Gradescope; tests point it into a temporary folder
OUT_ENV = "GRADER_RESULTS_OUT"  #: where run_autograder has the results computed (a private folder)
GRADER_MEMORY_MB = 1024  #: the grader's own processes (judge, pytest, torch) beside the student's
_SCRIPTS = ("setup.sh", "run_autograder")
_TEST_KEYS = ("name", "score", "max_score", "status", "visibility", "output")


def write_zip(course: Course, path: Path) -> Path:
    """The autograder zip of `course` (narrowed to what is released)."""
    from grader.publish.release import sealed_course_files

    files = {name: source.read_bytes() for name, source in engine_files().items()}
    files.update({name: (course.root / name).read_bytes() for name in sealed_course_files(course)})
    files["course.toml"] = coursefile.course_toml(course, hidden=True).encode()
    for script in _SCRIPTS:
        files[script] = template(
            script,
            course=course.info.name,
            torch=torch_requirement(),
            memory_mb=str(course.grading.memory_mb),
            container_mb=str(container_mb(course)),
        ).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if name in _SCRIPTS else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def container_mb(course: Course) -> int:
    """The memory a Gradescope container needs: the student process's limit, and the grader beside it."""
    return course.grading.memory_mb + GRADER_MEMORY_MB


def collect_submission(submitted: Path, course: Course, target: Path) -> list[str]:
    """Copy the course's modules (and quiz answers) from `submitted` into `target`; return those not found.

    They are taken from the folder of the upload that holds most of them (`grade-all`'s rule: a
    repository's `exercises/`, a flat upload, a zip's one folder).
    """
    folder = locate_modules(submitted, course)
    target.mkdir(parents=True, exist_ok=True)
    missing = []
    for name in sorted(module_names(course)):
        source = folder / name
        if source.is_symlink():  # refused, as grade and grade-all refuse it (grader.engine.copying)
            raise RefusedSubmission(link_refusal(name))
        if source.is_file():
            shutil.copyfile(source, target / name)
        else:
            missing.append(name)
    return missing


def results(report: GradeReport, *, missing: list[str], seconds: float) -> dict:
    """Gradescope's results.json: its own keys only; the course's extras go in `extra_data`."""
    full = json_report.as_dict(report)
    output = full["output"]
    if missing:
        output += "\nnot found in your submission: " + ", ".join(missing)
    return {
        "score": full["score"],
        "execution_time": round(seconds),
        "output": output,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [{k: t[k] for k in _TEST_KEYS} | {"extra_data": t["extra_data"]} for t in full["tests"]],
        "extra_data": {k: full[k] for k in ("max_score", "exercises", "pending", "notes", "tampered")},
    }


def run(root: Path, target: Path | None = None) -> dict:
    """Grade `root`/submission with the course in `root`/source; write the results to `target`.

    run_autograder points `target` into a private folder and moves the file to
    `root`/results/results.json itself once grading is over (the default, for a direct call).
    """
    started = time.monotonic()
    target = target or root / "results" / "results.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        course = load_course(root / "source")
        with tempfile.TemporaryDirectory(prefix="grader-submission-") as scratch:
            missing = collect_submission(root / "submission", course, Path(scratch))
            report = grade(course, Path(scratch), GradeOptions())
        data = results(report, missing=missing, seconds=time.monotonic() - started)
    except RefusedSubmission as error:
        data = {"score": 0, "output": f"Your submission was refused: {error}", "visibility": "visible", "tests": []}
    except Exception as error:  # the one place that must always answer Gradescope, whatever broke
        data = {
            "score": 0,
            "output": f"The autograder itself failed (tell your instructor): {error!r}",
            "visibility": "visible",
            "tests": [],
        }
    target.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return data


def main() -> None:
    out = os.environ.get(OUT_ENV)
    run(Path(os.environ.get(ROOT_ENV, "/autograder")), Path(out) if out else None)


if __name__ == "__main__":
    main()
