"""Incremental reparsing: an edit inside one scalar value reuses the previous tree.

Most keystrokes in an editor change one value (``kind: lin`` -> ``kind: lint``). Parsing a
big file again on each of them is what makes typing lag; patching the previous tree
costs a fraction of it (benchmarks/big_document.py): the edited
scalar is re-read on its own, its ancestors get new values (copy on write: the previous
tree is never modified, other threads may still read it) and everything after the edit
moves by the length difference. This is the approach rust-analyzer takes for edits inside
a single token.

The fast path is taken only when it is certain to give what a full parse gives (the
property test in tests/artifacts/test_reparse.py compares them on random edits): the
edit lies inside one single-line scalar value, the new text of that scalar is read the
same way on its own as in its place (no YAML indicator, comment, flow or quote character
can change the structure around it), the file had no problems before, and YAML files use
no anchors or tags (an anchored value may be shared by aliases and merges). Anything else
returns ``None`` and the caller parses the whole text.
"""

from __future__ import annotations

import re

from uet.artifacts.json_parser import parse_json
from uet.artifacts.loader import ParsedFile
from uet.artifacts.positions import Span
from uet.artifacts.tree import Document, Member, Node, NodeKind, scalar_node
from uet.artifacts.yaml_parser import parse_yaml

__all__ = ["reparse"]

_SCALAR = NodeKind.SCALAR
_OBJECT = NodeKind.OBJECT

# A single-line YAML plain scalar whose reading cannot depend on its surroundings: no
# leading indicator (a leading - or ? only before a non-space), no ':' or '#' (key or
# comment), no flow characters, no tabs, no trailing space.
_SAFE_PLAIN = re.compile(r"(?:[-?](?=[^\s])|[^\s\-?:,\[\]{}#&*!|>'\"%@`])[^\n\r\t:#,\[\]{}]*(?<! )")
# Anchors (&name) and tags (!tag, !!str) where a token can start.
_ANCHOR_OR_TAG = re.compile(r"(?:^|[\s\[{,])[&!]", re.MULTILINE)
_JSON_STRING = re.compile(r'"[^"\\\x00-\x1f]*"')
_JSON_NUMBER_OR_LITERAL = re.compile(
    r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null"
)


def reparse(previous: ParsedFile, text: str) -> ParsedFile | None:
    """``text`` parsed by patching ``previous`` (the parse of an earlier version of the
    same file), or ``None`` when only a full parse gives a certain answer."""
    old = previous.text
    if text == old:
        return previous
    if previous.problems or not previous.documents or text.startswith("\ufeff"):
        return None
    if previous.language == "yaml" and _may_have_anchors_or_tags(text):
        return None
    start, old_end, new_end = _changed_region(old, text)
    delta = new_end - old_end
    for position, document in enumerate(previous.documents):
        root = document.root
        if root is None or not (root.start <= start and old_end <= root.end):
            continue
        path = _path_to_scalar(root, start, old_end)
        if path is None:
            return None
        target = path[-1]
        raw = text[target.start : target.end + delta]
        value = _read_scalar(previous.language, old, target, raw)
        if value is None:
            return None
        replaced = scalar_node(target.start, target.end + delta, value)
        try:
            new_root = _rebuild(path, replaced, old_end, delta)
            documents = list(previous.documents)
            documents[position] = Document(new_root, new_root.span)
            for later in range(position + 1, len(documents)):
                moved = documents[later]
                shifted_root = _shift(moved.root, delta) if moved.root is not None else None
                documents[later] = Document(shifted_root, _moved(moved.span, delta))
        except RecursionError:
            return None  # nested deeper than Python's recursion limit: parse it whole
        return ParsedFile(previous.path, text, previous.language, documents, [])
    return None


def _may_have_anchors_or_tags(text: str) -> bool:
    """Whether YAML ``text`` may use anchors or tags (the regex runs only when
    one of the two characters occurs at all: ``in`` is a cheap scan)."""
    return ("&" in text or "!" in text) and _ANCHOR_OR_TAG.search(text) is not None


def _changed_region(old: str, new: str) -> tuple[int, int, int]:
    """``(start, old_end, new_end)``: the differing region of ``old`` and ``new``
    (common prefix and suffix found by comparing slices, which runs in C)."""
    limit = min(len(old), len(new))
    low, high = 0, limit  # the common prefix length lies in [low, high]
    while low < high:
        middle = (low + high + 1) // 2
        if old[low:middle] == new[low:middle]:
            low = middle
        else:
            high = middle - 1
    prefix = low
    low, high = 0, limit - prefix
    while low < high:
        middle = (low + high + 1) // 2
        if old[len(old) - middle : len(old) - low] == new[len(new) - middle : len(new) - low]:
            low = middle
        else:
            high = middle - 1
    return prefix, len(old) - low, len(new) - low


def _path_to_scalar(root: Node, start: int, end: int) -> list[Node] | None:
    """Root-to-leaf path to the non-empty scalar value whose span holds ``[start, end]``
    (an edit touching a key or punctuation between values gives ``None``)."""
    path = [root]
    node = root
    while node.kind is not NodeKind.SCALAR:
        children = (
            [member.value for member in node.members]
            if node.kind is NodeKind.OBJECT
            else node.items
        )
        if node.kind is NodeKind.OBJECT:
            for member in node.members:
                if member.key_start <= end and start <= member.key_end:
                    return None  # the edit touches a key
        found = [child for child in children if child.start <= start and end <= child.end]
        if len(found) != 1:
            return None
        node = found[0]
        path.append(node)
    if len(path) < 2 or node.length == 0:
        return None  # a root scalar, or an empty (null) value
    return path


def _read_scalar(language: str, old: str, target: Node, raw: str) -> object | None:
    """The value of the edited scalar read on its own, when that is certainly how it
    reads in place; ``None`` otherwise. (``None`` is also a value: YAML ``null`` is
    refused here since the caller cannot tell them apart.)"""
    old_raw = old[target.start : target.end]
    if not raw.isprintable():
        return None  # control characters, and the line breaks YAML also knows (NEL, LS, PS)
    if language == "json":
        pattern = _JSON_STRING if old_raw.startswith('"') else _JSON_NUMBER_OR_LITERAL
        if not (pattern.fullmatch(raw) and pattern.fullmatch(old_raw)):
            return None
        result = parse_json(raw)
        document = result.document
    else:
        if target.start == 0 or old[target.start - 1] in "\r\n":
            return None  # a scalar at the start of a line: document markers, keys
        if not (_SAFE_PLAIN.fullmatch(raw) and _SAFE_PLAIN.fullmatch(old_raw)):
            return None
        yaml_result = parse_yaml(raw)
        if yaml_result.problems or len(yaml_result.documents) != 1:
            return None
        document = yaml_result.documents[0]
        if not _same_reading(old_raw, target.value):
            return None
    if document is None or document.root is None or document.root.kind is not NodeKind.SCALAR:
        return None
    value: object = document.root.value
    if document.root.span != Span(0, len(raw)) or value is None:
        return None
    return value


def _same_reading(raw: str, value: object) -> bool:
    """Whether ``raw`` read on its own gives ``value`` (so nothing around the old scalar,
    such as a tag, changed its reading)."""
    result = parse_yaml(raw)
    if result.problems or len(result.documents) != 1 or result.documents[0].root is None:
        return False
    alone = result.documents[0].root.value
    return type(alone) is type(value) and alone == value


def _rebuild(path: list[Node], replaced: Node, old_end: int, delta: int) -> Node:
    """New ancestors for ``path`` (root first) with its last node ``replaced``: values
    copied on write, later siblings moved by ``delta``."""
    child_old, child_new = path[-1], replaced
    for parent in reversed(path[:-1]):
        start, end = parent.start, parent.end + delta
        if parent.kind is NodeKind.OBJECT:
            members: list[Member] = []
            value = dict(parent.value)
            for member in parent.members:
                if member.value is child_old:
                    members.append(Member(member.key, member.key_start, member.key_end, child_new))
                    value[member.key] = child_new.value
                elif member.key_start >= old_end:
                    members.append(_shift_member(member, delta))
                else:
                    members.append(member)
            rebuilt = Node(NodeKind.OBJECT, start, end, value, members=members)
        else:
            items: list[Node] = []
            values = list(parent.value)
            for index, item in enumerate(parent.items):
                if item is child_old:
                    items.append(child_new)
                    values[index] = child_new.value
                elif item.start >= old_end:
                    items.append(_shift(item, delta))
                else:
                    items.append(item)
            rebuilt = Node(NodeKind.ARRAY, start, end, values, items=items)
        child_old, child_new = parent, rebuilt
    return child_new


def _moved(span: Span, delta: int) -> Span:
    return Span(span.start + delta, span.end + delta)


def _shift_member(member: Member, delta: int) -> Member:
    start = member.key_start + delta
    return Member(member.key, start, start + member.key_length, _shift(member.value, delta))


def _shift(node: Node, delta: int) -> Node:
    """A copy of ``node``'s tree with every span moved by ``delta`` (values shared).
    Recursive: a tree deeper than Python's recursion limit raises ``RecursionError``,
    and :func:`reparse` then declines."""
    if delta == 0:
        return node
    start = node.start + delta
    end = start + node.length
    kind = node.kind
    if kind is _SCALAR:
        return scalar_node(start, end, node.value)
    if kind is _OBJECT:
        members = [_shift_member(member, delta) for member in node.members]
        return Node(kind, start, end, node.value, members=members)
    items = [_shift(item, delta) for item in node.items]
    return Node(kind, start, end, node.value, items=items)
