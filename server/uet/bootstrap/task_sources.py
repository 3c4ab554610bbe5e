"""Which of the project's declared entry points a generated task uses, or which tool, and why.

A profile's phase has task templates per task *kind* (``lint``: ruff, flake8; ``test_execution``:
pytest). When the project declares its own way to do that kind of work, the generated task
runs it instead, as the project's developers do. Per phase and kind, the first that applies:

1. a Makefile target, then a justfile recipe, named for the kind (``make test``): a task
   runner the project wrote runs exactly what it does by hand;
2. the profile's own tools, when one of them is installed in the project's own environment
   (``.venv``, ``node_modules/.bin``): pinned by the project and offline;
3. a ``package.json`` script (``npm run lint``), a nox session, a tox environment, then
   pre-commit (lint only: ``pre-commit run --all-files``). The last three build their own
   environments and may download packages on their first run, and a script of
   ``package.json`` may belong to the JavaScript side of a mixed project: so they come after
   tools the project has installed, but before a tool found only on ``PATH`` (which may be
   another project's);
4. the profile's tools found on ``PATH``.

An entry point is used only when its runner (``make``, ``just``, ``npm``, ``nox``, ``tox``,
``pre-commit``) was found (project environments first, then ``PATH``); its router app is
generated with it. Names are compared ignoring case, ``-`` and ``_``. A ``format`` target is
never used for a format *check*: it rewrites files. Nothing is run to decide.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from uet.bootstrap.entrypoints import EntryPoint, ProjectTooling
from uet.bootstrap.profile_model import ToolSpec
from uet.bootstrap.toolchain import PATH_SOURCE

__all__ = [
    "ENTRY_POINT_NAMES",
    "RUNNER_APPS",
    "EntryChoice",
    "TaskSource",
    "choose_entry_point",
    "tool_source",
]

# Task kind -> entry point names that do it (compared without case, "-" and "_").
ENTRY_POINT_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "test_execution": ("test", "tests"),
        "lint": ("lint",),
        "format_check": ("formatcheck", "checkformat", "fmtcheck"),
        "type_check": ("typecheck", "types", "typing", "mypy"),
        "docs_build": ("docs",),
    }
)
_BEFORE_TOOLS = ("make", "just")
_AFTER_TOOLS = ("npm", "nox", "tox", "pre-commit")
_PRE_COMMIT_KINDS = frozenset({"lint"})
_TOX_PYTHON = re.compile(r"py(\d+)?$")  # tox's environments for an interpreter run the tests
_RUNNER_COMMANDS: Mapping[str, tuple[str, ...]] = {
    "make": ("make",),
    "just": ("just",),
    "npm": ("npm", "run"),
    "nox": ("nox", "-s"),
    "tox": ("tox", "-e"),
    "pre-commit": ("pre-commit", "run", "--all-files"),
}
_WHAT = {
    "make": "Makefile target",
    "just": "justfile recipe",
    "npm": "package.json script",
    "nox": "nox session",
    "tox": "tox environment",
    "pre-commit": "pre-commit hooks",
}


def _runner_app(runner: str) -> ToolSpec:
    app = {
        "kind": "tool",
        "command": list(_RUNNER_COMMANDS[runner]),
        # No task kinds: no routing rule sends work to it; only the tasks naming it run it.
        "capabilities": {"task_kinds": []},
        "limits": {"max_parallel": 1, "timeout_seconds": 3600},
        "safety_tier": "medium",
        "retry": {"max_attempts": 1, "retry_on_timeout": False},
    }
    return ToolSpec(runner, MappingProxyType(app), (runner,))


# The router app of each runner (app id = runner name): its command, plus the task's args.
RUNNER_APPS: Mapping[str, ToolSpec] = MappingProxyType(
    {runner: _runner_app(runner) for runner in _RUNNER_COMMANDS}
)


@dataclass(frozen=True, slots=True)
class EntryChoice:
    """The entry point a phase's tasks of one kind give way to: the runner's app id, the
    task's ``args`` and the reason, in words."""

    app_id: str
    args: tuple[str, ...]
    reason: str

    @property
    def command(self) -> str:
        """The command as typed: ``make test``, ``pre-commit run --all-files``."""
        return " ".join((*_RUNNER_COMMANDS[self.app_id], *self.args))


@dataclass(frozen=True, slots=True)
class TaskSource:
    """Where one generated task's command comes from (shown by ``uet scan``, ``uet
    profiles`` and ``uet bootstrap``, and kept in the task as ``x-uet-source``)."""

    phase_id: str
    task_id: str
    command: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        """The JSON form (``uet profiles --json``, ``uet bootstrap --json``)."""
        return {
            "phase_id": self.phase_id,
            "task_id": self.task_id,
            "command": self.command,
            "source": self.reason,
        }


def _normal(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def _matching(kind: str, runner: str, entry_points: Iterable[EntryPoint]) -> EntryPoint | None:
    """The runner's entry point for ``kind``, in the order of ``ENTRY_POINT_NAMES``."""
    mine = [entry for entry in entry_points if entry.runner == runner]
    if runner == "pre-commit":
        return mine[0] if mine and kind in _PRE_COMMIT_KINDS else None
    by_name = {_normal(entry.name): entry for entry in mine}
    for name in ENTRY_POINT_NAMES.get(kind, ()):
        if name in by_name:
            return by_name[name]
    if runner == "tox" and kind == "test_execution":
        for entry in mine:
            if _TOX_PYTHON.match(entry.name):
                return EntryPoint("tox", "py", entry.file)  # the interpreter tox runs with
    return None


def _choice(entry: EntryPoint, kind: str, after_tools: bool) -> EntryChoice:
    args = () if entry.runner == "pre-commit" else (entry.name,)
    what = _WHAT[entry.runner]
    subject = f"{what} {entry.name!r}" if entry.runner != "pre-commit" else what
    if entry.runner == "tox" and entry.name == "py":
        subject = "tox test environment (run as 'py', with the interpreter tox runs with)"
    reason = f"the project's {subject} ({entry.file})"
    if after_tools:
        reason += (
            f"; no tool of the profile for {kind} is installed in the project's own environment"
        )
        if entry.runner != "npm":
            reason += f" ({entry.runner} may build environments and download on its first run)"
    else:
        reason += ", preferred over the profile's tools"
    return EntryChoice(entry.runner, args, reason)


def choose_entry_point(
    kind: str, tools: Iterable[ToolSpec], tooling: ProjectTooling
) -> EntryChoice | None:
    """The entry point the tasks of ``kind`` in one phase give way to, or ``None`` (the
    profile's ``tools`` for that kind are used). See the module docstring for the order."""
    if kind not in ENTRY_POINT_NAMES:
        return None
    usable = [entry for entry in tooling.entry_points if entry.runner in tooling.tools]
    for runner in _BEFORE_TOOLS:
        entry = _matching(kind, runner, usable)
        if entry is not None:
            return _choice(entry, kind, after_tools=False)
    if any(_installed_in_project(tool, tooling) for tool in tools):
        return None
    for runner in _AFTER_TOOLS:
        entry = _matching(kind, runner, usable)
        if entry is not None:
            return _choice(entry, kind, after_tools=True)
    return None


def _installed_in_project(tool: ToolSpec, tooling: ProjectTooling) -> bool:
    locations = [tooling.tools.get(name) for name in tool.detect]
    return bool(locations) and all(
        location is not None and location.source != PATH_SOURCE for location in locations
    )


def tool_source(tool: ToolSpec, tooling: ProjectTooling) -> str:
    """Where the program of ``tool`` was found, in words (``ruff from .venv``). No absolute
    path (a Poetry environment lives in the user's cache folder): the text goes into
    committed workstreams."""
    if not tool.detect:
        return f"{tool.app_id}: no executable to look up"
    name = tool.detect[0]
    location = tooling.tools.get(name)
    if location is None:
        return f"{name}: not found"
    if location.source == PATH_SOURCE:
        return f"{name} from PATH (not in the project's own environments)"
    where = location.source.split(" (", 1)[0]
    return f"{name} from {where}, the project's own environment"
