"""Workspaces: which folder a file belongs to, and checking a set of files or folders.

A workspace is a project: the nearest folder, at or above a file, holding a project
profile (``PROJECT_PROFILE.yaml``, ``project-profile.json``...) or the engine's ``.uet/``
folder; without one, the root of the git work tree. Its root anchors the naming
conventions (``docs/association.md``), and ids are unique only inside it, so two projects
bootstrapped in one repository are checked as two workspaces.

``check_workspace`` is shared by ``uet validate`` and the language server's initial
indexing, so both report the same diagnostics for the same files.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from uet.artifacts.checking import CheckSettings, FileReport, check_file
from uet.artifacts.files import iter_artifact_candidates
from uet.artifacts.index import WorkspaceIndex
from uet.artifacts.registry import SchemaRegistry, bundled_registry
from uet.resources import profiles_dir

__all__ = [
    "PROJECT_PROFILE_NAMES",
    "Owners",
    "WorkspaceCheck",
    "builtin_profile_ids",
    "check_workspace",
    "collect_files",
    "workspace_root",
]

# The files that make a folder a project. Only exact names: ``project_profile*.json`` is a
# naming convention for artifacts, but ``schemas/project_profile.schema.json`` does not make
# ``schemas/`` a project.
PROJECT_PROFILE_NAMES = tuple(
    f"{stem}.{ext}"
    for stem in ("PROJECT_PROFILE", "project-profile")
    for ext in ("yaml", "yml", "json")
)
STATE_DIR = ".uet"


def _is_project(folder: Path) -> bool:
    if (folder / STATE_DIR).is_dir():
        return True
    return any((folder / name).is_file() for name in PROJECT_PROFILE_NAMES)


class Owners:
    """Which folder owns a file: the nearest folder at or above it that is a project (a
    project profile or ``.uet/``) or the root of a git work tree (``.git``).

    Remembers each folder's answer, so one listing of many files costs a few file-system
    checks per folder; make a new one for each pass, as projects come and go."""

    def __init__(self) -> None:
        self._memo: dict[Path, Path | None] = {}  # real folder → its owner
        self._named: dict[Path, Path | None] = {}  # folder as named → its owner

    def owner_of(self, path: str | Path) -> Path | None:
        """The owning folder (a real path) of the file ``path``, or ``None``."""
        return self.folder_owner(Path(path).absolute().parent)

    def workspace_of(self, path: str | Path) -> str:
        """The workspace name of the file ``path`` for ``WorkspaceIndex.apply``: its owning
        folder, or ``""`` (shared by every file without an owner)."""
        owner = self.owner_of(path)
        return "" if owner is None else str(owner)

    def folder_owner(self, folder: str | Path) -> Path | None:
        """The owning folder (a real path) of ``folder``; it may own itself."""
        named = Path(folder).absolute()
        if named in self._named:
            return self._named[named]
        visited: list[Path] = []
        current = Path(os.path.realpath(named))
        found: Path | None = None
        while True:
            if current in self._memo:
                found = self._memo[current]
                break
            visited.append(current)
            if _is_project(current) or os.path.lexists(current / ".git"):
                found = current
                break
            if current.parent == current:
                break
            current = current.parent
        for seen in visited:
            self._memo[seen] = found
        self._named[named] = found
        return found


def workspace_root(path: Path, owners: Owners | None = None) -> Path:
    """The workspace root of a file or folder named on the command line (its real path):
    its owner (``Owners``); else the current folder when ``path`` is inside it; else
    ``path``'s own folder."""
    # realpath, not Path.resolve: a symbolic link loop is the loader's to report.
    real = Path(os.path.realpath(path))
    start = real if real.is_dir() else real.parent
    owner = (owners or Owners()).folder_owner(start)
    if owner is not None:
        return owner
    cwd = Path(os.path.realpath(Path.cwd()))
    return cwd if start.is_relative_to(cwd) else start


@dataclass(slots=True)
class WorkspaceCheck:
    """The index of every artifact found, and the files skipped as non-artifacts."""

    index: WorkspaceIndex
    skipped: list[FileReport] = field(default_factory=list)


def builtin_profile_ids() -> list[str]:
    """Ids of the profiles shipped with uet-lsp (one folder each)."""
    try:
        return sorted(entry.name for entry in profiles_dir().iterdir() if entry.is_dir())
    except OSError:
        return []


def collect_files(
    paths: Sequence[Path], excluded_globs: Sequence[str] = ()
) -> tuple[list[tuple[Path, Path]], list[Path]]:
    """Expand folders into candidate files. Returns ``(file, folder named)`` pairs for files
    found in folders and explicitly named files separately (those are checked even when
    hidden)."""
    found: list[tuple[Path, Path]] = []
    explicit: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend((file, path) for file in iter_artifact_candidates(path, excluded_globs))
        else:
            explicit.append(path)
    return found, explicit


def check_workspace(
    paths: Sequence[Path],
    schema: str | None = None,
    *,
    settings: CheckSettings | None = None,
    registry: SchemaRegistry | None = None,
    excluded_globs: Sequence[str] = (),
    should_stop: Callable[[], bool] | None = None,
    on_file: Callable[[int, int], None] | None = None,
) -> WorkspaceCheck:
    """Check every artifact under ``paths``; ``should_stop`` lets a caller cancel.

    Whatever folder is named, conventions are matched relative to its workspace root
    (``workspace_root``), and each file's ids are checked against the other files of the
    workspace that owns it (``Owners``)."""
    registry = registry or bundled_registry()
    settings = settings or CheckSettings()
    found, explicit = collect_files(paths, excluded_globs)
    owners = Owners()
    roots = {path: workspace_root(path, owners) for path in {*paths}}
    jobs: list[tuple[Path, Path, bool]] = [
        *((file, roots[named], False) for file, named in found),
        *((file, roots[file], True) for file in explicit),
    ]
    index = WorkspaceIndex(builtin_profile_ids())
    result = WorkspaceCheck(index)
    reports: list[FileReport] = []
    scopes: dict[str, str] = {}
    for position, (file, root, named) in enumerate(jobs):
        if should_stop is not None and should_stop():
            break
        report = check_file(file, schema, registry=registry, settings=settings, root=root)
        if report.schema is None and report.association.problem is None:
            if named:
                result.skipped.append(report)
            continue
        reports.append(report)
        scopes[report.path] = owners.workspace_of(file)
        if on_file is not None:
            on_file(position + 1, len(jobs))
    # one change: files sharing an id are looked up once, not per file
    index.apply(reports, scopes=scopes)
    return result
