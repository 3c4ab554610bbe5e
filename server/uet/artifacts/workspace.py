"""Checks a set of files or folders as one workspace: per-file checks plus the index.

Shared by ``uet validate`` and the language server's initial indexing, so both report the
same diagnostics for the same files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from uet.artifacts.checking import CheckSettings, FileReport, check_file
from uet.artifacts.files import iter_artifact_candidates
from uet.artifacts.index import WorkspaceIndex
from uet.artifacts.registry import SchemaRegistry, bundled_registry
from uet.resources import profiles_dir

__all__ = ["WorkspaceCheck", "builtin_profile_ids", "check_workspace", "collect_files"]


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
    """Expand folders into candidate files. Returns ``(file, root)`` pairs for files found
    in folders and explicitly named files separately (those are checked even when hidden)."""
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
    """Check every artifact under ``paths``; ``should_stop`` lets a caller cancel."""
    registry = registry or bundled_registry()
    settings = settings or CheckSettings()
    found, explicit = collect_files(paths, excluded_globs)
    index = WorkspaceIndex(builtin_profile_ids())
    result = WorkspaceCheck(index)
    jobs: Iterable[tuple[Path, Path | None]] = [
        *((file, root) for file, root in found),
        *((file, None) for file in explicit),
    ]
    job_list = list(jobs)
    reports: list[FileReport] = []
    for position, (file, root) in enumerate(job_list):
        if should_stop is not None and should_stop():
            break
        report = check_file(
            file, schema, registry=registry, settings=settings, root=root or Path.cwd()
        )
        if report.schema is None and report.association.problem is None:
            if root is None:
                result.skipped.append(report)
            continue
        reports.append(report)
        if on_file is not None:
            on_file(position + 1, len(job_list))
    index.apply(reports)  # one change: files sharing an id are looked up once, not per file
    return result
