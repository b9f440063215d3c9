"""What a course's Python sources import, read without running them.

The engine preloads what a reference imports into the zygote; the course check follows a
suite's imports to the probes it depends on, and a reference's to its sibling modules.
"""

from __future__ import annotations

import ast


def imported_modules(source: str) -> set[str]:
    """Every module `source` imports by absolute name, and `module.name` for each `from module import name`."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names
