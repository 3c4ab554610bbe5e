"""Results of runs this server did not execute: made before it started (``uet run`` in a
terminal, an earlier editor session) or by another process while it runs.

After every index sync (``ServerState.hooks.indexed``; the first one ends the start-up
indexing) the server reads, for each workstream file of the index, the finished runs of
that file from its engine workspace's run store that it has not shown yet (oldest first, so
each task keeps its latest outcome even when later runs covered other tasks only), and
shows their failed, timed-out and skipped tasks as the same UET401/402/403 diagnostics as
the runs it executes (``results``; a run is read once, and never over a newer one).
While the server runs, a cheap poll notices runs that other processes finish: every
:data:`POLL_SECONDS` it stats each run store it knows (the database and its write-ahead
log, in the thread pool) and reads the store again only when one of them changed. A store
in which this server is executing a run is not polled: that run's own events drive its
results, and the store is read when the run has ended (its stamp changed).

Stores are read read-only (``store.finished_results``): a missing, locked, corrupt or
foreign database is logged and skipped, never an error for the user.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

from uet.artifacts import ParsedFile
from uet.lsp import publishing
from uet.lsp.features.runs import store
from uet.lsp.features.runs.control import RunBoard
from uet.lsp.features.runs.store import StoreStamp
from uet.lsp.server import UetLanguageServer

__all__ = ["POLL_SECONDS", "RunHistory", "install"]

log = logging.getLogger("uet.lsp")

POLL_SECONDS = 2.0
WORKSTREAM_SCHEMA = "workstream_spec"


@dataclass(eq=False)
class RunHistory:
    """Which run stores the server watches and what it last saw of them (event loop)."""

    files: dict[Path, list[str]] = field(default_factory=dict)  # root → its workstream files
    stamps: dict[Path, StoreStamp] = field(default_factory=dict)  # root → stamp last read
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one reload at a time
    poller: asyncio.Task[None] | None = None

    def stop(self) -> None:
        """Stop polling (on shutdown)."""
        if self.poller is not None:
            self.poller.cancel()
            self.poller = None


def install(server: UetLanguageServer, board: RunBoard) -> RunHistory:
    """Load past results after every index sync and poll the stores from the first on."""
    history = RunHistory()

    def indexed(ls: UetLanguageServer, folders: list[Path]) -> None:
        ls.spawn(_reload(ls, board, history), "load past run results")
        if history.poller is None:
            history.poller = ls.spawn(_poll(ls, board, history), "poll run stores")

    server.state.hooks.indexed.append(indexed)
    return history


async def _reload(server: UetLanguageServer, board: RunBoard, history: RunHistory) -> None:
    """Re-group the index's workstream files by engine workspace and read each store that
    changed, or whose workstream files changed, since it was last read."""
    async with history.lock:
        state = server.state
        files = [
            (path, state.folder_of(path) or Path(path).parent)
            for path in state.index.paths()
            if _is_workstream(server, path)
        ]
        previous = history.files
        history.files = await server.in_pool(store.workspaces_of, files) if files else {}
        for root in set(history.stamps) - set(history.files):
            del history.stamps[root]
        roots = list(history.files)
        stamps = await server.in_pool(_stamps, roots) if roots else []
        for root, stamp in zip(roots, stamps, strict=True):
            same_files = previous.get(root) == history.files[root]
            if not same_files or history.stamps.get(root) != stamp:
                await _load(server, board, history, root)


async def _poll(server: UetLanguageServer, board: RunBoard, history: RunHistory) -> None:
    """Read a store again when another process has written to it."""
    while True:
        await asyncio.sleep(POLL_SECONDS)
        roots = [root for root in history.files if not board.running_in(root)]
        if not roots or history.lock.locked():
            continue
        stamps = await server.in_pool(_stamps, roots)
        async with history.lock:
            for root, stamp in zip(roots, stamps, strict=True):
                if root in history.files and history.stamps.get(root) != stamp:
                    await _load(server, board, history, root)


async def _load(
    server: UetLanguageServer, board: RunBoard, history: RunHistory, root: Path
) -> None:
    """Fold the finished runs of ``root``'s workstream files not shown yet into what the
    editor shows (event loop)."""
    results = board.results
    candidates: dict[str, tuple[ParsedFile, str]] = {}
    for path in history.files.get(root, ()):
        report = server.state.index.report(path)
        if report is not None:
            candidates[path] = (report.parsed, results.newest_run(path))
    found = await server.in_pool(store.finished_results, root, candidates)
    history.stamps[root] = found.stamp
    changed: set[str] = set()
    for result in found.results:
        if result.run_id <= results.newest_run(result.path):
            continue  # a newer run was shown meanwhile
        if server.state.index.report(result.path) is None:
            continue  # the file left the index meanwhile
        if results.merge(result.path, result.statuses, result.diagnostics, result.run_id):
            changed.add(result.path)
    if changed:
        log.info("showing results of past runs on %d workstream file(s)", len(changed))
        publishing.publish(server, changed)


def _is_workstream(server: UetLanguageServer, path: str) -> bool:
    report = server.state.index.report(path)
    return report is not None and report.schema == WORKSTREAM_SCHEMA


def _stamps(roots: list[Path]) -> list[StoreStamp]:
    return [store.store_stamp(root) for root in roots]
