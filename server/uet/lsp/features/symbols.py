"""Document symbols: workstream → tasks, phases, apps, profiles (top-level keys for other
artifacts), capped at 5,000 (``uet.artifacts.outline``)."""

from __future__ import annotations

from lsprotocol import types

from uet.artifacts.facts import extract_facts
from uet.lsp import convert, documents
from uet.lsp.server import UetLanguageServer

__all__ = ["register"]


def register(server: UetLanguageServer) -> None:
    """Add ``textDocument/documentSymbol``."""
    server.state.hooks.deferred_imports.append("uet.artifacts.outline")

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def document_symbol(
        ls: UetLanguageServer, params: types.DocumentSymbolParams
    ) -> list[types.DocumentSymbol] | list[types.SymbolInformation] | None:
        uri = params.text_document.uri
        report = await documents.current_report(ls, uri)
        if report is None or report.schema is None:
            return None
        await ls.load_modules("uet.artifacts.outline")
        from uet.artifacts.outline import document_outline

        facts = extract_facts(report.path, report.schema, report.parsed.documents)
        items, _ = document_outline(report.parsed, facts)
        index = report.parsed.line_index
        if ls.state.client.hierarchical_symbols:
            return [convert.to_document_symbol(item, index, ls.encoding) for item in items]
        return convert.to_symbol_information(items, uri, index, ls.encoding)
