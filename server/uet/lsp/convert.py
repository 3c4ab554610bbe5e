"""Domain records → lsprotocol types, LSP positions → code-point offsets, URIs ↔ paths.

The only module that builds ``lsprotocol.types`` from domain data and the only place that
does position-encoding arithmetic (UTF-16 by default; UTF-8 and UTF-32 when negotiated).
Everything inside the server works on ``Span`` code-point offsets and on paths, symlinks
resolved, as the index keys files.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path

from uet.artifacts import Diagnostic, LineIndex, Span

if TYPE_CHECKING:  # records of the editing features, imported only when they are used
    from uet.artifacts.editing import Completion, HoverInfo
    from uet.artifacts.outline import Fold, OutlineItem
    from uet.artifacts.quickfix import QuickFix

__all__ = [
    "CompletionStyle",
    "Encoding",
    "path_of",
    "to_code_action",
    "to_completion_item",
    "to_diagnostic",
    "to_document_symbol",
    "to_folding_range",
    "to_hover",
    "to_offset",
    "to_position",
    "to_range",
    "to_span",
    "to_text_edit",
    "uri_of",
]

Encoding = str  # "utf-16" (LSP default), "utf-8" or "utf-32"
RelatedLocator = Callable[[str, Span], types.Location | None]

_COMPLETION_KINDS = {
    "property": types.CompletionItemKind.Property,
    "value": types.CompletionItemKind.EnumMember,
    "id": types.CompletionItemKind.Reference,
    "boolean": types.CompletionItemKind.Value,
}
_SYMBOL_KINDS = {
    "workstream": types.SymbolKind.Module,
    "task": types.SymbolKind.Function,
    "phase": types.SymbolKind.Namespace,
    "app": types.SymbolKind.Class,
    "profile": types.SymbolKind.Package,
    "property": types.SymbolKind.Property,
}


@lru_cache(maxsize=4096)
def path_of(uri: str) -> str:
    """The filesystem path of a ``file:`` URI (symlinks resolved); other URIs as they are."""
    path = to_fs_path(uri)
    return os.path.realpath(path) if path else uri


@lru_cache(maxsize=4096)
def uri_of(path: str) -> str:
    """The URI of an index path."""
    if "://" in path or path.startswith("untitled:"):
        return path
    return from_fs_path(path) or path


def to_position(index: LineIndex, offset: int, encoding: Encoding) -> types.Position:
    """The client position of a code-point ``offset``."""
    if encoding == "utf-32":
        point = index.position(offset)
    elif encoding == "utf-8":
        point = index.utf8_position(offset)
    else:
        point = index.utf16_position(offset)
    return types.Position(line=point.line, character=point.column)


def to_range(index: LineIndex, span: Span, encoding: Encoding) -> types.Range:
    """The client range of ``span``."""
    return types.Range(
        start=to_position(index, span.start, encoding), end=to_position(index, span.end, encoding)
    )


def to_offset(index: LineIndex, position: types.Position, encoding: Encoding) -> int:
    """The code-point offset of a client position (clamped to the text)."""
    if encoding == "utf-32":
        return index.offset(position.line, position.character)
    if encoding == "utf-8":
        start = index.line_start(position.line)
        encoded = index.line_text(position.line).encode("utf-8", "surrogatepass")
        prefix = encoded[: max(position.character, 0)].decode("utf-8", "ignore")
        return start + len(prefix)
    return index.offset_from_utf16(position.line, position.character)


def to_span(index: LineIndex, range_: types.Range, encoding: Encoding) -> Span:
    """The code-point span of a client range."""
    return Span(to_offset(index, range_.start, encoding), to_offset(index, range_.end, encoding))


def to_diagnostic(
    item: Diagnostic, index: LineIndex, encoding: Encoding, locate: RelatedLocator
) -> types.Diagnostic:
    """One LSP diagnostic; ``data`` is passed through for quick fixes."""
    related = [
        types.DiagnosticRelatedInformation(location=location, message=other.message)
        for other in item.related
        if (location := locate(other.path, other.span)) is not None
    ]
    data: dict[str, Any] = dict(item.data)
    if item.schema is not None:
        data.setdefault("schema", item.schema)
    return types.Diagnostic(
        range=to_range(index, item.span, encoding),
        severity=types.DiagnosticSeverity(int(item.severity)),
        code=item.code,
        source="uet",
        message=item.message,
        related_information=related or None,
        data=data or None,
    )


def to_hover(info: HoverInfo, index: LineIndex, encoding: Encoding, markdown: bool) -> types.Hover:
    """A hover in markdown, or plain text for clients without markdown."""
    kind = types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText
    text = info.markdown if markdown else info.markdown.replace("**", "").replace("`", "")
    return types.Hover(
        contents=types.MarkupContent(kind=kind, value=text),
        range=to_range(index, info.span, encoding),
    )


@dataclass(frozen=True, slots=True)
class CompletionStyle:
    """What the client can render and insert."""

    markdown: bool = False
    snippets: bool = False
    multiline_snippets: bool = False  # the client indents inserted lines (adjustIndentation)


def to_completion_item(
    item: Completion, index: LineIndex, encoding: Encoding, style: CompletionStyle
) -> types.CompletionItem:
    """A completion item that replaces the typed word; a snippet when the client expands
    them (multi-line ones only when it also indents them)."""
    documentation: str | types.MarkupContent | None = None
    if item.documentation:
        documentation = (
            types.MarkupContent(kind=types.MarkupKind.Markdown, value=item.documentation)
            if style.markdown
            else item.documentation
        )
    snippet = style.snippets and bool(item.snippet)
    if snippet and "\n" in item.snippet and not style.multiline_snippets:
        snippet = False
    return types.CompletionItem(
        label=item.label,
        kind=_COMPLETION_KINDS.get(item.kind, types.CompletionItemKind.Text),
        detail=item.detail or None,
        documentation=documentation,
        sort_text=f"{item.sort_text}{item.label}" if item.sort_text else None,
        filter_text=item.label,
        text_edit=types.TextEdit(
            range=to_range(index, item.replace, encoding),
            new_text=item.snippet if snippet else item.insert_text,
        ),
        insert_text_format=types.InsertTextFormat.Snippet if snippet else None,
        insert_text_mode=(
            types.InsertTextMode.AdjustIndentation if snippet and "\n" in item.snippet else None
        ),
    )


def to_text_edit(span: Span, new_text: str, index: LineIndex, encoding: Encoding) -> types.TextEdit:
    """One text edit."""
    return types.TextEdit(range=to_range(index, span, encoding), new_text=new_text)


def to_workspace_edit(
    changes: dict[str, list[types.TextEdit]],
    versions: dict[str, int | None],
    document_changes: bool,
) -> types.WorkspaceEdit:
    """Edits per URI, as versioned ``documentChanges`` when the client supports them."""
    if not document_changes:
        return types.WorkspaceEdit(changes=changes)
    edits: list[types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile] = [
        types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(
                uri=uri, version=versions.get(uri)
            ),
            edits=list(items),
        )
        for uri, items in changes.items()
    ]
    return types.WorkspaceEdit(document_changes=edits)


def to_code_action(
    fix: QuickFix,
    uri: str,
    version: int | None,
    diagnostic: types.Diagnostic,
    *,
    index: LineIndex,
    encoding: Encoding,
    document_changes: bool,
) -> types.CodeAction:
    """A quick-fix code action for one diagnostic."""
    edits = [to_text_edit(edit.span, edit.new_text, index, encoding) for edit in fix.edits]
    return types.CodeAction(
        title=fix.title,
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=fix.preferred or None,
        edit=to_workspace_edit({uri: edits}, {uri: version}, document_changes),
    )


def to_document_symbol(
    item: OutlineItem, index: LineIndex, encoding: Encoding
) -> types.DocumentSymbol:
    """A hierarchical document symbol."""
    return types.DocumentSymbol(
        name=item.name or "(unnamed)",
        kind=_SYMBOL_KINDS.get(item.kind, types.SymbolKind.Object),
        detail=item.detail or item.kind,
        range=to_range(index, item.span, encoding),
        selection_range=to_range(index, item.selection, encoding),
        children=[to_document_symbol(child, index, encoding) for child in item.children] or None,
    )


def to_symbol_information(
    items: Iterable[OutlineItem], uri: str, index: LineIndex, encoding: Encoding
) -> list[types.SymbolInformation]:
    """Flat symbols for clients without hierarchical support."""
    found: list[types.SymbolInformation] = []
    stack: list[tuple[OutlineItem, str | None]] = [(item, None) for item in items]
    while stack:
        item, container = stack.pop(0)
        found.append(
            types.SymbolInformation(
                name=item.name or "(unnamed)",
                kind=_SYMBOL_KINDS.get(item.kind, types.SymbolKind.Object),
                location=types.Location(uri=uri, range=to_range(index, item.span, encoding)),
                container_name=container,
            )
        )
        stack.extend((child, item.name) for child in item.children)
    return found


def to_folding_range(fold: Fold) -> types.FoldingRange:
    """A line-based folding range."""
    return types.FoldingRange(start_line=fold.start, end_line=fold.end)
