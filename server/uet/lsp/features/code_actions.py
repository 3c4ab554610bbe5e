"""Quick fixes from the ``data`` of the diagnostics the client sends back
(``uet.artifacts.quickfix``): add missing properties, replace an invalid enum value, rename
or remove an unknown key, replace an unknown id with the suggestion, remove an unknown
dependency. The fixes a diagnostic suggests are ``isPreferred`` and listed first (clients
that number the list, like Neovim, make the first one the easiest to pick). The quick fixes
are this feature's contribution to ``textDocument/codeAction`` (``uet.lsp.hooks``); the
features registered after it add theirs after the quick fixes (bootstrap: ``source``
actions; runs: the run actions)."""

from __future__ import annotations

import functools

from lsprotocol import types

from uet.lsp import convert, documents
from uet.lsp.server import UetLanguageServer

__all__ = ["register"]


def register(server: UetLanguageServer) -> None:
    """Contribute the quick fixes to ``textDocument/codeAction``."""
    server.state.hooks.deferred_imports.append("uet.artifacts.quickfix")
    server.state.hooks.add_code_actions(_quick_fixes, types.CodeActionKind.QuickFix)


async def _quick_fixes(
    ls: UetLanguageServer, params: types.CodeActionParams
) -> list[types.CodeAction]:
    """The quick fixes of the ``uet`` diagnostics in the request's context."""
    await ls.load_modules("uet.artifacts.quickfix")
    from uet.artifacts.quickfix import quick_fixes

    uri = params.text_document.uri
    ours = [item for item in params.context.diagnostics if item.source == "uet"]
    if not ours:
        return []
    report = await documents.current_report(ls, uri)
    if report is None:
        return []
    document = ls.state.documents.get(uri)
    version = document.validated_version if document is not None else None
    index = report.parsed.line_index
    actions: list[types.CodeAction] = []
    for diagnostic in ours:
        span = convert.to_span(index, diagnostic.range, ls.encoding)
        data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
        # Choosing values that fit validates the document: in the pool, off the loop.
        fixes = await ls.in_pool(
            functools.partial(quick_fixes, schema=report.schema, registry=ls.state.registry),
            report.parsed,
            str(diagnostic.code),
            span,
            data,
        )
        for fix in fixes:
            actions.append(
                convert.to_code_action(
                    fix,
                    uri,
                    version,
                    diagnostic,
                    index=index,
                    encoding=ls.encoding,
                    document_changes=ls.state.client.document_changes,
                )
            )
    actions.sort(key=lambda action: not action.is_preferred)  # stable
    return actions
