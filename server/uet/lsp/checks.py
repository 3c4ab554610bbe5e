"""Checking in the thread pool: what the language server hands to a worker thread (an
immutable ``Snapshot`` of an open document, or a ``DiskJob``) and the checks run there.

Everything here runs off the event loop and touches no server state: parsing (an edit
inside one value patches the previous parse, ``uet.artifacts.reparse``), association,
validation and the extraction of ids and references, so that the event loop only applies
finished reports to the index (``uet.lsp.documents``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from uet.artifacts import CheckSettings, FileReport, SchemaRegistry
from uet.artifacts.checking import check_file, check_parsed
from uet.artifacts.loader import Language, ParsedFile, load_bytes
from uet.artifacts.reparse import reparse
from uet.lsp.state import Stamp

__all__ = ["DiskJob", "Snapshot", "check_disk", "check_snapshot"]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One version of an open document, as handed to a worker thread."""

    path: str
    relative: str
    version: int | None
    text: str
    language: Language | None
    settings: CheckSettings
    previous: ParsedFile | None = None  # the last validated parse, for incremental reparsing


@dataclass(frozen=True, slots=True)
class DiskJob:
    """One file to check from disk."""

    path: str
    root: Path | None
    settings: CheckSettings


def check_snapshot(snapshot: Snapshot, registry: SchemaRegistry) -> tuple[FileReport, float]:
    """Check one document version (worker thread). The size and binary checks of files on
    disk apply to editor buffers as well. An edit inside one value patches the previous
    parse instead of parsing everything again (``uet.artifacts.reparse``)."""
    started = time.perf_counter()
    data = snapshot.text.encode("utf-8", "surrogatepass")
    parsed: ParsedFile | None = None
    previous = snapshot.previous
    if (
        previous is not None
        and len(data) <= snapshot.settings.max_file_bytes
        and snapshot.language in (None, previous.language)
    ):
        parsed = reparse(previous, snapshot.text)
    if parsed is None:
        parsed = load_bytes(
            data, snapshot.path, snapshot.language, snapshot.settings.max_file_bytes
        )
    report = check_parsed(parsed, snapshot.relative, registry=registry, settings=snapshot.settings)
    report.facts  # noqa: B018 - extracted here, in the worker, not on the event loop
    return report, time.perf_counter() - started


def check_disk(
    jobs: list[DiskJob], registry: SchemaRegistry
) -> list[tuple[FileReport, Stamp | None]]:
    """Check files from disk (worker thread), with the stamp each was read at."""
    results: list[tuple[FileReport, Stamp | None]] = []
    for job in jobs:
        try:
            info = Path(job.path).stat()
            stamp: Stamp | None = (info.st_mtime_ns, info.st_size)
        except OSError:
            stamp = None
        report = check_file(job.path, registry=registry, settings=job.settings, root=job.root)
        report.facts  # noqa: B018 - extracted here, in the worker, not on the event loop
        results.append((report, stamp))
    return results
