"""Dependencies run downward: learner → annotation → evaluators. The evaluators app imports nothing from
the annotation app (nor from the learner); pages and reads that combine them live in the app above."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

EVALUATORS = Path(__file__).resolve().parents[2] / "evaluators"
ABOVE = ("annotation", "learner")


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _modules() -> list[Path]:
    return sorted(p for p in EVALUATORS.rglob("*.py") if "migrations" not in p.parts)


def test_the_scan_sees_the_evaluators_modules():
    names = {p.name for p in _modules()}
    assert {"views.py", "services.py", "selectors.py", "api.py", "admin.py", "apps.py"} <= names


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(EVALUATORS)))
def test_evaluators_module_imports_nothing_from_the_apps_above(path):
    wrong = [f"line {line}: {name}" for line, name in _imports(path) if name.split(".")[0] in ABOVE]
    assert not wrong, f"evaluators/{path.relative_to(EVALUATORS)} imports from an app above it: {wrong}"


def test_the_check_catches_an_import_inside_a_function(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from annotation.models import Item\n    return Item\n")
    assert _imports(module) == [(2, "annotation.models")]
