"""The ways a project declares to run its own checks, read from its files (never run).

*Entry points* are the commands a project's developers type: Makefile and justfile targets,
``package.json`` scripts, tox environments, nox sessions and pre-commit hooks, each with
the command that runs it (``make test``, ``npm run lint``, ``pre-commit run --all-files
ruff``). *Test configuration* is the test runner's own settings: a project that configures
pytest (``pytest.ini``, ``[tool.pytest.ini_options]``, ``[tool:pytest]`` in setup.cfg,
``[pytest]`` in tox.ini) is tested by plain ``pytest``, which then collects what the
project says (``testpaths``) instead of folders chosen by the scan.

Only the workspace root's files are read: they are what ``make``, ``npm`` or ``pytest``
started at the root would use. A file that cannot be read or parsed declares nothing.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from uet.artifacts import load_path
from uet.bootstrap.toolchain import (
    ToolFolder,
    ToolLocation,
    locate,
    read_config_text,
    workspace_tool_folders,
)

__all__ = [
    "ENTRY_POINT_FILES",
    "EntryPoint",
    "ProjectTooling",
    "RunnerConfiguration",
    "declared_entry_points",
    "runner_configuration",
    "scan_tooling",
]

ENTRY_POINT_FILES: Mapping[str, tuple[str, ...]] = {
    "make": ("GNUmakefile", "makefile", "Makefile"),  # the order GNU make tries them
    "just": ("justfile", "Justfile", ".justfile"),
    "npm": ("package.json",),
    "tox": ("tox.ini",),
    "nox": ("noxfile.py",),
    "pre-commit": (".pre-commit-config.yaml", ".pre-commit-config.yml"),
}
_MAX_BYTES = 1024 * 1024
_MAX_ENTRY_POINTS = 100  # per runner: a generated Makefile can hold thousands of targets
_MAKE_RULE = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9_.\-/]*(?:[ \t]+[A-Za-z0-9][A-Za-z0-9_.\-/]*)*)[ \t]*:(?![=:])"
)
_JUST_RECIPE = re.compile(r"^@?([A-Za-z_][A-Za-z0-9_-]*)(?:[ \t]+[^:=\n]*)?[ \t]*:(?!=)")
_NOX_SESSION = re.compile(
    r"^@nox\.session(?:\((?P<args>[^)]*)\))?\s*\n(?:@.*\n)*\s*def\s+(?P<function>\w+)\s*\(",
    re.MULTILINE,
)
_NOX_NAME = re.compile(r"""\bname\s*=\s*['"]([^'"]+)['"]""")
_ENVLIST_WORD = re.compile(r"(?:[^\s,{]|\{[^}]*\})+")
_FILE_NAME = re.compile(r"\.[A-Za-z0-9]+$")


class EntryPoint(NamedTuple):
    """One declared way to run something: ``runner`` (``make``, ``just``, ``npm``, ``tox``,
    ``nox``, ``pre-commit``), the target/script/environment/session/hook ``name``, and the
    workspace-relative ``file`` declaring it."""

    runner: str
    name: str
    file: str

    @property
    def command(self) -> tuple[str, ...]:
        """The command that runs it, from the workspace root."""
        prefix = {
            "npm": ("npm", "run"),
            "tox": ("tox", "-e"),
            "nox": ("nox", "-s"),
            "pre-commit": ("pre-commit", "run", "--all-files"),
        }.get(self.runner, (self.runner,))
        return (*prefix, self.name)


class RunnerConfiguration(NamedTuple):
    """A test runner the project configures: ``tool`` (``pytest``), the ``file`` holding its
    settings and the ``testpaths`` it names (empty: pytest's default, the root)."""

    tool: str
    file: str
    testpaths: tuple[str, ...]


def declared_entry_points(root: Path) -> tuple[EntryPoint, ...]:
    """The entry points the files at ``root`` declare, by runner then name."""
    found: list[EntryPoint] = []
    for runner, names in ENTRY_POINT_FILES.items():
        for name in names:
            text = read_config_text(root / name)
            if text is None:
                continue
            entries = sorted(set(_READERS[runner](text, root / name)))[:_MAX_ENTRY_POINTS]
            found.extend(EntryPoint(runner, entry, name) for entry in entries)
            break  # the first file a runner reads is the only one it reads
    return tuple(found)


def runner_configuration(root: Path) -> RunnerConfiguration | None:
    """pytest's configuration at ``root``, found as pytest finds it (pytest.ini, then
    .pytest.ini, pyproject.toml, tox.ini, setup.cfg), or ``None``."""
    for name in ("pytest.ini", ".pytest.ini"):
        text = read_config_text(root / name)
        if text is not None:  # pytest uses these even when they hold no [pytest] section
            return RunnerConfiguration("pytest", name, _ini_testpaths(text, "pytest"))
    text = read_config_text(root / "pyproject.toml")
    if text is not None:
        import tomllib

        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            document = {}
        tool = document.get("tool")
        pytest_table = tool.get("pytest") if isinstance(tool, dict) else None
        if isinstance(pytest_table, dict):
            options = pytest_table.get("ini_options", pytest_table)
            paths = options.get("testpaths") if isinstance(options, dict) else None
            return RunnerConfiguration("pytest", "pyproject.toml", _words(paths))
    for name, section in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        text = read_config_text(root / name)
        if text is not None and _ini_has_section(text, section):
            return RunnerConfiguration("pytest", name, _ini_testpaths(text, section))
    return None


def _make_targets(text: str, _path: Path) -> Iterable[str]:
    for line in text.replace("\\\n", " ").splitlines():
        match = _MAKE_RULE.match(line)
        if match is None:
            continue
        for target in match.group(1).split():
            # ".PHONY" and the like, patterns, and files the rule builds are not tasks
            special = target.startswith(".") or "%" in target or "/" in target
            if not special and _FILE_NAME.search(target) is None:
                yield target


def _just_recipes(text: str, _path: Path) -> Iterable[str]:
    for line in text.splitlines():
        match = _JUST_RECIPE.match(line)
        if match is not None and not line.startswith(("set ", "alias ", "export ")):
            yield match.group(1)


def _npm_scripts(_text: str, path: Path) -> Iterable[str]:
    value = load_path(path, max_bytes=_MAX_BYTES).value
    scripts = value.get("scripts") if isinstance(value, dict) else None
    if isinstance(scripts, dict):
        yield from (str(name) for name, command in scripts.items() if isinstance(command, str))


def _tox_environments(text: str, _path: Path) -> Iterable[str]:
    parser = _ini(text)
    if parser is None:
        return
    for section in parser.sections():
        if section.startswith("testenv:"):
            yield section.removeprefix("testenv:")
    if parser.has_option("tox", "envlist"):
        for word in _ENVLIST_WORD.findall(parser.get("tox", "envlist", raw=True)):
            if "{" not in word:  # a factor expansion such as py{38,39} is not one name
                yield word
    elif parser.has_section("testenv"):
        yield "py"  # no envlist: tox runs [testenv] as 'py', with the interpreter it runs on


def _nox_sessions(text: str, _path: Path) -> Iterable[str]:
    for match in _NOX_SESSION.finditer(text):
        named = _NOX_NAME.search(match.group("args") or "")
        yield named.group(1) if named is not None else match.group("function")


def _pre_commit_hooks(_text: str, path: Path) -> Iterable[str]:
    value: Any = load_path(path, max_bytes=_MAX_BYTES).value
    repos = value.get("repos") if isinstance(value, dict) else None
    for repo in repos if isinstance(repos, list) else ():
        hooks = repo.get("hooks") if isinstance(repo, dict) else None
        for hook in hooks if isinstance(hooks, list) else ():
            if isinstance(hook, dict) and isinstance(hook.get("id"), str):
                yield hook["id"]


_READERS = {
    "make": _make_targets,
    "just": _just_recipes,
    "npm": _npm_scripts,
    "tox": _tox_environments,
    "nox": _nox_sessions,
    "pre-commit": _pre_commit_hooks,
}


def _ini(text: str) -> configparser.RawConfigParser | None:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return parser


def _ini_has_section(text: str, section: str) -> bool:
    parser = _ini(text)
    return parser is not None and parser.has_section(section)


def _ini_testpaths(text: str, section: str) -> tuple[str, ...]:
    parser = _ini(text)
    if parser is None or not parser.has_option(section, "testpaths"):
        return ()
    return tuple(parser.get(section, "testpaths").split())


def _words(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list):
        return tuple(str(item) for item in value)
    return ()


class ProjectTooling(NamedTuple):
    """What the scan learnt about the project's own tooling: its tool folders, where each
    tool the profiles look for was found, its entry points and its test configuration."""

    folders: tuple[ToolFolder, ...] = ()
    tools: Mapping[str, ToolLocation] = MappingProxyType({})
    entry_points: tuple[EntryPoint, ...] = ()
    runner_configuration: RunnerConfiguration | None = None

    @property
    def configured_kinds(self) -> frozenset[str]:
        """Marker kinds the project's own tool configuration supplies: a task template's
        ``{{paths:KIND}}`` of such a kind becomes nothing, so the tool reads what the
        project configured (pytest's ``testpaths`` instead of the scan's test folders)."""
        configuration = self.runner_configuration
        return (
            _CONFIGURED_KINDS.get(configuration.tool, frozenset()) if configuration else frozenset()
        )


_CONFIGURED_KINDS = {"pytest": frozenset({"python_test_dirs"})}


def scan_tooling(root: Path, names: Iterable[str], search_path: str | None) -> ProjectTooling:
    """The project's tooling at ``root``; ``names``: the executables to locate (project
    folders first, then ``search_path``, ``None`` meaning this process's ``PATH``), and the
    runner of each declared entry point (``make``, ``tox``...)."""
    folders = workspace_tool_folders(root)
    entry_points = declared_entry_points(root)
    tools = {}
    for name in sorted({*names, *(entry.runner for entry in entry_points)}):
        location = locate(name, folders, search_path)
        if location is not None:
            tools[name] = location
    return ProjectTooling(
        folders, MappingProxyType(tools), entry_points, runner_configuration(root)
    )
