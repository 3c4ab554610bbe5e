"""Rename an id (task, phase, app, profile, workstream) everywhere it is defined or used,
as one ``WorkspaceEdit`` (versioned ``documentChanges`` when the client supports them).

A refused rename (the new id already exists or the schema rejects it; an id with nothing to
rename) is an error response with the reason (InvalidParams, as rust-analyzer answers), which
editors show to the user; ``prepareRename`` refuses what cannot be renamed before the user
types a name."""

from __future__ import annotations

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from uet.lsp import convert, documents
from uet.lsp.server import UetLanguageServer

__all__ = ["register"]


def register(server: UetLanguageServer) -> None:
    """Add ``textDocument/prepareRename`` and ``textDocument/rename``."""

    @server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
    async def prepare_rename(
        ls: UetLanguageServer, params: types.PrepareRenameParams
    ) -> types.PrepareRenamePlaceholder | None:
        await ls.load_modules("uet.artifacts.navigation")
        from uet.artifacts.navigation import rename_refusal, target_at

        found = await documents.report_at(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        report, offset = found
        target = target_at(ls.state.index, report.path, offset)
        if target is None:
            return None
        refusal = rename_refusal(ls.state.index, target)
        if refusal is not None:
            raise JsonRpcInvalidParams(refusal)
        index = report.parsed.line_index
        return types.PrepareRenamePlaceholder(
            range=convert.to_range(index, target.item.span, ls.encoding), placeholder=target.id
        )

    @server.feature(types.TEXT_DOCUMENT_RENAME, types.RenameOptions(prepare_provider=True))
    async def rename(
        ls: UetLanguageServer, params: types.RenameParams
    ) -> types.WorkspaceEdit | None:
        await ls.load_modules("uet.artifacts.navigation")
        from uet.artifacts.navigation import rename_edits, target_at

        found = await documents.report_at(ls, params.text_document.uri, params.position)
        target = target_at(ls.state.index, found[0].path, found[1]) if found else None
        if target is None:
            return None
        edits, problem = rename_edits(ls.state.index, ls.state.registry, target, params.new_name)
        if problem is not None:
            raise JsonRpcInvalidParams(problem)
        changes: dict[str, list[types.TextEdit]] = {}
        versions: dict[str, int | None] = {}
        for path, items in edits.items():
            report = ls.state.index.report(path)
            if report is None:
                continue
            uri = convert.uri_of(path)
            index = report.parsed.line_index
            changes[uri] = [
                convert.to_text_edit(edit.span, edit.new_text, index, ls.encoding) for edit in items
            ]
            document = ls.state.documents.get(uri)
            versions[uri] = document.validated_version if document is not None else None
        return convert.to_workspace_edit(changes, versions, ls.state.client.document_changes)
