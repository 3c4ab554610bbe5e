"""The workspace a run belongs to: its root, the engine's state folder and path confinement.

The root is found by walking up from the workstream file to a folder holding one of
:data:`WORKSPACE_MARKERS` (else the current directory). Engine state lives under
``<root>/.uet/``: the run store ``runs.db`` and per-attempt logs under ``logs/``.

**Invariant:** every directory a task runs in is inside the workspace (after resolving
symlinks); :func:`confine` is the only way a task's ``cwd`` becomes a path.
"""

from pathlib import Path
from typing import NamedTuple

from uet.engine.errors import WorkspaceError

__all__ = ["ROUTER_CONFIG_NAME", "WORKSPACE_MARKERS", "Workspace", "confine", "find_workspace"]

WORKSPACE_MARKERS = (".uet", "router_config.json", "PROJECT_PROFILE.yaml", ".git")
ROUTER_CONFIG_NAME = "router_config.json"
STATE_DIR_NAME = ".uet"


class Workspace(NamedTuple):
    """A workspace root (absolute, symlinks resolved) and the engine's paths inside it."""

    root: Path

    @property
    def state_dir(self) -> Path:
        """``<root>/.uet``: the engine's own files."""
        return self.root / STATE_DIR_NAME

    @property
    def db_path(self) -> Path:
        """``<root>/.uet/runs.db``: the run store."""
        return self.state_dir / "runs.db"

    @property
    def logs_dir(self) -> Path:
        """``<root>/.uet/logs``: one folder of attempt logs per run."""
        return self.state_dir / "logs"

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
        raise WorkspaceError(f"directory {relative!r} is outside the workspace {workspace.root}")
    if not resolved.is_dir():
        raise WorkspaceError(f"directory {relative!r} does not exist in the workspace")
    return resolved
