"""Quick fixes computed from a diagnostic's ``data``: plain text edits on code-point spans.

- UET202 missing required properties → insert them with values that fit their schemas
  (``fitting.placeholders``), as YAML block lines at the object's indentation or as JSON
  members (flow objects get ``, "k": v``);
- UET203 unknown property → rename it to the did-you-mean suggestion, or remove it;
- UET204 invalid enum value → replace it with each allowed value (suggestion preferred);
- UET302/304/305/306 unknown id, UET108 unknown schema → replace with the suggestion;
- UET302 unknown dependency, UET307 self-dependency → remove the entry from ``depends_on``
  (YAML block or flow list, JSON array: the list stays valid, ``[]`` when it empties).

The fix a diagnostic suggests is ``preferred`` and comes first (editors number the list;
"press 1" must apply the suggestion). The edits keep the document's quoting style. Nothing
here raises on odd input: a fix that cannot be computed safely is simply not offered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from uet.artifacts.editing import render_scalar
from uet.artifacts.fitting import placeholders
from uet.artifacts.loader import ParsedFile
from uet.artifacts.positions import Span
from uet.artifacts.registry import SchemaRegistry
from uet.artifacts.schema_nav import schemas_at
from uet.artifacts.tree import Document, Member, Node, NodeKind, PathPart

__all__ = ["QuickFix", "TextEdit", "quick_fixes", "replace_scalar"]

_REPLACE_WITH_SUGGESTION = frozenset({"UET108", "UET302", "UET304", "UET305", "UET306"})
_REMOVE_ENTRY = frozenset({"UET302", "UET307"})
_MAX_ENUM_FIXES = 20
_MAX_SHOWN_ENTRY = 60


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace ``span`` with ``new_text`` (an insertion when the span is empty)."""

    span: Span
    new_text: str


@dataclass(frozen=True, slots=True)
class QuickFix:
    """One fix for one diagnostic."""

    title: str
    edits: tuple[TextEdit, ...]
    preferred: bool = False


def quick_fixes(
    parsed: ParsedFile,
    code: str,
    span: Span,
    data: Mapping[str, Any] | None,
    *,
    schema: str | None = None,
    registry: SchemaRegistry | None = None,
) -> list[QuickFix]:
    """The fixes for the diagnostic ``code`` at ``span`` with ``data`` (as published) in a
    file checked against ``schema`` of ``registry`` (what added values must fit)."""
    fixes = _fixes(parsed, code, span, data or {}, schema=schema, registry=registry)
    return sorted(fixes, key=lambda fix: not fix.preferred)  # stable: the rest keep their order


def _fixes(
    parsed: ParsedFile,
    code: str,
    span: Span,
    data: Mapping[str, Any],
    *,
    schema: str | None,
    registry: SchemaRegistry | None,
) -> list[QuickFix]:
    if code == "UET202":
        return _add_missing(parsed, span, data, schema, registry)
    if code == "UET203":
        return _unknown_key(parsed, span, data)
    if code == "UET204":
        values = data.get("values")
        if not isinstance(values, list):
            return []
        suggestion = data.get("suggestion")
        return [
            QuickFix(
                f"Replace with {json.dumps(value)}",
                (replace_scalar(parsed, span, value),),
                preferred=value == suggestion,
            )
            for value in values[:_MAX_ENUM_FIXES]
        ]
    fixes: list[QuickFix] = []
    suggestion = data.get("suggestion")
    if code in _REPLACE_WITH_SUGGESTION and isinstance(suggestion, str) and suggestion:
        fixes.append(
            QuickFix(
                f"Change to '{suggestion}'",
                (replace_scalar(parsed, span, suggestion),),
                preferred=True,
            )
        )
    if code in _REMOVE_ENTRY:
        removal = _remove_entry(parsed, span)
        if removal is not None:
            key, edit = removal
            entry = data.get("id")
            entry = entry if isinstance(entry, str) else parsed.text[span.start : span.end]
            if len(entry) > _MAX_SHOWN_ENTRY:
                entry = entry[: _MAX_SHOWN_ENTRY - 3] + "..."
            # Removing a dependency is what a self-dependency asks for; an unknown one may
            # be a task not written yet, so only its suggestion is preferred.
            fixes.append(
                QuickFix(f"Remove '{entry}' from {key}", (edit,), preferred=code == "UET307")
            )
    return fixes


def replace_scalar(parsed: ParsedFile, span: Span, value: Any) -> TextEdit:
    """Replace the scalar at ``span``, keeping its quotes when it was a quoted string."""
    original = parsed.text[span.start : span.end]
    if isinstance(value, str) and len(original) >= 2 and original[0] == original[-1] == "'":
        return TextEdit(span, "'" + value.replace("'", "''") + "'")
    if isinstance(value, str) and original.startswith('"'):
        return TextEdit(span, json.dumps(value, ensure_ascii=False))
    return TextEdit(span, render_scalar(value, parsed.language))


def _members_with_key_span(parsed: ParsedFile, span: Span) -> list[tuple[Node, Member]]:
    found: list[tuple[Node, Member]] = []
    for document in parsed.documents:
        if document.root is None:
            continue
        for node in document.root.walk():
            if node.kind is NodeKind.OBJECT:
                found.extend((node, member) for member in node.members if member.key_span == span)
    return found


def _unknown_key(parsed: ParsedFile, span: Span, data: Mapping[str, Any]) -> list[QuickFix]:
    located = _members_with_key_span(parsed, span)
    if not located:
        return []
    parent, member = located[0]
    fixes: list[QuickFix] = []
    suggestion = data.get("suggestion")
    if isinstance(suggestion, str) and suggestion and parent.member(suggestion) is None:
        fixes.append(
            QuickFix(
                f"Rename '{member.key}' to '{suggestion}'",
                (replace_scalar(parsed, span, suggestion),),
                preferred=True,
            )
        )
    removal = _remove_member(parsed, parent, member)
    if removal is not None:
        fixes.append(QuickFix(f"Remove property '{member.key}'", (removal,)))
    return fixes


def _remove_member(parsed: ParsedFile, parent: Node, member: Member) -> TextEdit | None:
    text = parsed.text
    position = next(i for i, item in enumerate(parent.members) if item is member)
    following = parent.members[position + 1] if position + 1 < len(parent.members) else None
    if _is_block(parsed, parent):
        index = parsed.line_index
        key_line = index.position(member.key_span.start).line
        starts_line = text[index.line_start(key_line) : member.key_span.start].strip() == ""
        if following is not None and not starts_line:
            return TextEdit(Span(member.key_span.start, following.key_span.start), "")
        if not starts_line:
            return None  # the only key of a "- key: v" item: removing it would empty the item
        last_line = index.position(max(member.key_span.end, _content_end(text, member.value))).line
        end = index.line_start(last_line + 1) if last_line + 1 < index.line_count else len(text)
        return TextEdit(Span(index.line_start(key_line), end), "")
    if following is not None:
        return TextEdit(Span(member.key_span.start, following.key_span.start), "")
    if position > 0:
        previous = parent.members[position - 1]
        return TextEdit(Span(previous.value.span.end, member.value.span.end), "")
    return TextEdit(Span(member.key_span.start, member.value.span.end), "")


def _remove_entry(parsed: ParsedFile, span: Span) -> tuple[str, TextEdit] | None:
    """The edit removing the list item at ``span`` and the key of its list. The list stays
    valid: a YAML block item goes with its line(s); a flow or JSON item with the separator
    after it (before it, for the last); a block list's only item becomes ``key: []``."""
    found = _list_item_at(parsed, span)
    if found is None:
        return None
    member, position = found
    items = member.value.items
    item = items[position]
    text = parsed.text
    if (
        parsed.language == "yaml"
        and text[member.value.span.start : member.value.span.start + 1] != "["
    ):
        if len(items) == 1:
            end = _content_end(text, member.value)
            return member.key, TextEdit(Span(member.key_span.end, end), ": []")
        index = parsed.line_index
        line = index.position(item.span.start).line
        start = index.line_start(line)
        if text[start : item.span.start].strip() != "-":
            return None  # "- - x" or an item sharing its line: no clean line to remove
        last = index.position(_content_end(text, item)).line
        end = index.line_start(last + 1) if last + 1 < index.line_count else len(text)
        return member.key, TextEdit(Span(start, end), "")
    if position + 1 < len(items):
        return member.key, TextEdit(Span(item.span.start, items[position + 1].span.start), "")
    if position > 0:
        return member.key, TextEdit(Span(items[position - 1].span.end, item.span.end), "")
    return member.key, TextEdit(item.span, "")


def _list_item_at(parsed: ParsedFile, span: Span) -> tuple[Member, int] | None:
    """The member holding the list whose item is at ``span``, and the item's position."""
    for document in parsed.documents:
        if document.root is None or not document.root.span.contains(span.start):
            continue
        for node in document.root.walk():
            if node.kind is not NodeKind.OBJECT:
                continue
            for member in node.members:
                value = member.value
                if value.kind is NodeKind.ARRAY and value.span.contains(span.start):
                    for position, item in enumerate(value.items):
                        if item.span == span:
                            return member, position
    return None


def _content_end(text: str, node: Node) -> int:
    """End of ``node`` without the trailing line breaks a YAML block collection includes."""
    end = node.span.end
    while end > node.span.start and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def _is_block(parsed: ParsedFile, node: Node) -> bool:
    return parsed.language == "yaml" and parsed.text[node.span.start : node.span.start + 1] != "{"


def _add_missing(
    parsed: ParsedFile,
    span: Span,
    data: Mapping[str, Any],
    schema: str | None,
    registry: SchemaRegistry | None,
) -> list[QuickFix]:
    missing = [str(name) for name in data.get("missing", []) if isinstance(name, str)]
    targets = _missing_targets(parsed, span, missing)
    if not missing or not targets:
        return []
    if schema is None or registry is None:
        target = targets[0][1]
        values = dict.fromkeys(missing, "")
    else:
        found = next((item for item in targets if _requires(registry, schema, item, missing)), None)
        if found is None:
            return []
        document, target, path = found
        root = document.root.value if document.root is not None else None
        values = placeholders(registry, schema, root, path, missing)
    edit = _insert_members(parsed, target, [(name, values[name]) for name in missing])
    if edit is None:
        return []
    names = ", ".join(f"'{name}'" for name in missing)
    plural = "properties" if len(missing) > 1 else "property"
    return [QuickFix(f"Add missing {plural} {names}", (edit,), preferred=True)]


Target = tuple[Document, Node, tuple[PathPart, ...]]


def _missing_targets(parsed: ParsedFile, span: Span, missing: list[str]) -> list[Target]:
    """The objects a UET202 diagnostic at ``span`` may be about, most likely first, each
    with its document and path: the value of the key at ``span``, then the object whose
    first key (or whole span) is at ``span``; only objects that lack every ``missing``
    property."""
    held: list[Target] = []
    named: list[Target] = []
    for document in parsed.documents:
        if document.root is None:
            continue
        stack: list[tuple[Node, tuple[PathPart, ...]]] = [(document.root, ())]
        while stack:
            node, path = stack.pop()
            if node.kind is NodeKind.ARRAY:
                stack.extend((item, (*path, i)) for i, item in enumerate(node.items))
            elif node.kind is NodeKind.OBJECT:
                if (node.members and node.members[0].key_span == span) or node.span == span:
                    named.append((document, node, path))
                for member in node.members:
                    child = (member.value, (*path, member.key))
                    if member.key_span == span and member.value.kind is NodeKind.OBJECT:
                        held.append((document, *child))
                    stack.append(child)
    return [
        found for found in held + named if all(found[1].member(name) is None for name in missing)
    ]


def _requires(registry: SchemaRegistry, schema: str, target: Target, missing: list[str]) -> bool:
    """Whether the schema at the target's path requires every ``missing`` property."""
    document, _, path = target
    root = document.root.value if document.root is not None else None
    required: set[str] = set()
    for item in schemas_at(registry, schema, path, root):
        listed = item.contents.get("required")
        if isinstance(listed, list):
            required.update(str(name) for name in listed)
    return set(missing) <= required


def _insert_members(
    parsed: ParsedFile, target: Node, members: list[tuple[str, Any]]
) -> TextEdit | None:
    text, index = parsed.text, parsed.line_index
    if _is_block(parsed, target) and target.members:
        first = target.members[0]
        column = index.position(first.key_span.start).column
        last = target.members[-1]
        end_line = index.position(max(last.key_span.end, _content_end(text, last.value))).line
        insert_at = index.line_end(end_line)
        lines = [
            f"\n{' ' * column}{render_scalar(name, 'yaml')}: {render_scalar(value, 'yaml')}"
            for name, value in members
        ]
        return TextEdit(Span(insert_at, insert_at), "".join(lines))
    language = parsed.language
    rendered = [
        f"{json.dumps(name) if language == 'json' else render_scalar(name, 'yaml')}: "
        f"{render_scalar(value, language)}"
        for name, value in members
    ]
    if not target.members:
        close = target.span.end - 1
        if text[close : close + 1] != "}":
            return None
        return TextEdit(Span(close, close), ", ".join(rendered))
    last = target.members[-1]
    last_line = index.position(last.key_span.start).line
    first_line = index.position(target.span.start).line
    if last_line != first_line:
        column = index.position(last.key_span.start).column
        separator = ",\n" + " " * column
        return TextEdit(
            Span(last.value.span.end, last.value.span.end),
            "".join(separator + item for item in rendered),
        )
    return TextEdit(
        Span(last.value.span.end, last.value.span.end), "".join(", " + item for item in rendered)
    )
