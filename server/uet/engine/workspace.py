"""The workspace a run belongs to: its root, the engine's state folder and path confinement.

The root is found by walking up from the workstream file to a folder holding one of
:data:`WORKSPACE_MARKERS` (else the current directory). Engine state lives under
``<root>/.uet/``: the run store ``runs.db`` and per-attempt logs under ``logs/``.

**Invariant:** every directory a task runs in is inside the workspace (after resolving
symlinks); :func:`confine` is the only way a task's ``cwd`` becomes a path.

**Invariant:** nothing the engine reads or writes under ``.uet`` is outside the workspace.
``Workspace.state_path`` is the one place such a path is made: it refuses one that a
symbolic link (``.uet``, ``.uet/logs``, ...) leads out of the root, and
``Workspace.make_state_dirs`` creates missing folders one at a time, never through a link
that leads out.

**Invariant:** ``.uet`` ignores itself: ``make_state_dirs`` writes ``.uet/.gitignore``
(``*``) when it is missing, so a run in a workspace that was never bootstrapped leaves
nothing for source control to show (``uet bootstrap`` writes the same file).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from uet.engine.errors import WorkspaceError

__all__ = ["ROUTER_CONFIG_NAME", "WORKSPACE_MARKERS", "Workspace", "confine", "find_workspace"]

WORKSPACE_MARKERS = (".uet", "router_config.json", "PROJECT_PROFILE.yaml", ".git")
ROUTER_CONFIG_NAME = "router_config.json"
STATE_DIR_NAME = ".uet"
DB_NAME = "runs.db"
LOGS_DIR_NAME = "logs"
GITIGNORE_NAME = ".gitignore"
# The same text as uet.bootstrap.writer's: git ignores everything in .uet, this file too.
STATE_GITIGNORE_TEXT = "# engine state of uet: never commit it\n*\n"


class Workspace(NamedTuple):
    """A workspace root (absolute, symlinks resolved) and the engine's paths inside it."""

    root: Path

    @property
    def state_dir(self) -> Path:
        """``<root>/.uet``: the engine's own files."""
        return self.state_path()

    @property
    def db_path(self) -> Path:
        """``<root>/.uet/runs.db``: the run store."""
        return self.state_path(DB_NAME)

    @property
    def logs_dir(self) -> Path:
        """``<root>/.uet/logs``: one folder of attempt logs per run."""
        return self.state_path(LOGS_DIR_NAME)

    def state_path(self, *parts: str) -> Path:
        """``<root>/.uet/<parts>``, symbolic links on the way resolved (the path need not
        exist yet).

        Raises :class:`WorkspaceError` when a link leads it outside the workspace.
        """
        real_root = self.root.resolve()
        resolved = real_root.joinpath(STATE_DIR_NAME, *parts).resolve()
        if not resolved.is_relative_to(real_root):
            shown = Path(STATE_DIR_NAME, *parts).as_posix()
            raise WorkspaceError(
                f"refusing to use {shown}: a symbolic link leads it outside the workspace"
                f" {real_root} (to {resolved}); the engine keeps its state inside the"
                " workspace: replace the link with a folder"
            )
        return self.root / resolved.relative_to(real_root)

    def make_state_dirs(self) -> None:
        """Create ``.uet`` and ``.uet/logs`` where missing, one folder at a time: a folder
        that exists already (or appears meanwhile) is checked by :meth:`state_path`, so no
        folder is created through a link that leads out of the workspace."""
        parent = self.root.resolve()
        made: tuple[str, ...] = ()
        for name in (STATE_DIR_NAME, LOGS_DIR_NAME):
            try:
                (parent / name).mkdir()  # no parents: never follows a link named ``name``
            except FileExistsError:
                pass
            except OSError as error:
                raise WorkspaceError(f"cannot create {parent / name}: {error}") from error
            made = (*made, name)
            parent = self.state_path(*made[1:])
            if not parent.is_dir():
                raise WorkspaceError(f"{parent} must be a folder: it holds the engine's state")
        self._ignore_state()

    def _ignore_state(self) -> None:
        """Write ``.uet/.gitignore`` when missing (exclusively, never through a link: a
        file or link of that name that exists already is left alone)."""
        path = self.state_path(GITIGNORE_NAME)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            descriptor = os.open(path, flags, 0o644)
        except FileExistsError:
            return
        except OSError as error:
            raise WorkspaceError(f"cannot create {path}: {error}") from error
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(STATE_GITIGNORE_TEXT)

    def log_file(self, stored: str) -> Path:
        """The attempt log a run store names (``.uet/logs/...``, workspace-relative), refused
        (:class:`WorkspaceError`) unless it lies under the workspace's own logs folder."""
        logs = self.logs_dir.resolve()
        path = (self.root / stored).resolve()
        if not path.is_relative_to(logs):
            raise WorkspaceError(f"refusing to read {stored!r}: it is not under .uet/logs")
        return path

    @property
    def router_config_path(self) -> Path:
        """``<root>/router_config.json``: the default router config."""
        return self.root / ROUTER_CONFIG_NAME

    def relative(self, path: Path) -> str:
        """``path`` relative to the root when inside it (POSIX separators), else absolute."""
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


def find_workspace(start: Path | None = None, *, cwd: Path | None = None) -> Workspace:
    """The workspace holding ``start`` (a file or folder); the current directory if none."""
    here = (cwd or Path.cwd()).resolve()
    folder = (start or here).resolve()
    if not folder.is_dir():
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in WORKSPACE_MARKERS):
            return Workspace(candidate)
    return Workspace(here)


def confine(workspace: Workspace, relative: str | None) -> Path:
    """The directory ``relative`` (workspace-relative) as an absolute path inside the root.

    Raises :class:`WorkspaceError` when it escapes the workspace (``..``, an absolute path
    elsewhere, or a symlink pointing out) or is not a directory.
    """
    if not relative:
        return workspace.root
    resolved = (workspace.root / relative).resolve()
    if resolved != workspace.root and workspace.root not in resolved.parents:
        raise WorkspaceError(
            f"the working directory {relative!r} leads outside the workspace {workspace.root}"
            f" (to {resolved}); tasks run inside the workspace only"
        )
    if not resolved.is_dir():
        raise WorkspaceError(
            f"the working directory {relative!r} does not exist in the workspace"
            f" {workspace.root} (or is not a folder)"
        )
    return resolved
