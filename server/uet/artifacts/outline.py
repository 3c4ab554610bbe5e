"""The outline of an artifact: nested symbols (workstream → tasks, phases, apps) and folds.

Both are capped (5,000 items, as yaml-language-server and the VS Code JSON server do) so
a huge file cannot flood the editor; the caller learns whether the cap was hit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from uet.artifacts.facts import FileFacts
from uet.artifacts.loader import ParsedFile
from uet.artifacts.positions import Span
from uet.artifacts.tree import Node, NodeKind

__all__ = ["MAX_ITEMS", "Fold", "OutlineItem", "document_outline", "folding_ranges"]

MAX_ITEMS = 5000


@dataclass(slots=True)
class OutlineItem:
    """One symbol: ``span`` covers its node, ``selection`` its id."""

    name: str
    kind: str  # workstream, task, phase, app, profile, property
    detail: str
    span: Span
    selection: Span
    children: list[OutlineItem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Fold:
    """Lines ``start``..``end`` (0-based, inclusive) can be folded."""

    start: int
    end: int


def document_outline(
    parsed: ParsedFile, facts: FileFacts | None, limit: int = MAX_ITEMS
) -> tuple[list[OutlineItem], bool]:
    """Symbols nested by containment; top-level keys when the file defines no ids."""
    flat: list[OutlineItem] = []
    if facts is not None:
        for symbol in facts.symbols:
            detail = symbol.id if symbol.name != symbol.id else ""
            flat.append(
                OutlineItem(symbol.name, symbol.kind, detail, symbol.node_span, symbol.span)
            )
    if not flat:
        for document in parsed.documents:
            root = document.root
            if root is None or root.kind is not NodeKind.OBJECT:
                continue
            for member in root.members:
                span = Span(member.key_span.start, max(member.key_span.end, member.value.span.end))
                flat.append(OutlineItem(member.key, "property", "", span, member.key_span))
    truncated = len(flat) > limit
    flat = sorted(flat[:limit], key=lambda item: (item.span.start, -item.span.end))
    roots: list[OutlineItem] = []
    stack: list[OutlineItem] = []
    for item in flat:
        while stack and not _within(item.span, stack[-1].span):
            stack.pop()
        (stack[-1].children if stack else roots).append(item)
        stack.append(item)
    return roots, truncated


def folding_ranges(parsed: ParsedFile, limit: int = MAX_ITEMS) -> tuple[list[Fold], bool]:
    """A fold per object or list spanning several lines (from its key's line)."""
    index = parsed.line_index
    folds: list[Fold] = []
    seen: set[int] = set()
    for document in parsed.documents:
        if document.root is None:
            continue
        starts: list[tuple[int, Node]] = [(document.root.start, document.root)]
        for node in document.root.walk():
            if node.kind is NodeKind.OBJECT:
                starts.extend((member.key_start, member.value) for member in node.members)
            elif node.kind is NodeKind.ARRAY:
                starts.extend((item.start, item) for item in node.items)
        for start, node in starts:
            if node.kind is NodeKind.SCALAR:
                continue
            first = index.position(start).line
            last = index.position(_content_end(parsed.text, node)).line
            if parsed.text[node.end - 1 : node.end] in ("}", "]"):
                last -= 1  # keep the closing bracket visible, as the JSON server does
            if last > first and first not in seen:
                seen.add(first)
                folds.append(Fold(first, last))
                if len(folds) > limit:
                    return sorted(folds[:limit], key=lambda fold: fold.start), True
    return sorted(folds, key=lambda fold: fold.start), False


def _within(inner: Span, outer: Span) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end


def _content_end(text: str, node: Node) -> int:
    start, end = node.start, node.end
    while end > start + 1 and text[end - 1] in " \t\r\n":
        end -= 1
    return end - 1 if end > start else end
