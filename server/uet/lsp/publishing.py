"""What the client is shown: the diagnostics of each file (its own, the cross-file ones of
the workspace index and those of the extra sources, run results), converted and capped at
``MAX_DIAGNOSTICS``, pushed with ``textDocument/publishDiagnostics`` only when they changed
(pull clients are asked to pull again instead).

Everything here runs on the event loop; checking happens before (``uet.lsp.documents`` for
open documents, ``uet.lsp.index_sync`` for files on disk).
"""

from __future__ import annotations

from lsprotocol import types

from uet.artifacts import Diagnostic, FileReport, Span
from uet.lsp import convert
from uet.lsp.convert import uri_of
from uet.lsp.server import UetLanguageServer

__all__ = [
    "MAX_DIAGNOSTICS",
    "apply_reports",
    "clear",
    "diagnostics_of",
    "fingerprint",
    "publish",
    "to_lsp",
]

# The most diagnostics sent for one file, as linters cap theirs: each is converted,
# serialized and drawn on the event loop and in the editor, and the first ones are what a
# user fixes first. One more, informational, says how many were left out. (Schema problems
# stop at ``validation.MAX_SCHEMA_ERRORS`` already; this bounds the rest, e.g. thousands of
# unknown dependencies.)
MAX_DIAGNOSTICS = 2000
_EMPTY = hash(())  # the fingerprint of no diagnostics


def is_artifact(report: FileReport) -> bool:
    """Whether the index keeps the file (an artifact, or a file naming an unknown schema)."""
    return report.schema is not None or report.association.problem is not None


def apply_reports(server: UetLanguageServer, reports: list[FileReport]) -> set[str]:
    """Put reports into the index (event loop); returns the paths whose diagnostics may
    have changed."""
    dropped = [report.path for report in reports if not is_artifact(report)]
    kept = [report for report in reports if is_artifact(report)]
    return server.state.index.apply(kept, dropped) | set(dropped)


def diagnostics_of(server: UetLanguageServer, path: str) -> list[Diagnostic]:
    """The current diagnostics of ``path``: per-file and cross-file ones, then those of the
    extra sources (run results)."""
    found = server.state.index.diagnostics(path)
    for source in server.state.diagnostic_sources:
        extra = source(path)
        if extra:
            found = [*found, *extra]
    return found


def fingerprint(items: list[Diagnostic]) -> int:
    """Identity of a diagnostic list (to skip publishing what the client already has)."""
    if not items:
        return _EMPTY
    return hash(tuple((item.span, item.code, item.message) for item in items))


def to_lsp(server: UetLanguageServer, path: str, items: list[Diagnostic]) -> list[types.Diagnostic]:
    """Convert diagnostics of ``path`` with the text they were computed on: the first
    ``MAX_DIAGNOSTICS``, then one saying how many more there are."""
    report = server.state.index.report(path)
    if report is None or not items:
        return []
    index = report.parsed.line_index
    locate = _locator(server)
    shown = [
        convert.to_diagnostic(item, index, server.encoding, locate)
        for item in items[:MAX_DIAGNOSTICS]
    ]
    hidden = len(items) - len(shown)
    if hidden > 0:
        first = items[MAX_DIAGNOSTICS]
        shown.append(
            types.Diagnostic(
                range=convert.to_range(index, first.span, server.encoding),
                severity=types.DiagnosticSeverity.Information,
                source="uet",
                message=(
                    f"{hidden:,} more problem(s) in this file, from here on, are not shown "
                    f"(only the first {MAX_DIAGNOSTICS:,} are)"
                ),
            )
        )
    return shown


def _locator(server: UetLanguageServer) -> convert.RelatedLocator:
    def locate(path: str, span: Span) -> types.Location | None:
        report = server.state.index.report(path)
        if report is None:
            if span.start == span.end == 0:  # the start of any file (a log): no text needed
                start = types.Position(line=0, character=0)
                return types.Location(uri=uri_of(path), range=types.Range(start=start, end=start))
            return None
        index = report.parsed.line_index
        return types.Location(
            uri=uri_of(path), range=convert.to_range(index, span, server.encoding)
        )

    return locate


def publish(
    server: UetLanguageServer, paths: set[str], fresh: frozenset[str] | set[str] = frozenset()
) -> None:
    """Send diagnostics of ``paths`` that changed (always for ``fresh`` open documents).

    Open documents of a pull client are not pushed: if theirs changed because of another
    file, the client is asked to pull again (``workspace/diagnostic/refresh``).
    """
    state = server.state
    refresh = False
    for path in sorted(paths):
        uri = uri_of(path)
        document = state.documents.get(uri)
        items = diagnostics_of(server, path)
        mark = fingerprint(items)
        if document is not None and state.client.pull_diagnostics:
            if path not in fresh and state.pulled.get(path, _EMPTY) != mark:
                refresh = True
            continue
        if path not in fresh and state.published.get(path, _EMPTY) == mark:
            continue  # the client already shows exactly these (or nothing, for clean files)
        state.published[path] = mark
        version = document.validated_version if document is not None else None
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, version=version, diagnostics=to_lsp(server, path, items)
            )
        )
    if refresh and state.client.diagnostic_refresh:
        server.workspace_diagnostic_refresh(None)


def clear(server: UetLanguageServer, path: str) -> None:
    """Remove every pushed diagnostic of ``path``."""
    if server.state.published.pop(path, _EMPTY) == _EMPTY:
        return
    server.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri_of(path), diagnostics=[])
    )
