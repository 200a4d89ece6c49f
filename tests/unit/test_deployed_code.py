"""What functions run (app.py and chalicelib/) imports no tool, and reads the environment in settings.py only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOYED = sorted([ROOT / "app.py", *(ROOT / "chalicelib").rglob("*.py")])


def _imports(tree: ast.AST) -> list[str]:
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
    return found


def _environment_reads(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
            if node.attr in ("environ", "getenv", "environb"):
                found.append(f"os.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [f"os.{a.name}" for a in node.names if a.name in ("environ", "getenv", "environb")]
    return found


@pytest.mark.parametrize("module", DEPLOYED, ids=lambda p: str(p.relative_to(ROOT)))
def test_deployed_module_imports_no_tool(module: Path) -> None:
    tree = ast.parse(module.read_text())
    assert [name for name in _imports(tree) if name.split(".")[0] in ("tools", "tests", "bench")] == []


@pytest.mark.parametrize("module", DEPLOYED, ids=lambda p: str(p.relative_to(ROOT)))
def test_deployed_module_reads_the_environment_through_settings_only(module: Path) -> None:
    if module == ROOT / "chalicelib" / "settings.py":
        return
    assert _environment_reads(ast.parse(module.read_text())) == []


def test_the_checks_catch_what_they_forbid() -> None:
    bad = ast.parse("import os\nfrom tools.local import faults\nimport tools\nx = os.environ['A']\ny = os.getenv('B')")
    assert _imports(bad) == ["os", "tools.local", "tools"]
    assert _environment_reads(bad) == ["os.environ", "os.getenv"]
