"""Architecture invariants, checked by walking every module's imports.

- Import direction: artifacts ← bootstrap ← engine; context on its own; lsp and cli on top.
- Only ``uet.lsp`` imports pygls or lsprotocol.
- Every module starts with a docstring saying what it owns.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "server" / "uet"
PROTOCOL_LIBRARIES = ("pygls", "lsprotocol")
# Which first-party areas each area may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "artifacts": {"resources", "__init__"},
    "bootstrap": {"artifacts", "resources", "__init__"},
    "engine": {"artifacts", "bootstrap", "resources", "__init__"},
    "context": {"artifacts", "resources", "__init__"},
    "settings": {"artifacts", "resources", "__init__"},
    "resources": {"__init__"},
    "__init__": set(),
    "lsp": {
        "artifacts",
        "bootstrap",
        "engine",
        "context",
        "settings",
        "resources",
        "__init__",
    },
    "cli": {
        "artifacts",
        "bootstrap",
        "engine",
        "context",
        "settings",
        "resources",
        "lsp",
        "__init__",
    },
}


def _modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if "_data" not in path.parts)


def _area(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_import_direction(path: Path) -> None:
    area = _area(path)
    if area == "__main__":
        return
    allowed = ALLOWED.get(area)
    assert allowed is not None, (
        f"new top-level area {area!r}: add it to ALLOWED and ARCHITECTURE.md"
    )
    for name in _imports(path):
        parts = name.split(".")
        if parts[0] in PROTOCOL_LIBRARIES:
            assert area == "lsp", f"{path.name} imports {name}: only uet.lsp may use {parts[0]}"
        if parts[0] != "uet" or len(parts) == 1:
            continue
        target = parts[1]
        assert target == area or target in allowed, f"uet.{area} must not import {name}"


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_every_module_says_what_it_owns(path: Path) -> None:
    tree = ast.parse(path.read_text("utf-8"))
    docstring = ast.get_docstring(tree)
    assert docstring and len(docstring) > 20, f"{path} needs a module docstring"
