"""Hover: the description, type, allowed values (with their descriptions), default and
schema of the key or value under the cursor (``uet.artifacts.editing.hover``), extended by
the features' ``ServerState.hooks.hovers`` (bootstrap: the active profile on ``profile_id``)."""

from __future__ import annotations

from lsprotocol import types

from uet.lsp import convert, documents, hooks
from uet.lsp.server import UetLanguageServer

__all__ = ["register"]


def register(server: UetLanguageServer) -> None:
    """Add ``textDocument/hover`` (async: waits for the current version's parse)."""
    server.state.hooks.deferred_imports.append("uet.artifacts.editing")

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: UetLanguageServer, params: types.HoverParams) -> types.Hover | None:
        found = await documents.report_at(ls, params.text_document.uri, params.position)
        if found is None or found[0].schema is None:
            return None
        await ls.load_modules("uet.artifacts.editing")
        from uet.artifacts.editing import hover as describe

        report, offset = found
        info = describe(report.parsed, offset, found[0].schema, ls.state.registry)
        if info is None:
            return None
        for extend in ls.state.hooks.hovers:
            info = await hooks.ask(ls, extend, report, info) or info
        index = report.parsed.line_index
        return convert.to_hover(info, index, ls.encoding, ls.state.client.markdown_hover)
