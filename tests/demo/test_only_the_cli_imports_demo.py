"""The demo chain is the CLI's: no domain package, nor the kernel, may depend on it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["retail", "stores", "inventory", "orders", "mobile_api"])
def test_no_domain_imports_demo(package: str) -> None:
    importers = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / package).rglob("*.py"))
        if any(name == "demo" or name.startswith("demo.") for name in _imported(path))
    ]
    assert importers == []


def test_the_cli_is_what_loads_the_demo() -> None:
    assert "demo.load" in _imported(ROOT / "app" / "cli.py")
