"""Go to definition and find references for ids across the workspace
(``uet.artifacts.navigation`` over the workspace index)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from uet.artifacts.index import Located
from uet.lsp import convert, documents
from uet.lsp.server import UetLanguageServer

if TYPE_CHECKING:
    from uet.artifacts.navigation import Target

__all__ = ["locations", "register"]


def register(server: UetLanguageServer) -> None:
    """Add ``textDocument/definition`` and ``textDocument/references``."""
    server.state.hooks.deferred_imports.append("uet.artifacts.navigation")

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def definition(
        ls: UetLanguageServer, params: types.DefinitionParams
    ) -> list[types.Location] | None:
        await ls.load_modules("uet.artifacts.navigation")
        from uet.artifacts.navigation import definitions

        target = await target_under_cursor(ls, params.text_document.uri, params.position)
        if target is None:
            return None
        return locations(ls, definitions(ls.state.index, target)) or None

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def references_(
        ls: UetLanguageServer, params: types.ReferenceParams
    ) -> list[types.Location] | None:
        await ls.load_modules("uet.artifacts.navigation")
        from uet.artifacts.navigation import references

        target = await target_under_cursor(ls, params.text_document.uri, params.position)
        if target is None:
            return None
        include = params.context.include_declaration
        return locations(ls, references(ls.state.index, target, include)) or None


def locations(server: UetLanguageServer, found: list[Located]) -> list[types.Location]:
    """LSP locations of indexed items."""
    result: list[types.Location] = []
    for located in found:
        report = server.state.index.report(located.path)
        if report is None:
            continue
        index = report.parsed.line_index
        result.append(
            types.Location(
                uri=convert.uri_of(located.path),
                range=convert.to_range(index, located.item.span, server.encoding),
            )
        )
    return result


async def target_under_cursor(
    server: UetLanguageServer, uri: str, position: types.Position
) -> Target | None:
    """The id defined or used at ``position`` of the current version of ``uri``."""
    await server.load_modules("uet.artifacts.navigation")
    from uet.artifacts.navigation import target_at

    found = await documents.report_at(server, uri, position)
    if found is None:
        return None
    return target_at(server.state.index, found[0].path, found[1])
