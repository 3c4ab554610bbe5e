"""Folding ranges for every multi-line object and list, YAML and JSON alike, within the
client's ``rangeLimit`` (5,000 at most)."""

from __future__ import annotations

from lsprotocol import types

from uet.lsp import convert, documents
from uet.lsp.server import UetLanguageServer

__all__ = ["register"]


def register(server: UetLanguageServer) -> None:
    """Add ``textDocument/foldingRange``."""
    server.state.hooks.deferred_imports.append("uet.artifacts.outline")

    @server.feature(types.TEXT_DOCUMENT_FOLDING_RANGE)
    async def folding_range(
        ls: UetLanguageServer, params: types.FoldingRangeParams
    ) -> list[types.FoldingRange] | None:
        await ls.load_modules("uet.artifacts.outline")
        from uet.artifacts.outline import MAX_ITEMS, folding_ranges

        report = await documents.current_report(ls, params.text_document.uri)
        if report is None:
            return None
        limit = min(ls.state.client.folding_range_limit or MAX_ITEMS, MAX_ITEMS)
        folds, _ = folding_ranges(report.parsed, limit)
        return [convert.to_folding_range(fold) for fold in folds]
