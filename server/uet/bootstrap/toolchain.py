"""Where a workspace's tools come from: its own environments first, then ``PATH``.

A project pins its tools in its own environment (a virtual environment, ``node_modules``);
the first ``ruff`` on ``PATH`` may be another project's (uet's own, when its virtual
environment is active). So a program is looked up in the *tool folders* of the folder it
runs in and of the folders above it up to the repository root, nearest first, then on
``PATH``. A folder's tool folders, in order:

1. the virtual environments of the folder: ``.venv`` and ``venv`` (uv's project
   environment is ``.venv``, or ``UV_PROJECT_ENVIRONMENT``), the interpreter PDM recorded
   in ``.pdm-python``, the environment Hatch is configured to keep in the project
   (``path`` of ``[tool.hatch.envs.default]``, or ``dirs.env.virtual``) and Poetry's
   environment in its cache folder (named after the project and a hash of its path, as
   Poetry names it);
2. ``node_modules/.bin``.

Everything is read from files: no tool (and no code of the workspace) is run to find them.
An environment that is only known to its manager (a Hatch environment in Hatch's own data
folder) is not found; its tools then come from ``PATH``.

The scan (``uet scan``, ``uet profiles``) and the engine (``uet run``) use this same module,
so a generated task runs the program the scan reported.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

__all__ = [
    "PATH_SOURCE",
    "ToolFolder",
    "ToolLocation",
    "locate",
    "project_tool_folders",
    "read_config_text",
    "workspace_tool_folders",
]

PATH_SOURCE = "PATH"
_BIN = "Scripts" if sys.platform == "win32" else "bin"
_MAX_CONFIG_BYTES = 1024 * 1024
_POETRY_UNSAFE = re.compile(r'[ $`!*@"\\\r\n\t]')
_PY_VERSION = re.compile(r"-py(\d+)\.(\d+)$")
# A workspace root holds one of these (see uet.engine.workspace), a repository root ``.git``.
_WORKSPACE_FILES = (".uet", "router_config.json", "PROJECT_PROFILE.yaml")


class ToolFolder(NamedTuple):
    """A folder of executables the workspace provides, and where it comes from as shown to
    users (``".venv"``, ``"Poetry environment ..."``, ``"node_modules/.bin"``);
    ``environment``: the Python virtual environment it belongs to (``None``:
    ``node_modules/.bin``), which a task's child gets as ``VIRTUAL_ENV``."""

    path: Path
    source: str
    environment: Path | None = None


class ToolLocation(NamedTuple):
    """The file that runs for ``name`` and where it was found (a ``ToolFolder``'s
    ``source``, or ``"PATH"``)."""

    name: str
    path: str
    source: str


def project_tool_folders(
    folder: Path, environ: Mapping[str, str] | None = None
) -> tuple[ToolFolder, ...]:
    """The tool folders ``folder`` itself provides, in lookup order (existing ones only).

    ``environ`` supplies the managers' settings (``UV_PROJECT_ENVIRONMENT``, Poetry's
    cache folder, ``HOME``); default: this process's environment.
    """
    env = os.environ if environ is None else environ
    found: list[ToolFolder] = []
    seen: set[Path] = set()

    def add(environment: Path | None, source: str) -> None:
        if environment is None:
            return
        bin_dir = environment / _BIN
        key = Path(os.path.normcase(os.path.abspath(bin_dir)))  # noqa: PTH100 - no resolve()
        if key not in seen and _is_environment(environment) and bin_dir.is_dir():
            seen.add(key)
            found.append(ToolFolder(bin_dir, source, environment))

    pyproject = _toml(folder / "pyproject.toml") if _is_file(folder / "pyproject.toml") else {}
    uv_env = env.get("UV_PROJECT_ENVIRONMENT")
    if uv_env and (_is_file(folder / "uv.lock") or _table(pyproject, "tool", "uv") is not None):
        add(folder / uv_env, f"uv environment {uv_env}")
    add(folder / ".venv", ".venv")
    add(folder / "venv", "venv")
    pdm_python = read_config_text(folder / ".pdm-python")
    if pdm_python and pdm_python.strip():
        interpreter = Path(pdm_python.strip())
        add(interpreter.parent.parent, f"PDM environment ({interpreter.parent.parent})")
    for path, source in _hatch_environments(folder, pyproject):
        add(path, source)
    poetry = _poetry_environment(folder, pyproject, env)
    if poetry is not None:
        add(poetry, f"Poetry environment ({poetry})")
    node_bin = folder / "node_modules" / ".bin"
    if node_bin.is_dir():
        found.append(ToolFolder(node_bin, "node_modules/.bin"))
    return tuple(found)


def workspace_tool_folders(
    start: Path, environ: Mapping[str, str] | None = None
) -> tuple[ToolFolder, ...]:
    """The tool folders that apply in the folder ``start``: its own, then those of each
    folder above it up to the repository root (the nearest folder holding ``.git``), nearest
    first; a task running in ``pkg/`` uses ``pkg/.venv`` before the root's (a uv workspace
    keeps one ``.venv`` at its root). Outside a repository the search stops at the workspace
    root (the nearest folder holding ``.uet``, ``router_config.json`` or
    ``PROJECT_PROFILE.yaml``), or at ``start`` when there is none."""
    return tuple(
        tool_folder
        for folder in _search_chain(Path(os.path.abspath(start)))  # noqa: PTH100 - no resolve()
        for tool_folder in project_tool_folders(folder, environ)
    )


def _search_chain(start: Path) -> list[Path]:
    chain: list[Path] = []
    workspace_end: int | None = None
    current = start
    while True:
        chain.append(current)
        if (current / ".git").exists():
            return chain
        if workspace_end is None and any((current / name).exists() for name in _WORKSPACE_FILES):
            workspace_end = len(chain)
        if current.parent == current:
            return chain[: workspace_end or 1]
        current = current.parent


def locate(
    name: str, folders: Iterable[ToolFolder], search_path: str | None = None
) -> ToolLocation | None:
    """Where ``name`` is found: in ``folders`` (in order), else on ``search_path`` (``None``:
    this process's ``PATH``); ``None`` when nowhere."""
    for folder in folders:
        candidate = folder.path / name
        if _is_executable(candidate):
            return ToolLocation(name, str(candidate), folder.source)
    on_path = shutil.which(name, path=search_path)
    return None if on_path is None else ToolLocation(name, on_path, PATH_SOURCE)


def _is_executable(path: Path) -> bool:
    return os.access(path, os.X_OK) and path.is_file()


def _is_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def _is_environment(path: Path) -> bool:
    """A Python virtual environment has ``pyvenv.cfg``; anything else named like one is not
    taken for one (a ``venv/`` folder of sources, say)."""
    return _is_file(path / "pyvenv.cfg")


def read_config_text(path: Path) -> str | None:
    """A small configuration file's text (``None``: missing, not a regular file, too big or not
    text). Opened without blocking, so a FIFO named like a config file cannot stall."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        data = os.read(descriptor, _MAX_CONFIG_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(descriptor)
    if len(data) > _MAX_CONFIG_BYTES:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _toml(path: Path) -> Mapping[str, Any]:
    text = read_config_text(path)
    if text is None:
        return {}
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}


def _table(document: Mapping[str, Any], *keys: str) -> Mapping[str, Any] | None:
    current: Any = document
    for key in keys:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current if isinstance(current, Mapping) else None


def _hatch_environments(folder: Path, pyproject: Mapping[str, Any]) -> Iterable[tuple[Path, str]]:
    """The default Hatch environment where the project's configuration keeps it in the
    project: its ``path`` option, or the configured ``dirs.env.virtual`` folder."""
    tool = _table(pyproject, "tool", "hatch")
    hatch_toml = _toml(folder / "hatch.toml") if _is_file(folder / "hatch.toml") else {}
    for config in (hatch_toml, tool or {}):
        default = _table(config, "envs", "default") or {}
        path = default.get("path")
        if isinstance(path, str) and path:
            yield folder / path, f"Hatch environment {path}"
        virtual = (_table(config, "dirs", "env") or {}).get("virtual")
        if isinstance(virtual, str) and virtual and not Path(virtual).is_absolute():
            yield folder / virtual / "default", f"Hatch environment {virtual}/default"


def _poetry_environment(
    folder: Path, pyproject: Mapping[str, Any], env: Mapping[str, str]
) -> Path | None:
    """Poetry's environment of the project in its cache folder, named as Poetry names it
    (``EnvManager.generate_env_name``: the normalised project name, then the first 8 characters of
    the URL-safe base64 SHA-256 of the project's real path, then ``-pyX.Y``); the version
    Poetry recorded in ``envs.toml`` is used, else the newest one present."""
    poetry = _table(pyproject, "tool", "poetry")
    if poetry is None and not _is_file(folder / "poetry.lock"):
        return None
    name = (poetry or {}).get("name") or (_table(pyproject, "project") or {}).get("name")
    if not isinstance(name, str) or not name:
        return None
    base = _poetry_virtualenvs_path(folder, env)
    if base is None or not base.is_dir():
        return None
    import base64
    import hashlib

    real = os.path.normcase(os.path.realpath(folder))  # as Poetry does
    digest = hashlib.sha256(real.encode()).digest()
    canonical = re.sub(r"[-_.]+", "-", name).lower()  # Poetry's package name, PEP 503
    env_name = f"{_POETRY_UNSAFE.sub('_', canonical)[:42]}-"
    env_name += base64.urlsafe_b64encode(digest).decode()[:8]
    recorded = _table(_toml(base / "envs.toml"), env_name)
    minor = recorded.get("minor") if recorded is not None else None
    if isinstance(minor, str) and (base / f"{env_name}-py{minor}").is_dir():
        return base / f"{env_name}-py{minor}"
    versions: list[tuple[tuple[int, int], Path]] = []
    try:
        entries = list(base.iterdir())
    except OSError:
        return None
    for entry in entries:
        if entry.name.startswith(env_name + "-py"):
            match = _PY_VERSION.search(entry.name)
            if match is not None:
                versions.append(((int(match.group(1)), int(match.group(2))), entry))
    return max(versions)[1] if versions else None


def _poetry_virtualenvs_path(folder: Path, env: Mapping[str, str]) -> Path | None:
    """Where Poetry keeps environments: ``POETRY_VIRTUALENVS_PATH``, the project's
    ``poetry.toml``, else ``virtualenvs`` in its cache folder."""
    configured = env.get("POETRY_VIRTUALENVS_PATH")
    if not configured:
        value = (_table(_toml(folder / "poetry.toml"), "virtualenvs") or {}).get("path")
        configured = value if isinstance(value, str) else None
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_absolute() else folder / path
    cache = env.get("POETRY_CACHE_DIR")
    if not cache:
        xdg = env.get("XDG_CACHE_HOME")
        home = env.get("HOME")
        if xdg:
            cache = str(Path(xdg) / "pypoetry")
        elif home:
            cache = str(Path(home) / ".cache" / "pypoetry")
        else:
            return None
    return Path(cache) / "virtualenvs"
