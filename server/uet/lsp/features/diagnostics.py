"""Diagnostics of open documents: validated on open and change (incremental sync), pushed
with ``textDocument/publishDiagnostics`` or pulled with ``textDocument/diagnostic``.

didOpen/didChange only record state and schedule (sync, on the loop); validation runs in
the thread pool (``uet.lsp.documents``). The pull request is async: it waits for the
validation of the current version and skips any pending debounce.
"""

from __future__ import annotations

from lsprotocol import types

from uet.lsp import convert, documents, publishing
from uet.lsp.server import UetLanguageServer

__all__ = ["register"]

IDENTIFIER = "uet"


def register(server: UetLanguageServer) -> None:
    """Add document sync and pull-diagnostic handlers."""

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: UetLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        documents.open_document(ls, params.text_document.uri, params.text_document.language_id)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: UetLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        documents.schedule(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: UetLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.spawn(documents.close_document(ls, uri), f"close {uri}")

    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(
            identifier=IDENTIFIER, inter_file_dependencies=True, workspace_diagnostics=False
        ),
    )
    async def pull(
        ls: UetLanguageServer, params: types.DocumentDiagnosticParams
    ) -> types.RelatedFullDocumentDiagnosticReport | types.RelatedUnchangedDocumentDiagnosticReport:
        uri = params.text_document.uri
        report = await documents.current_report(ls, uri)
        path = convert.path_of(uri)
        items = publishing.diagnostics_of(ls, path) if report is not None else []
        result_id = f"{publishing.fingerprint(items) & 0xFFFFFFFFFFFF:x}"
        ls.state.pulled[path] = publishing.fingerprint(items)
        if params.previous_result_id == result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
        return types.RelatedFullDocumentDiagnosticReport(
            items=publishing.to_lsp(ls, path, items), result_id=result_id
        )
