"""Completion: property keys not yet written, enum values, booleans, defaults, and ids
from the workspace index (in ``depends_on`` the other tasks of the workstream not listed
yet; phase ids, app ids, profile ids).

Works on broken text: the cursor context is read from the text
(``uet.artifacts.cursor``) and the last version that parsed picks ``oneOf`` branches.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types

from uet.artifacts.facts import TASK
from uet.lsp import convert, documents
from uet.lsp.server import UetLanguageServer

__all__ = ["register"]


def register(server: UetLanguageServer) -> None:
    """Add ``textDocument/completion``."""
    server.state.hooks.deferred_imports.append("uet.artifacts.editing")

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=['"', ":", " ", "-", "["]),
    )
    async def completion(
        ls: UetLanguageServer, params: types.CompletionParams
    ) -> types.CompletionList | None:
        uri = params.text_document.uri
        found = await documents.report_at(ls, uri, params.position)
        if found is None or found[0].schema is None:
            return None
        report, offset = found
        schema = report.schema
        if schema is None:
            return None
        document = ls.state.documents.get(uri)
        last_good = document.last_good_value if document is not None else report.value
        path = convert.path_of(uri)

        known = ls.state.index

        await ls.load_modules("uet.artifacts.editing")
        from uet.artifacts.editing import complete, task_ids_of

        def ids(kind: str) -> Sequence[str]:
            # Task ids are scoped to their workstream file (while it does not parse, the
            # index has none: the last version that parsed has them); other ids to its
            # workspace.
            if kind == TASK:
                return known.ids(kind, path) or task_ids_of(last_good)
            return known.ids(kind, workspace=known.workspace_of(path))

        items = complete(
            report.parsed, offset, schema, ls.state.registry, ids=ids, root_value=last_good
        )
        index = report.parsed.line_index
        client = ls.state.client
        style = convert.CompletionStyle(
            markdown=client.markdown_completion,
            snippets=client.completion_snippets,
            multiline_snippets=client.completion_adjust_indentation,
        )
        return types.CompletionList(
            is_incomplete=False,
            items=[convert.to_completion_item(item, index, ls.encoding, style) for item in items],
        )
