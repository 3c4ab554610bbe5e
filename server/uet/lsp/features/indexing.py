"""The workspace index kept fresh: ``workspace/didChangeWatchedFiles`` (or a cheap rescan on
save when the client cannot watch files), workspace folders that come and go, and the
command ``uet.validateWorkspace``. The syncs themselves are ``uet.lsp.index_sync``.
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from uet.lsp import convert, folders, index_sync, publishing
from uet.lsp.server import UetLanguageServer

__all__ = ["VALIDATE_COMMAND", "register"]

VALIDATE_COMMAND = "uet.validateWorkspace"


def register(server: UetLanguageServer) -> None:
    """Add watched-file, save and workspace-folder handlers."""

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: UetLanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
        paths = [convert.path_of(change.uri) for change in params.changes]
        changed = {folder for path in paths if (folder := ls.state.folder_of(path)) is not None}
        if changed:
            ls.spawn(index_sync.sync(ls, sorted(changed)), "sync watched files")

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: UetLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        if ls.state.watching:
            return  # the client reports file changes itself
        folder = ls.state.folder_of(convert.path_of(params.text_document.uri))
        if folder is not None:
            ls.spawn(index_sync.sync(ls, [folder]), "rescan on save")

    async def validate_workspace(ls: UetLanguageServer) -> dict[str, int]:
        """Re-check every artifact of every folder now; answer with the totals."""
        checked = await index_sync.sync(ls, ls.state.folders, full=True)
        counts = {"files": checked, "artifacts": 0, "errors": 0, "warnings": 0}
        for path in ls.state.index.paths():
            counts["artifacts"] += 1
            for item in publishing.diagnostics_of(ls, path):
                if item.severity.label in ("error", "warning"):
                    counts[f"{item.severity.label}s"] += 1
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Info,
                message=(
                    f"UET: {counts['artifacts']} artifact(s) checked: "
                    f"{counts['errors']} error(s), {counts['warnings']} warning(s)"
                ),
            )
        )
        return counts

    server.state.hooks.add_command(VALIDATE_COMMAND, validate_workspace)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def folders_changed(
        ls: UetLanguageServer, params: types.DidChangeWorkspaceFoldersParams
    ) -> None:
        removed = [Path(convert.path_of(item.uri)) for item in params.event.removed]
        ls.state.folders = folders.workspace_folders(ls)
        await folders.load_settings(ls)
        index_sync.forget_folders(ls, removed)
        index_sync.start(ls, full=False)
