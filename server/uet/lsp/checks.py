"""Checking in the thread pool: what the language server hands to a worker thread (an
immutable ``Snapshot`` of an open document, or a ``DiskJob``) and the checks run there.

Everything here runs off the event loop and touches no server state: parsing (an edit
inside one value patches the previous parse, ``uet.artifacts.reparse``), association,
validation and the extraction of ids and references, so that the event loop only applies
finished reports to the index (``uet.lsp.documents``).

A check stops early, raising ``CheckCancelled``, when its caller's ``cancelled`` check
answers true (a newer version of the document arrived, or it was closed): between its
phases and inside the parse. A check of a big text (``HEAVY_BYTES``) runs with the cyclic
garbage collector paused (``uet.lsp.runtime.paused_collector``): its collections would
scan millions of new objects while holding the GIL, stalling every other request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from uet.artifacts import CheckCancelled, CheckSettings, FileReport, SchemaRegistry
from uet.artifacts.checking import check_file, check_parsed
from uet.artifacts.loader import Language, ParsedFile, load_bytes
from uet.artifacts.reparse import reparse
from uet.lsp.runtime import paused_collector
from uet.lsp.state import Stamp

__all__ = [
    "HEAVY_BYTES",
    "CheckCancelled",
    "DiskJob",
    "Snapshot",
    "check_disk",
    "check_snapshot",
]

CancelCheck = Callable[[], bool]  # answers true when the check should stop

# From this size on a check is heavy: it allocates hundreds of thousands of objects (about
# 300,000 per MiB of YAML) and takes seconds. Heavy checks run one at a time
# (``uet.lsp.documents``) with the collector paused.
HEAVY_BYTES = 1 << 20


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

    @property
    def heavy(self) -> bool:
        """Whether checking this text is heavy (``HEAVY_BYTES``; a text over the size limit
        is refused at once)."""
        return HEAVY_BYTES <= len(self.text) <= self.settings.max_file_bytes


@dataclass(frozen=True, slots=True)
class DiskJob:
    """One file to check from disk."""

    path: str
    root: Path | None
    settings: CheckSettings


def _collector(heavy: bool) -> AbstractContextManager[None]:
    return paused_collector() if heavy else nullcontext()


def _stop_if(cancelled: CancelCheck | None) -> None:
    if cancelled is not None and cancelled():
        raise CheckCancelled


def check_snapshot(
    snapshot: Snapshot, registry: SchemaRegistry, cancelled: CancelCheck | None = None
) -> tuple[FileReport, float]:
    """Check one document version (worker thread). The size and binary checks of files on
    disk apply to editor buffers as well. An edit inside one value patches the previous
    parse instead of parsing everything again (``uet.artifacts.reparse``). Raises
    ``CheckCancelled`` as soon as ``cancelled`` answers true."""
    with _collector(snapshot.heavy):
        return _check_snapshot(snapshot, registry, cancelled)


def _check_snapshot(
    snapshot: Snapshot, registry: SchemaRegistry, cancelled: CancelCheck | None
) -> tuple[FileReport, float]:
    started = time.perf_counter()
    _stop_if(cancelled)
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
            data,
            snapshot.path,
            snapshot.language,
            snapshot.settings.max_file_bytes,
            cancelled=cancelled,
        )
    _stop_if(cancelled)
    report = check_parsed(
        parsed,
        snapshot.relative,
        registry=registry,
        settings=snapshot.settings,
        cancelled=cancelled,
    )
    _stop_if(cancelled)
    report.facts  # noqa: B018 - extracted here, in the worker, not on the event loop
    parsed.line_index  # noqa: B018 - positions of diagnostics and requests, computed here too
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
        heavy = stamp is not None and HEAVY_BYTES <= stamp[1] <= job.settings.max_file_bytes
        with _collector(heavy):
            report = check_file(job.path, registry=registry, settings=job.settings, root=job.root)
            report.facts  # noqa: B018 - extracted here, in the worker, not on the event loop
            if heavy:
                report.parsed.line_index  # noqa: B018 - a long scan: not on the event loop
        results.append((report, stamp))
    return results
