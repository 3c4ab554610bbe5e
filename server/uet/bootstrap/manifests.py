"""Reads package manifests: the project's declared dependencies and its name.

Dependency names are normalised the PEP 503 way (lower case, runs of ``-_.`` become ``-``)
so that profiles can say ``"dbt-core"`` and match ``dbt_core>=1.7``. Only manifests near
the root are read (depth <= 2, at most ``MAX_MANIFESTS``): a monorepo's hundred
``package.json`` files would cost time without changing the picture. An unparseable
manifest is a problem record, never an exception.
"""

from __future__ import annotations

import configparser
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from uet.bootstrap.errors import Problem, ProblemLevel

__all__ = ["MAX_MANIFESTS", "normalize_name", "project_name", "read_dependencies"]

MAX_MANIFESTS = 20
_MAX_MANIFEST_BYTES = 2 * 1024 * 1024
_MANIFEST_KINDS = frozenset({"pyproject", "requirements", "setup_cfg", "pipfile", "package_json"})
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_SEPARATORS = re.compile(r"[-_.]+")
_YAML_NAME = re.compile(r"^name:\s*['\"]?([^'\"#\n]+?)['\"]?\s*(#.*)?$", re.MULTILINE)
_SITE_NAME = re.compile(r"^site_name:\s*['\"]?([^'\"#\n]+?)['\"]?\s*(#.*)?$", re.MULTILINE)


def normalize_name(name: str) -> str:
    """PEP 503 normalisation (also applied to npm names, which are already lower case)."""
    return _SEPARATORS.sub("-", name).lower()


def read_dependencies(
    root: Path, markers: Iterable[tuple[str, str]]
) -> tuple[frozenset[str], tuple[Problem, ...]]:
    """Declared dependency names from the manifests among ``markers`` (kind, path)."""
    names: set[str] = set()
    problems: list[Problem] = []
    chosen = sorted(
        {
            (path.count("/"), path, kind)
            for kind, path in markers
            if kind in _MANIFEST_KINDS and path.count("/") <= 2
        }
    )[:MAX_MANIFESTS]
    for _, path, kind in chosen:
        text = _read_text(root / path)
        if text is None:
            problems.append(Problem(ProblemLevel.INFO, path, "manifest not readable; skipped"))
            continue
        try:
            found = _PARSERS[kind](text)
        except (ValueError, configparser.Error, TypeError, AttributeError) as exc:
            message = f"manifest not understood ({exc.__class__.__name__}); skipped"
            problems.append(Problem(ProblemLevel.INFO, path, message))
            continue
        names.update(normalize_name(name) for name in found if name)
    return frozenset(names), tuple(problems)


def project_name(root: Path) -> str:
    """The name the project gives itself, else the folder name."""
    pyproject = _load_toml(root / "pyproject.toml")
    for table in (pyproject.get("project"), _get(pyproject, "tool", "poetry")):
        if isinstance(table, Mapping) and isinstance(table.get("name"), str) and table["name"]:
            return str(table["name"])
    package = _read_text(root / "package.json")
    if package:
        try:
            data = json.loads(package)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("name"), str) and data["name"]:
            return str(data["name"])
    cargo = _get(_load_toml(root / "Cargo.toml"), "package", "name")
    if isinstance(cargo, str) and cargo:
        return cargo
    for file_name, pattern in (("dbt_project.yml", _YAML_NAME), ("mkdocs.yml", _SITE_NAME)):
        text = _read_text(root / file_name)
        match = pattern.search(text) if text else None
        if match:
            return match.group(1).strip()
    return root.name or "workspace"


def _read_text(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_MANIFEST_BYTES)
    except OSError:
        return None
    return data.decode("utf-8", errors="replace")


def _load_toml(path: Path) -> dict[str, Any]:
    text = _read_text(path)
    if not text:
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}


def _get(data: Mapping[str, Any], *keys: str) -> Any:
    current: Any = data
    for key in keys:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


def _requirement_names(lines: Iterable[Any]) -> list[str]:
    names: list[str] = []
    for line in lines:
        if not isinstance(line, str):
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "-", "git+", "http:", "https:")):
            continue
        match = _REQUIREMENT.match(stripped)
        if match:
            names.append(match.group(1))
    return names


def _mapping_keys(value: Any) -> list[str]:
    if not isinstance(value, Mapping):
        return []
    return [str(key) for key in value if str(key).lower() != "python"]


def _pyproject(text: str) -> list[str]:
    data = tomllib.loads(text)
    names = _requirement_names(_get(data, "project", "dependencies") or [])
    for group in (_get(data, "project", "optional-dependencies") or {}).values():
        names += _requirement_names(group if isinstance(group, list) else [])
    for group in (data.get("dependency-groups") or {}).values():
        names += _requirement_names(group if isinstance(group, list) else [])
    poetry = _get(data, "tool", "poetry") or {}
    names += _mapping_keys(poetry.get("dependencies"))
    names += _mapping_keys(poetry.get("dev-dependencies"))
    for group in (poetry.get("group") or {}).values():
        names += _mapping_keys(group.get("dependencies") if isinstance(group, Mapping) else None)
    for group in (_get(data, "tool", "pdm", "dev-dependencies") or {}).values():
        names += _requirement_names(group if isinstance(group, list) else [])
    return names


def _requirements(text: str) -> list[str]:
    return _requirement_names(text.splitlines())


def _setup_cfg(text: str) -> list[str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    names: list[str] = []
    if parser.has_option("options", "install_requires"):
        names += _requirements(parser.get("options", "install_requires"))
    if parser.has_option("options", "tests_require"):
        names += _requirements(parser.get("options", "tests_require"))
    if parser.has_section("options.extras_require"):
        for _, value in parser.items("options.extras_require"):
            names += _requirements(value)
    return names


def _pipfile(text: str) -> list[str]:
    data = tomllib.loads(text)
    return _mapping_keys(data.get("packages")) + _mapping_keys(data.get("dev-packages"))


def _package_json(text: str) -> list[str]:
    data = json.loads(text)
    if not isinstance(data, dict):
        return []
    names: list[str] = []
    for section in ("dependencies", "devDependencies", "peerDependencies"):
        names += _mapping_keys(data.get(section))
    return names


_PARSERS = {
    "pyproject": _pyproject,
    "requirements": _requirements,
    "setup_cfg": _setup_cfg,
    "pipfile": _pipfile,
    "package_json": _package_json,
}
