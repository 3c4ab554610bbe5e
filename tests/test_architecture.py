"""Architecture invariants, checked by walking every module's imports.

- Import direction: artifacts ← bootstrap ← engine; context on its own; lsp and cli on top.
- The language server's features never import each other (they meet through hooks).
- Only ``uet.lsp`` imports pygls or lsprotocol.
- Every module starts with a docstring saying what it owns.
- No module uses a private name (underscore) of CPython or of a dependency: no underscore
  import, private module, underscore attribute of an imported name, or private hook
  overridden in a subclass of an imported class.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "server" / "uet"
PROTOCOL_LIBRARIES = ("pygls", "lsprotocol")
# Which first-party areas each area may import (besides itself).
# ``lazy_exports`` (the packages' lazy ``__getattr__``) is a leaf every area may use.
ALLOWED: dict[str, set[str]] = {
    "artifacts": {"resources", "lazy_exports", "__init__"},
    "bootstrap": {"artifacts", "resources", "lazy_exports", "__init__"},
    "engine": {"artifacts", "bootstrap", "resources", "lazy_exports", "__init__"},
    "context": {"artifacts", "resources", "lazy_exports", "__init__"},
    "settings": {"artifacts", "resources", "lazy_exports", "__init__"},
    "resources": {"__init__"},
    "lazy_exports": {"__init__"},
    "__init__": set(),
    "lsp": {
        "artifacts",
        "bootstrap",
        "engine",
        "context",
        "settings",
        "resources",
        "lazy_exports",
        "__init__",
    },
    "cli": {
        "artifacts",
        "bootstrap",
        "engine",
        "context",
        "settings",
        "resources",
        "lazy_exports",
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


# The engine's layers, lowest first: its shared basics (errors, workspace, trust, cancel),
# the run store, planning, adapters, running, and the library API on top. A layer imports
# only itself and lower ones.
ENGINE_LAYERS = ("", "store", "planning", "adapters", "running", "library")
ENGINE = PACKAGE / "engine"


def _engine_layer(relative: Path) -> str:
    return relative.parts[0] if len(relative.parts) > 1 else ""


@pytest.mark.parametrize(
    "path",
    [path for path in _modules() if ENGINE in path.parents and path.name != "__init__.py"]
    + [path for path in ENGINE.glob("*/__init__.py")],
    ids=lambda path: str(path.relative_to(ENGINE)),
)
def test_engine_layers(path: Path) -> None:
    layer = _engine_layer(path.relative_to(ENGINE))
    assert layer in ENGINE_LAYERS, f"new engine subpackage {layer!r}: add it to ENGINE_LAYERS"
    rank = ENGINE_LAYERS.index(layer)
    for name in _imports(path):
        parts = name.split(".")
        if parts[:2] != ["uet", "engine"] or len(parts) == 2:
            continue
        target = parts[2] if parts[2] in ENGINE_LAYERS else ""
        assert ENGINE_LAYERS.index(target) <= rank, (
            f"uet.engine.{layer or path.stem} must not import {name} (a higher layer)"
        )


FEATURES = PACKAGE / "lsp" / "features"


@pytest.mark.parametrize(
    "path",
    [path for path in _modules() if FEATURES in path.parents and path.parent != FEATURES]
    + [path for path in FEATURES.glob("*.py") if path.name != "__init__.py"],
    ids=lambda path: str(path.relative_to(FEATURES)),
)
def test_lsp_features_do_not_import_each_other(path: Path) -> None:
    """A feature (a module or a package of ``uet.lsp.features``) reaches the others only
    through ``uet.lsp.hooks`` and the shared ``uet.lsp`` modules."""
    own = path.relative_to(FEATURES).parts[0].removesuffix(".py")
    for name in _imports(path):
        parts = name.split(".")
        if parts[:3] != ["uet", "lsp", "features"]:
            continue
        assert len(parts) > 3 and parts[3] == own, (
            f"the {own} feature must not import {name}: features meet through uet.lsp.hooks"
        )


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_every_module_says_what_it_owns(path: Path) -> None:
    tree = ast.parse(path.read_text("utf-8"))
    docstring = ast.get_docstring(tree)
    assert docstring and len(docstring) > 20, f"{path} needs a module docstring"


# -- no private API of CPython or of a dependency --------------------------------------

# Underscore names that are documented public API.
DOCUMENTED = {
    "os._exit",  # the documented way for a forked child to end without clean-up
}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_external(module: str) -> bool:
    return module.split(".", maxsplit=1)[0] != "uet"


class _PrivateUses(ast.NodeVisitor):
    """What one module uses of CPython's or a dependency's private names: underscore
    imports, private modules, underscore attributes of imported names, private names
    looked up by string, and private methods of an imported base class overridden."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self.imported: dict[str, str] = {}  # local name -> dotted external name

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not _is_external(alias.name):
                continue
            if any(_is_private(part) for part in alias.name.split(".")):
                self.found.append(f"line {node.lineno}: import {alias.name}")
            if alias.asname:
                self.imported[alias.asname] = alias.name
            else:
                first = alias.name.split(".")[0]
                self.imported[first] = first

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or not _is_external(module):
            return
        if any(_is_private(part) for part in module.split(".")):
            self.found.append(f"line {node.lineno}: from {module} import ...")
        for alias in node.names:
            if _is_private(alias.name):
                self.found.append(f"line {node.lineno}: from {module} import {alias.name}")
            self.imported[alias.asname or alias.name] = f"{module}.{alias.name}"

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if _is_private(node.attr):
            owner = self._external_name(node.value)
            if owner is not None and f"{owner}.{node.attr}" not in DOCUMENTED:
                self.found.append(f"line {node.lineno}: {owner}.{node.attr}")
            elif _is_super_call(node.value):
                self.found.append(f"line {node.lineno}: super().{node.attr}")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        function = node.func
        if (
            isinstance(function, ast.Name)
            and function.id in ("getattr", "setattr", "hasattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _is_private(node.args[1].value)
        ):
            self.found.append(f"line {node.lineno}: {function.id}(..., {node.args[1].value!r})")
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = [name for base in node.bases if (name := self._external_name(base))]
        for item in node.body:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and _is_private(item.name):
                for base in bases:
                    if hasattr(_resolve(base), item.name):
                        self.found.append(
                            f"line {item.lineno}: {node.name}.{item.name} overrides {base}'s"
                        )
        self.generic_visit(node)

    def _external_name(self, node: ast.expr) -> str | None:
        """The dotted external name ``node`` stands for (``None``: not an imported name)."""
        if isinstance(node, ast.Name):
            return self.imported.get(node.id)
        if isinstance(node, ast.Attribute):
            owner = self._external_name(node.value)
            return None if owner is None else f"{owner}.{node.attr}"
        return None


def _is_super_call(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"
    )


def _resolve(dotted: str) -> object:
    """The object a dotted external name stands for (imports its module)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            value = getattr(value, part)
        return value
    raise ImportError(dotted)


def private_uses(path: Path) -> list[str]:
    """Where the module at ``path`` uses a private name of CPython or a dependency."""
    visitor = _PrivateUses()
    visitor.visit(ast.parse(path.read_text("utf-8")))
    return visitor.found


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_private_api_of_python_or_a_dependency(path: Path) -> None:
    assert private_uses(path) == []


@pytest.mark.parametrize(
    "source",
    [
        "from jsonschema._keywords import ref",
        "from referencing import _core",
        "import _posixsubprocess",
        "import jsonschema._utils as utils",
        "import subprocess\nsubprocess._USE_VFORK = False",
        "from importlib.machinery import ModuleSpec\nModuleSpec._initializing",
        "getattr(spec, '_initializing', False)",
        "from pygls.protocol import LanguageServerProtocol\n"
        "class P(LanguageServerProtocol):\n"
        "    def _send_data(self, data): super()._send_data(data)\n",
    ],
)
def test_the_private_api_check_finds(source: str, tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text(source, "utf-8")
    assert private_uses(module)


def test_the_private_api_check_allows_our_own_and_documented_names(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text(
        "import os\n"
        "from typing import NamedTuple\n"
        "from uet.lsp.server import _describe\n"
        "class Point(NamedTuple):\n"
        "    x: int\n"
        "    def _own(self) -> None: ...\n"
        "Point(1)._replace(x=2)\n"
        "os._exit(0)\n",
        "utf-8",
    )
    assert private_uses(module) == []
