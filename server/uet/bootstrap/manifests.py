"""Reads package manifests: the project's declared dependencies and its name.

Dependency names are normalised the PEP 503 way (lower case, runs of ``-_.`` become ``-``)
so that profiles can say ``"dbt-core"`` and match ``dbt_core>=1.7``. Only manifests near
the root are read (depth <= 2, at most ``MAX_MANIFESTS``): a monorepo's hundred
``package.json`` files would cost time without changing the picture. An unparseable
manifest is a problem record, never an exception. Each declaration also says how the
project installs it (``pip install -e '.[dev]'``, ``pip install -r requirements-dev.txt``,
``npm install``...), so the doctor can tell how to get a missing tool the project's way.
"""

from __future__ import annotations

import configparser
import json
import re
import shlex
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from uet.bootstrap.errors import Problem, ProblemLevel

__all__ = [
    "MAX_MANIFESTS",
    "Declaration",
    "normalize_name",
    "project_name",
    "read_declarations",
    "read_dependencies",
]

MAX_MANIFESTS = 20
_MAX_MANIFEST_BYTES = 2 * 1024 * 1024
_MANIFEST_KINDS = frozenset({"pyproject", "requirements", "setup_cfg", "pipfile", "package_json"})
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_SEPARATORS = re.compile(r"[-_.]+")
_YAML_NAME = re.compile(r"^name:\s*['\"]?([^'\"#\n]+?)['\"]?\s*(#.*)?$", re.MULTILINE)
_SITE_NAME = re.compile(r"^site_name:\s*['\"]?([^'\"#\n]+?)['\"]?\s*(#.*)?$", re.MULTILINE)


class Declaration(NamedTuple):
    """Where a dependency is declared and the command that installs that declaration."""

    path: str
    install: str


Declared = list[tuple[str, str]]  # (package name, install command) in manifest order


def normalize_name(name: str) -> str:
    """PEP 503 normalisation (also applied to npm names, which are already lower case)."""
    return _SEPARATORS.sub("-", name).lower()


def read_dependencies(
    root: Path, markers: Iterable[tuple[str, str]]
) -> tuple[frozenset[str], tuple[Problem, ...]]:
    """Declared dependency names from the manifests among ``markers`` (kind, path)."""
    declared, problems = read_declarations(root, markers)
    return frozenset(declared), problems


def read_declarations(
    root: Path, markers: Iterable[tuple[str, str]]
) -> tuple[dict[str, Declaration], tuple[Problem, ...]]:
    """Each declared dependency (normalised name) with the manifest that declares it first
    (shallowest) and the command that installs what that manifest declares."""
    declared: dict[str, Declaration] = {}
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
            found = _PARSERS[kind](text, path)
        except (ValueError, configparser.Error, TypeError, AttributeError) as exc:
            message = f"manifest not understood ({exc.__class__.__name__}); skipped"
            problems.append(Problem(ProblemLevel.INFO, path, message))
            continue
        for name, command in found:
            if name:
                declared.setdefault(normalize_name(name), Declaration(path, command))
    return declared, tuple(problems)


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


def _each(names: Iterable[str], command: str) -> Declared:
    return [(name, command) for name in names]


def _editable(folder: str, extra: str | None = None) -> str:
    """``pip install -e .`` / ``pip install -e '.[dev]'`` for the project in ``folder``."""
    target = folder or "."
    return "pip install -e " + shlex.quote(f"{target}[{extra}]" if extra else target)


def _in_folder(folder: str, command: str) -> str:
    return f"{command} (in {folder}/)" if folder else command


def _pyproject(text: str, path: str) -> Declared:
    data = tomllib.loads(text)
    folder = path.rpartition("/")[0]
    found = _each(
        _requirement_names(_get(data, "project", "dependencies") or []), _editable(folder)
    )
    for extra, group in (_get(data, "project", "optional-dependencies") or {}).items():
        names = _requirement_names(group if isinstance(group, list) else [])
        found += _each(names, _editable(folder, str(extra)))
    for name, group in (data.get("dependency-groups") or {}).items():
        names = _requirement_names(group if isinstance(group, list) else [])
        command = _in_folder(folder, f"pip install --group {shlex.quote(str(name))}")
        found += _each(names, command)
    poetry = _get(data, "tool", "poetry") or {}
    poetry_install = _in_folder(folder, "poetry install")
    found += _each(_mapping_keys(poetry.get("dependencies")), poetry_install)
    found += _each(_mapping_keys(poetry.get("dev-dependencies")), poetry_install)
    for name, group in (poetry.get("group") or {}).items():
        names = _mapping_keys(group.get("dependencies") if isinstance(group, Mapping) else None)
        command = _in_folder(folder, f"poetry install --with {shlex.quote(str(name))}")
        found += _each(names, command)
    for name, group in (_get(data, "tool", "pdm", "dev-dependencies") or {}).items():
        names = _requirement_names(group if isinstance(group, list) else [])
        found += _each(names, _in_folder(folder, f"pdm install -G {shlex.quote(str(name))}"))
    return found


def _requirements(text: str, path: str) -> Declared:
    return _each(_requirement_names(text.splitlines()), f"pip install -r {shlex.quote(path)}")


def _setup_cfg(text: str, path: str) -> Declared:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    folder = path.rpartition("/")[0]
    found: Declared = []
    for option in ("install_requires", "tests_require"):
        if parser.has_option("options", option):
            names = _requirement_names(parser.get("options", option).splitlines())
            found += _each(names, _editable(folder))
    if parser.has_section("options.extras_require"):
        for extra, value in parser.items("options.extras_require"):
            found += _each(_requirement_names(value.splitlines()), _editable(folder, extra))
    return found


def _pipfile(text: str, path: str) -> Declared:
    data = tomllib.loads(text)
    command = _in_folder(path.rpartition("/")[0], "pipenv install --dev")
    names = _mapping_keys(data.get("packages")) + _mapping_keys(data.get("dev-packages"))
    return _each(names, command)


def _package_json(text: str, path: str) -> Declared:
    data = json.loads(text)
    if not isinstance(data, dict):
        return []
    command = _in_folder(path.rpartition("/")[0], "npm install")
    found: Declared = []
    for section in ("dependencies", "devDependencies", "peerDependencies"):
        found += _each(_mapping_keys(data.get(section)), command)
    return found


_PARSERS = {
    "pyproject": _pyproject,
    "requirements": _requirements,
    "setup_cfg": _setup_cfg,
    "pipfile": _pipfile,
    "package_json": _package_json,
}
