"""Bringing the workspace index in step with the disk: every artifact of every folder,
validated in the background (shared by the features that need a sync: start-up, settings,
watched files, folders, bootstrap).

A sync lists the folder's candidates (``uet.artifacts.files``: .gitignore honoured,
``node_modules``/``.venv``/``.git`` skipped, ``uet.exclude`` applied), compares their
(mtime, size) stamps with what was indexed, re-checks only changed files in the thread pool
in chunks, drops vanished files (their diagnostics are cleared) and publishes the
diagnostics of every file affected, cross-file ones included. Each sync also tells the
index which workspace owns each file (``uet.artifacts.workspace.Owners``: the nearest
folder with a project profile or ``.uet/``, else the git work tree), so nested projects
are checked as separate workspaces; a project that appears or goes is seen at the next
sync. Open documents are left to the editor's text. Syncs run one at a time and end with
the ``indexed`` hooks; a full index (``start``) reports work-done progress "Indexing UET
artifacts" and can be cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from concurrent.futures import Future
from pathlib import Path

from lsprotocol import types

from uet.artifacts.files import iter_artifact_candidates
from uet.artifacts.workspace import Owners
from uet.lsp import publishing, runtime
from uet.lsp.checks import DiskJob, check_disk
from uet.lsp.server import UetLanguageServer
from uet.lsp.state import Stamp, check_settings_of

__all__ = ["forget_folders", "start", "sync"]

log = logging.getLogger("uet.lsp")
_CHUNK = 64
_TITLE = "Indexing UET artifacts"


def start(server: UetLanguageServer, *, full: bool) -> None:
    """(Re)index every folder in the background; ``full`` re-checks unchanged files too."""
    state = server.state
    if state.indexing is not None and not state.indexing.done():
        state.indexing.cancel()
    state.indexing = server.spawn(_index(server, full), "index workspace")


async def _index(server: UetLanguageServer, full: bool) -> None:
    token: str | None = None
    progress = server.work_done_progress
    if server.state.client.work_done_progress:
        token = str(uuid.uuid4())
        # Shielded: when a re-index cancels this task while the client has not answered the
        # create request yet, the request must still complete normally (pygls would fail to
        # set the result of a cancelled future and report an internal error).
        creating = asyncio.ensure_future(progress.create_async(token))
        try:
            await asyncio.shield(creating)
        except asyncio.CancelledError:
            created = token
            creating.add_done_callback(lambda _: progress.tokens.pop(created, None))
            raise
        progress.begin(
            token, types.WorkDoneProgressBegin(title=_TITLE, cancellable=True, percentage=0)
        )
    message = "done"
    try:
        cancelled = progress.tokens.get(token) if token is not None else None
        total = await sync(server, server.state.folders, full=full, token=token, flag=cancelled)
        message = f"{total} artifact file(s) checked"
        warm_up = server.state.warm_up
        if warm_up is not None and not warm_up.done():
            await asyncio.wait([warm_up])  # "indexed" means ready: see features.startup
        if cancelled is not None and cancelled.cancelled():
            message = "cancelled"
        elif server.manage_gc:
            runtime.freeze_long_lived()  # the index (and the modules) live as long as the session
    except asyncio.CancelledError:
        message = "cancelled"
        raise
    finally:
        if token is not None:
            progress.end(token, types.WorkDoneProgressEnd(message=message))
            progress.tokens.pop(token, None)


async def sync(
    server: UetLanguageServer,
    folders: list[Path],
    *,
    full: bool = False,
    token: str | None = None,
    flag: Future[object] | None = None,
) -> int:
    """Bring the index in step with ``folders`` on disk; returns the files checked."""
    async with server.state.sync_lock:
        return await _sync(server, folders, full, token, flag)


async def _sync(
    server: UetLanguageServer,
    folders: list[Path],
    full: bool,
    token: str | None,
    flag: Future[object] | None,
) -> int:
    state = server.state
    found: dict[str, Stamp] = {}
    workspaces: dict[str, str] = {}
    for folder in folders:
        exclude = tuple(state.folder_settings.get(folder, state.default_settings).exclude)
        listed, owned = await server.in_pool(_list_candidates, folder, exclude)
        found.update(listed)
        workspaces.update(owned)
    open_paths = {document.path for document in state.documents.values()}
    vanished = [
        path
        for path in state.stamps
        if path not in found and any(Path(path).is_relative_to(folder) for folder in folders)
    ]
    changed = [
        path
        for path, stamp in found.items()
        if path not in open_paths and (full or state.stamps.get(path) != stamp)
    ]
    gone = [path for path in vanished if path not in open_paths]
    for path in vanished:
        state.stamps.pop(path, None)
    affected = state.index.apply((), gone, workspaces) - set(gone)
    for path in gone:
        publishing.clear(server, path)
    for position in range(0, len(changed), _CHUNK):
        if flag is not None and flag.cancelled():
            break
        jobs = [
            DiskJob(path, state.folder_of(path), check_settings_of(state.settings_for(path)))
            for path in changed[position : position + _CHUNK]
        ]
        results = await server.in_pool(check_disk, jobs, state.registry)
        fresh = [report for report, _ in results if report.path not in _open_paths(server)]
        for report, stamp in results:
            if stamp is not None:
                state.stamps[report.path] = stamp
        affected |= publishing.apply_reports(server, fresh)
        if token is not None:
            done = min(position + _CHUNK, len(changed))
            server.work_done_progress.report(
                token,
                types.WorkDoneProgressReport(
                    message=f"{done}/{len(changed)} files",
                    percentage=int(100 * done / max(len(changed), 1)),
                ),
            )
    for path, stamp in found.items():
        if path in open_paths:
            state.stamps.setdefault(path, stamp)
    publishing.publish(server, affected)
    log.info("indexed %d file(s), %d affected", len(changed), len(affected))
    for hook in state.hooks.indexed:
        hook(server, folders)
    return len(changed)


def _open_paths(server: UetLanguageServer) -> set[str]:
    return {document.path for document in server.state.documents.values()}


def _list_candidates(
    folder: Path, exclude: tuple[str, ...]
) -> tuple[dict[str, Stamp], dict[str, str]]:
    """Candidate files of ``folder`` with their stamps, and the workspace owning each
    (worker thread)."""
    found: dict[str, Stamp] = {}
    workspaces: dict[str, str] = {}
    owners = Owners()
    for path in iter_artifact_candidates(folder, exclude):
        try:
            info = path.stat()
        except OSError:
            continue
        found[str(path)] = (info.st_mtime_ns, info.st_size)
        workspaces[str(path)] = owners.workspace_of(path)
    return found, workspaces


def forget_folders(server: UetLanguageServer, removed: list[Path]) -> None:
    """Drop the files of folders that left the workspace (their diagnostics are cleared)."""
    state = server.state
    gone = [
        path
        for path in state.stamps
        if any(Path(path).is_relative_to(folder) for folder in removed)
    ]
    for path in gone:
        state.stamps.pop(path)
    affected = state.index.apply((), gone) - set(gone)
    for path in gone:
        publishing.clear(server, path)
    publishing.publish(server, affected)
