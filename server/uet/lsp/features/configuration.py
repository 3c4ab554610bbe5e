"""Settings changes: ``workspace/didChangeConfiguration`` reloads the settings
(``uet.lsp.folders``) without a restart; when they changed, the workspace is indexed again
and the open documents are validated again.
"""

from __future__ import annotations

from lsprotocol import types

from uet.lsp import documents, folders, index_sync
from uet.lsp.server import UetLanguageServer
from uet.settings import SECTION

__all__ = ["register"]


def register(server: UetLanguageServer) -> None:
    """Add the ``workspace/didChangeConfiguration`` handler."""

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def changed(ls: UetLanguageServer, params: types.DidChangeConfigurationParams) -> None:
        pushed = params.settings if isinstance(params.settings, dict) else None
        if not ls.state.client.configuration and pushed is not None and SECTION in pushed:
            ls.state.initialization_options = pushed
        before = (ls.state.default_settings, dict(ls.state.folder_settings))
        await folders.load_settings(ls)
        if before != (ls.state.default_settings, dict(ls.state.folder_settings)):
            index_sync.start(ls, full=True)
            documents.revalidate_open(ls)
