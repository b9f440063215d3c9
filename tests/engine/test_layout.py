"""The package's layout holds: what may import what, and every module importable on its own.

- Suites and misconception catalogues import only `grader.suite` of the grader: public suites
  ship to students, so everything else may move freely.
- Command modules (`grader/cli/`) are imported by the app, never by the library.
- Probes (`grader/probes/`) run beside student code and never import the judge's side (`grader/judging/`).
- No module imports another's private name.
- Every module imports in a fresh interpreter (no import cycle hides behind an import order).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from support import ROOT

GRADER = ROOT / "grader"
#: Modules of the package (dotted), templates excluded: they are text for new courses, not code of ours.
MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for path in GRADER.rglob("*.py")
    if "templates" not in path.parts
)


def _imports(path: Path) -> list[tuple[str, str | None]]:
    """(module, name) for each `import module` (name None) and `from module import name` in `path`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found += [(node.module, alias.name) for alias in node.names]
    return found


def _suite_files() -> list[Path]:
    return sorted([*(ROOT / "tests/public").rglob("*.py"), *(ROOT / "tests/hidden").rglob("*.py")])


def test_suites_and_catalogues_import_only_the_suite_api():
    wrong = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in _suite_files()
        for module, _ in _imports(path)
        if module.split(".")[0] == "grader" and module != "grader.suite"
    }
    assert wrong == set()


def test_the_scaffold_templates_import_only_the_suite_api():
    templates = [p for p in (GRADER / "templates/scaffold").iterdir() if p.suffix in {".py", ".tmpl"}]
    lines = [
        f"{p.name}: {line.strip()}"
        for p in templates
        for line in p.read_text().splitlines()
        if line.lstrip().startswith(("from grader", "import grader")) and "grader.suite" not in line
    ]
    assert lines == []


def test_the_suite_api_exports_what_it_declares():
    import grader.suite

    assert [name for name in grader.suite.__all__ if not hasattr(grader.suite, name)] == []


def _library_modules() -> list[Path]:
    return [p for p in GRADER.rglob("*.py") if "templates" not in p.parts]


def test_command_modules_are_imported_only_by_the_command_line():
    wrong = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in _library_modules()
        if "cli" not in path.relative_to(GRADER).parts and path.name != "__main__.py"
        for module, _ in _imports(path)
        if module.startswith("grader.cli")
    }
    assert wrong == set()


def test_probes_never_import_the_judges_side():
    wrong = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in (GRADER / "probes").glob("*.py")
        for module, _ in _imports(path)
        if module.startswith("grader.judging")
    }
    assert wrong == set()


def test_no_module_imports_another_modules_private_name():
    engine_tests = [p for p in (ROOT / "tests/engine").glob("*.py")]
    wrong = {
        f"{path.relative_to(ROOT)}: from {module} import {name}"
        for path in [*_library_modules(), *engine_tests, *_suite_files()]
        for module, name in _imports(path)
        if module.split(".")[0] == "grader" and name and name.startswith("_") and not name.startswith("__")
    }
    assert wrong == set()


#: Run in a fresh interpreter: the libraries first (they take the time), then each module of ours
#: imported alone in a forked child, whose last error line comes back on stdout.
_IMPORT_EACH = """
import os, sys, traceback
import numpy, torch, pytest, hypothesis, typer, rich  # noqa: F401,E401
import pydantic, sqlalchemy, matplotlib.pyplot, nbformat  # noqa: F401,E401
for module in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            __import__(module)
        except BaseException:
            print(module, "|", traceback.format_exc().strip().splitlines()[-1], flush=True)
            os._exit(1)
        os._exit(0)
    os.waitpid(pid, 0)
"""


def test_every_module_imports_on_its_own():
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH, *MODULES], capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert dict(line.split(" | ", 1) for line in done.stdout.splitlines()) == {}
