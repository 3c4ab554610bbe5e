"""Which schema applies to a document and why: the custom request ``uet/schemaForDocument``
and the command ``uet.showSchema`` (which also shows the answer as a message, for editors
without a UI of their own, such as Neovim). Documented in docs/lsp-extensions.md.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from uet.lsp import documents
from uet.lsp.server import UetLanguageServer

__all__ = ["SCHEMA_FOR_DOCUMENT", "SHOW_SCHEMA", "register", "schema_for_document"]

SCHEMA_FOR_DOCUMENT = "uet/schemaForDocument"
SHOW_SCHEMA = "uet.showSchema"


def register(server: UetLanguageServer) -> None:
    """Add the custom request and the command."""

    @server.feature(SCHEMA_FOR_DOCUMENT)
    async def request(ls: UetLanguageServer, params: Any) -> dict[str, Any]:
        return await schema_for_document(ls, _uri_of(params))

    async def show_schema(ls: UetLanguageServer, uri: str) -> dict[str, Any]:
        answer = await schema_for_document(ls, uri)
        name = answer["schema"] or "no schema"
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Info, message=f"{name}: {answer['reason']}"
            )
        )
        return answer

    server.state.hooks.add_command(SHOW_SCHEMA, show_schema)


async def schema_for_document(server: UetLanguageServer, uri: str) -> dict[str, Any]:
    """``{uri, schema, title, id, source, reason}`` for the document's current text."""
    report = await documents.current_report(server, uri)
    if report is None:
        return {
            "uri": uri,
            "schema": None,
            "title": None,
            "id": None,
            "source": "none",
            "reason": "the document is neither open nor a readable file",
        }
    association = report.association
    info = server.state.registry.info(association.schema) if association.schema else None
    return {
        "uri": uri,
        "schema": association.schema,
        "title": info.title if info else None,
        "id": info.id if info else None,
        "source": association.source,
        "reason": association.reason,
    }


def _uri_of(params: Any) -> str:
    """``params.textDocument.uri`` from pygls' generic object or a plain dict."""
    document = (
        params.get("textDocument")
        if isinstance(params, dict)
        else getattr(params, "textDocument", None)
    )
    uri = document.get("uri") if isinstance(document, dict) else getattr(document, "uri", None)
    if not isinstance(uri, str):
        from pygls.exceptions import JsonRpcInvalidParams

        raise JsonRpcInvalidParams(
            f"Invalid params for {SCHEMA_FOR_DOCUMENT}: expected {{textDocument: {{uri}}}}"
        )
    return uri
