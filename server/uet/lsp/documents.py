"""Open documents, validated from the editor's text: snapshot → check in a thread → index
→ diagnostics to the client (``uet.lsp.publishing``); and the current report of a
document, which every request about it awaits.

Checking (parse, associate, validate: ``uet.lsp.checks``) runs in the thread pool on an
immutable ``Snapshot``; the result is applied to the workspace index on the event loop
only if the document still has the version that was checked (stale results are dropped).
Each open document has at most one validation in flight; a change that arrives meanwhile
stops it early (its result would be dropped) and the newest text is checked next. Checks
of big documents (``checks.HEAVY_BYTES``) run one at a time, so they never occupy the
whole thread pool: the checks of other documents, and the requests waiting for them, never
queue behind them. Files that are not open are checked from disk (``uet.lsp.index_sync``).

Debounce is adaptive: a change is validated at once when the document's last validation
took at most ``FAST_SECONDS``, or when the previous change is older than that validation
took (the user is not typing faster than we validate). Only bursts of changes to slow
documents wait ``uet.debounce`` milliseconds for the typing to pause.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from lsprotocol import types

from uet.artifacts import FileReport
from uet.artifacts.loader import Language
from uet.lsp import convert
from uet.lsp.checks import CheckCancelled, DiskJob, Snapshot, check_disk, check_snapshot
from uet.lsp.convert import path_of
from uet.lsp.publishing import apply_reports, clear, publish
from uet.lsp.server import UetLanguageServer
from uet.lsp.state import DocumentState, check_settings_of

__all__ = [
    "FAST_SECONDS",
    "close_document",
    "current_report",
    "open_document",
    "report_at",
    "revalidate_open",
    "schedule",
]

log = logging.getLogger("uet.lsp")

# Up to this cost a document is re-validated on every change without a timer: one
# validation is in flight per document and changes arriving meanwhile coalesce, so fast
# typing costs at most one validation per this interval. Slower documents are debounced.
FAST_SECONDS = 0.1


def open_document(server: UetLanguageServer, uri: str, language_id: str) -> DocumentState:
    """Start tracking an open document and validate it."""
    state = server.state
    document = DocumentState(uri, path_of(uri), language_id)
    state.documents[uri] = document
    if state.client.pull_diagnostics:
        clear(server, document.path)  # from now on the client pulls this file's diagnostics
    schedule(server, uri)
    return document


def revalidate_open(server: UetLanguageServer, uris: Iterable[str] | None = None) -> None:
    """Validate every open document again (after a settings change), or only ``uris``;
    a pull client is asked to pull their diagnostics again."""
    state = server.state
    chosen = state.documents.values() if uris is None else [state.documents[uri] for uri in uris]
    for document in list(chosen):
        document.last_seconds = 0.0
        document.external = True
        schedule(server, document.uri)


def schedule(server: UetLanguageServer, uri: str) -> None:
    """Validate ``uri`` now if it is fast to validate, else after the debounce delay."""
    document = server.state.documents.get(uri)
    if document is None:
        return
    if document.timer is not None:
        document.timer.cancel()
        document.timer = None
    now = time.monotonic()
    gap, document.last_change = now - document.last_change, now
    if document.running:
        _stop(document)  # the running validation checks the newest text next
        return
    delay = 0.0 if gap >= document.last_seconds else _delay(server, document)
    if delay <= 0:
        _start(server, document)
    else:
        loop = asyncio.get_running_loop()
        document.timer = loop.call_later(delay, _start, server, document)


def _stop(document: DocumentState) -> None:
    if document.stop is not None:
        document.stop.set()


def _delay(server: UetLanguageServer, document: DocumentState) -> float:
    if document.last_seconds <= FAST_SECONDS:
        return 0.0
    return server.state.settings_for(document.path).debounce / 1000


def _start(server: UetLanguageServer, document: DocumentState) -> None:
    document.timer = None
    if document.running or server.state.documents.get(document.uri) is not document:
        return
    document.running = True
    server.spawn(_validate(server, document), f"validate {document.uri}")


def _snapshot(server: UetLanguageServer, document: DocumentState) -> Snapshot:
    text_document = server.workspace.get_text_document(document.uri)
    state = server.state
    language: Language | None = None
    if document.language_id in ("json", "jsonc"):
        language = "json"
    elif document.language_id == "yaml":
        language = "yaml"
    return Snapshot(
        document.path,
        state.relative_path(document.path),
        text_document.version,
        text_document.source,
        language,
        check_settings_of(state.settings_for(document.path)),
        document.report.parsed if document.report is not None else None,
    )


async def _validate(server: UetLanguageServer, document: DocumentState) -> None:
    state = server.state
    try:
        while state.documents.get(document.uri) is document:
            snapshot = _snapshot(server, document)
            document.stop = stop = threading.Event()
            started = time.perf_counter()
            report: FileReport | None = None
            try:
                report, seconds = await _check(server, document.uri, snapshot, stop)
            except CheckCancelled:
                # It took at least this long so far: a slow document gets debounced.
                seconds = max(document.last_seconds, time.perf_counter() - started)
                log.debug(
                    "check of %s v%s canceled after %.1f ms (a newer version, or closed)",
                    document.uri, snapshot.version, (time.perf_counter() - started) * 1000,
                )  # fmt: skip
            finally:
                document.stop = None
            document.last_seconds = seconds
            if state.documents.get(document.uri) is not document:
                return
            if (
                report is None
                or server.workspace.get_text_document(document.uri).version != snapshot.version
            ):
                delay = _delay(server, document)
                if delay > 0:
                    await asyncio.sleep(delay)
                continue  # canceled or stale: dropped, validate the newest text
            document.validated_version = snapshot.version
            document.report = report
            if report.parsed.documents and report.parsed.documents[0].root is not None:
                document.last_good_value = report.parsed.documents[0].root.value
            applied = time.perf_counter()
            affected = apply_reports(server, [report])
            fresh = set() if document.external else {document.path}
            document.external = False
            publish(server, affected, fresh=fresh)
            log.debug(
                "validated %s v%s: check %.1f ms, index+publish %.1f ms, %d file(s) affected",
                document.uri, snapshot.version, seconds * 1000,
                (time.perf_counter() - applied) * 1000, len(affected),
            )  # fmt: skip
            return
    finally:
        document.running = False
        _wake(document)


async def _check(
    server: UetLanguageServer, uri: str, snapshot: Snapshot, stop: threading.Event
) -> tuple[FileReport, float]:
    """Check ``snapshot`` in the thread pool; a heavy one first waits for the heavy slot
    (without holding a worker). ``stop`` cancels it, also while it waits."""
    registry = server.state.registry
    if not snapshot.heavy:
        return await server.in_pool(check_snapshot, snapshot, registry, stop.is_set)
    async with server.state.heavy_checks:
        if stop.is_set():
            raise CheckCancelled
        log.debug(
            "checking %s v%s: %d characters, a heavy check",
            uri, snapshot.version, len(snapshot.text),
        )  # fmt: skip
        return await server.in_pool(check_snapshot, snapshot, registry, stop.is_set)


def _wake(document: DocumentState) -> None:
    waiters, document.waiters = document.waiters, []
    for waiter in waiters:
        if not waiter.done():
            waiter.set_result(None)


async def current_report(server: UetLanguageServer, uri: str) -> FileReport | None:
    """The report of the document's current version (waiting for its validation, which a
    pending debounce does not delay), or of the file on disk when it is not open."""
    state = server.state
    document = state.documents.get(uri)
    if document is None:
        path = path_of(uri)
        known = state.index.report(path)
        if known is not None or not Path(path).is_file():
            return known
        settings = check_settings_of(state.settings_for(path))
        job = DiskJob(path, state.folder_of(path), settings)
        ((report, _),) = await server.in_pool(check_disk, [job], state.registry)
        return report
    while state.documents.get(uri) is document:
        version = server.workspace.get_text_document(uri).version
        if document.validated_version == version and document.report is not None:
            return document.report
        if document.timer is not None:
            document.timer.cancel()
            _start(server, document)
        elif not document.running:
            _start(server, document)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        document.waiters.append(waiter)
        await waiter
    return None


async def close_document(server: UetLanguageServer, uri: str) -> None:
    """Stop tracking ``uri``: files of the workspace index fall back to their disk
    contents; other files lose their diagnostics."""
    state = server.state
    document = state.documents.pop(uri, None)
    if document is None:
        return
    if document.timer is not None:
        document.timer.cancel()
    _stop(document)
    _wake(document)
    path = document.path
    state.pulled.pop(path, None)
    if path in state.stamps and Path(path).is_file():
        settings = check_settings_of(state.settings_for(path))
        job = DiskJob(path, state.folder_of(path), settings)
        results = await server.in_pool(check_disk, [job], state.registry)
        if uri in state.documents:
            return  # reopened meanwhile
        for _, stamp in results:
            if stamp is not None:
                state.stamps[path] = stamp
        affected = apply_reports(server, [report for report, _ in results])
        publish(server, affected, fresh={path})
        return
    affected = state.index.remove(path)
    affected.discard(path)
    clear(server, path)
    publish(server, affected)


async def report_at(
    server: UetLanguageServer, uri: str, position: types.Position
) -> tuple[FileReport, int] | None:
    """The current report of ``uri`` and the code-point offset of ``position`` in it."""
    report = await current_report(server, uri)
    if report is None:
        return None
    offset = convert.to_offset(report.parsed.line_index, position, server.encoding)
    return report, offset
