"""The packages exporting names lazily (``uet.lazy_exports``): each name's declared module
is where it is defined, the type checkers' imports say the same, and nothing loads early."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from uet.lazy_exports import lazy_exports

PACKAGE = Path(__file__).resolve().parents[1] / "server" / "uet"
LAZY_PACKAGES = ("artifacts", "bootstrap", "context", "engine")


def declared(package: str) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """``_SOURCES``, the ``TYPE_CHECKING`` imports (name -> module) and ``__all__`` of
    ``uet.<package>``, read from its source."""
    tree = ast.parse((PACKAGE / package / "__init__.py").read_text("utf-8"))
    sources: dict[str, str] = {}
    checked: dict[str, str] = {}
    exported: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id == "_SOURCES":
                sources = ast.literal_eval(node.value)
            elif node.targets[0].id == "__all__":
                exported = ast.literal_eval(node.value)
        elif isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for item in node.body:
                assert isinstance(item, ast.ImportFrom) and item.module
                for alias in item.names:
                    checked[alias.asname or alias.name] = item.module
    return sources, checked, exported


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_public_name_is_declared_three_times_alike(package: str) -> None:
    sources, checked, exported = declared(package)
    assert sources, f"uet.{package} declares no _SOURCES"
    assert sources == checked, "the TYPE_CHECKING imports and _SOURCES disagree"
    assert sorted(exported) == sorted(sources), "__all__ and _SOURCES disagree"
    assert len(set(exported)) == len(exported)


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_name_comes_from_the_module_that_defines_it(package: str) -> None:
    module = importlib.import_module(f"uet.{package}")
    sources, _, _ = declared(package)
    for name, source in sources.items():
        value = getattr(module, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__ == source, f"{name} is defined in {value.__module__}"
        assert name in dir(module)
    with pytest.raises(AttributeError, match=f"module 'uet.{package}' has no attribute"):
        _ = module.no_such_name


def test_importing_the_packages_loads_none_of_their_modules() -> None:
    code = (
        "import json, sys\n"
        "import uet.artifacts, uet.bootstrap, uet.context, uet.engine\n"
        "print(json.dumps(sorted(name for name in sys.modules if name.count('.') > 1\n"
        "    and name.split('.')[1] in ('artifacts', 'bootstrap', 'context', 'engine'))))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(completed.stdout) == []


def test_a_name_is_imported_on_first_use_and_kept() -> None:
    namespace: dict[str, Any] = {"already": 1}
    getattr_, dir_ = lazy_exports("demo", {"dumps": "json", "missing": "json"}, namespace)
    import json as json_module

    assert getattr_("dumps") is json_module.dumps
    assert namespace["dumps"] is json_module.dumps  # later lookups never reach __getattr__
    with pytest.raises(AttributeError, match="module 'demo' has no attribute 'other'"):
        getattr_("other")
    with pytest.raises(AttributeError):
        getattr_("missing")  # declared, but its module has no such name
    assert dir_() == ["already", "dumps", "missing"]
