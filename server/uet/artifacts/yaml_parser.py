"""YAML to the positional tree, with YAML 1.2 scalars and guards against hostile input.

The tree is built straight from PyYAML's event stream (libyaml's parser when available)
rather than from its composer or constructor:

- scalars follow the YAML 1.2 core schema, as yaml-language-server does, so ``no`` and
  ``on`` stay strings and ``2024-01-01`` is not turned into a date object; explicit core
  tags (``!!str``, ``!!int``, ``!!float``, ``!!bool``, ``!!null``, ``!!seq``, ``!!map``,
  and ``!``) are honoured, a value that does not fit its tag and any other tag get a
  diagnostic: a value never changes type silently;
- an anchor is registered when its node is complete, so an alias inside the node it names
  (``a: &a [*a]``) is found at once and reported, never followed;
- aliases are shared, not copied, and their expanded size is bounded (alias bombs get one
  diagnostic instead of eating memory);
- nesting depth and integer size obey ``uet.artifacts.guards``;
- duplicate keys are reported instead of silently overwritten;
- no composer nodes or marks are kept (memory stays a small multiple of the text), and
  control comes back to Python at every event, so a long parse never holds the GIL for
  long and polls the caller's ``cancelled`` check.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import yaml

from uet.artifacts.diagnostics import Diagnostic, Related, Severity
from uet.artifacts.guards import (
    MAX_DEPTH,
    MAX_EXPANDED_NODES,
    CancelCheck,
    CheckCancelled,
    bounded_int,
    depth_problem,
    number_problem,
    replace_surrogates,
)
from uet.artifacts.positions import Span
from uet.artifacts.tree import Document, Member, Node, NodeKind, scalar_node

__all__ = ["MAX_DEPTH", "MAX_EXPANDED_NODES", "YamlParseResult", "parse_yaml"]

# libyaml's event parser when PyYAML was built with it, the pure-Python one otherwise.
_EventLoader: Any = getattr(yaml, "CBaseLoader", None) or yaml.BaseLoader
_POLL_EVENTS = 2048  # events between two calls of the caller's ``cancelled`` check

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT10 = re.compile(r"^[-+]?[0-9]+$")
_INT8 = re.compile(r"^0o[0-7]+$")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")
_STANDARD_TAG = "tag:yaml.org,2002:"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_SCALAR_TAGS = frozenset({"str", "int", "float", "bool", "null"})
# First characters of plain scalars that may resolve to something other than a string.
_MAYBE_NOT_STRING = frozenset("0123456789+-.~nNtTfF") | {""}
_NO_KEY = scalar_node(0, 0, None)  # stands for a refused complex key


@dataclass(slots=True)
class YamlParseResult:
    """Every document of the stream and the problems found."""

    documents: list[Document]
    problems: list[Diagnostic]


class _Stop(Exception):
    """The whole stream is refused (too deep): no document is kept."""


def parse_yaml(text: str, path: str = "", cancelled: CancelCheck | None = None) -> YamlParseResult:
    """Parse a YAML stream (several documents allowed) into positional trees.

    ``cancelled`` is polled every few thousand events; when it answers true the parse
    stops with ``CheckCancelled``. Nothing else is raised: problems are diagnostics."""
    clean, problems = replace_surrogates(text)
    if clean.startswith("\ufeff"):
        # libyaml skips a leading BOM without counting it, which would move every offset;
        # a line break has the same length and means nothing at the start of a stream.
        clean = "\n" + clean[1:]
    builder = _Builder(text, path, problems)
    loader = _EventLoader(clean)
    try:
        builder.run(loader, cancelled)
    except yaml.MarkedYAMLError as exc:
        problems.append(_syntax_problem(exc, text, path))
        return YamlParseResult([], problems)
    except yaml.YAMLError as exc:  # errors without a position (e.g. reader errors)
        problems.append(
            Diagnostic(Span(0, 0), Severity.ERROR, "UET101", f"invalid YAML: {exc}".strip())
        )
        return YamlParseResult([], problems)
    except _Stop:
        return YamlParseResult([], problems)
    finally:
        loader.dispose()
    return YamlParseResult(builder.documents, problems)


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, path: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    at_end = mark is not None and not text[mark.index :].strip()
    if at_end and exc.context_mark is not None:
        mark = exc.context_mark  # "to end of file" helps nobody: point at the opener
    start = mark.index if mark is not None else 0
    end = _token_end(text, start)
    problem = exc.problem or "invalid YAML"
    if "maximum nesting depth" in problem:  # libyaml's own guard (1,000 levels)
        return depth_problem(Span(start, start + 1))
    if start < len(text) and text[start] == "\t" and "cannot start any token" in problem:
        problem = "tab characters are not allowed for indentation in YAML; use spaces"
        end = start + 1
    related: tuple[Related, ...] = ()
    if exc.context and exc.context_mark is not None and exc.context_mark is not mark:
        context_start = exc.context_mark.index
        related = (Related(path, Span(context_start, context_start + 1), exc.context),)
    message = problem if not exc.context else f"{problem} ({exc.context})"
    return Diagnostic(Span(start, end), Severity.ERROR, "UET101", message, related=related)


def _token_end(text: str, start: int) -> int:
    """End of the token at ``start`` (up to whitespace, at most 80 characters)."""
    end = start
    while end < len(text) and end - start < 80 and not text[end].isspace():
        end += 1
    if end == start and start < len(text) and text[start] not in "\r\n":
        end = start + 1
    return end


def _shorthand(tag: str) -> str:
    """``!!int`` for ``tag:yaml.org,2002:int``; other tags as written."""
    return "!!" + tag[len(_STANDARD_TAG) :] if tag.startswith(_STANDARD_TAG) else tag


def _shown(raw: str) -> str:
    """A scalar quoted for a message, never longer than about 40 characters."""
    return repr(raw if len(raw) <= 40 else raw[:37] + "...")


class _Frame:
    """A mapping or sequence being built: its node, and for a mapping the pending key."""

    __slots__ = ("anchor", "key", "key_text", "merge", "merged", "node", "seen", "size")

    def __init__(self, node: Node, anchor: str | None) -> None:
        self.node = node
        self.anchor = anchor
        self.size = 1  # values after expanding aliases, this one included
        self.key: Node | None = None  # a read key waiting for its value
        self.key_text = ""
        self.merge = False  # the pending key is ``<<``
        self.seen: dict[str, Member] = {}
        self.merged: list[Member] = []


class _Builder:
    """Builds ``Node`` trees from parser events, one document at a time.

    Events are typed ``Any``: PyYAML declares their marks optional, the parsers always
    set them."""

    def __init__(self, text: str, path: str, problems: list[Diagnostic]) -> None:
        self._text = text
        self._path = path
        self._problems = problems
        self.documents: list[Document] = []
        # Per document: completed anchors (node, raw scalar text or None, expanded size).
        self._anchors: dict[str, tuple[Node, str | None, int]] = {}
        self._open_anchors: set[str] = set()
        self._rejected = False  # the current document is reported and not kept
        self._aliased = 0  # values the current document's aliases stand for
        self._stack: list[_Frame] = []
        self._root: Node | None = None
        # One string per distinct key: a big document repeats the same few keys.
        self._keys: dict[str, str] = {}

    def run(self, loader: Any, cancelled: CancelCheck | None) -> None:
        """Consume every event of the stream."""
        get_event = loader.get_event
        stack = self._stack
        countdown = _POLL_EVENTS
        scalar_event = yaml.ScalarEvent
        while True:
            event: Any = get_event()
            if cancelled is not None:
                countdown -= 1
                if countdown == 0:
                    countdown = _POLL_EVENTS
                    if cancelled():
                        raise CheckCancelled
            if type(event) is scalar_event:
                raw = event.value
                node = self._scalar(event, raw)
                anchor = event.anchor
                if anchor is not None:
                    self._anchors[anchor] = (node, raw, 1)
                may_merge = raw == "<<" and not event.style and event.tag in (None, _MERGE_TAG)
                self._attach(node, raw, 1, may_merge)
            elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                self._open(event)
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                self._close(stack.pop(), event)
            elif isinstance(event, yaml.AliasEvent):
                self._alias(event)
            elif isinstance(event, yaml.DocumentStartEvent):
                self._anchors = {}
                self._rejected = False
                self._aliased = 0
                self._root = None
            elif isinstance(event, yaml.DocumentEndEvent):
                self._end_document()
            elif isinstance(event, yaml.StreamEndEvent):
                return

    def _open(self, event: Any) -> None:
        start = event.start_mark.index
        if len(self._stack) >= MAX_DEPTH:
            self._problems.append(depth_problem(Span(start, start + 1)))
            raise _Stop
        is_mapping = isinstance(event, yaml.MappingStartEvent)
        if is_mapping:
            node = Node(NodeKind.OBJECT, start, start, {})
        else:
            node = Node(NodeKind.ARRAY, start, start, [])
        tag = event.tag
        if tag is not None and tag != "!":
            self._collection_tag(tag, "map" if is_mapping else "seq", start)
        anchor = event.anchor
        if anchor is not None:
            self._open_anchors.add(anchor)
        self._stack.append(_Frame(node, anchor))

    def _close(self, frame: _Frame, event: Any) -> None:
        node = frame.node
        node.length = event.end_mark.index - node.start
        for member in frame.merged:  # explicit keys win over merged ones
            if member.key not in frame.seen:
                frame.seen[member.key] = member
                node.members.append(member)
                node.value[member.key] = member.value.value
        size = min(frame.size, MAX_EXPANDED_NODES + 1)
        if frame.anchor is not None:
            self._open_anchors.discard(frame.anchor)
            self._anchors[frame.anchor] = (node, None, size)
        self._attach(node, None, size, False)

    def _alias(self, event: Any) -> None:
        name = str(event.anchor)
        start, end = event.start_mark.index, event.end_mark.index
        found = self._anchors.get(name)
        if found is not None:
            node, raw, size = found
            self._aliased += size
            self._attach(node, raw, size, False)
            return
        if name in self._open_anchors:
            message = (
                f"alias *{name} is inside the node it names (&{name}): a recursive structure "
                "cannot be represented in JSON; the document is not validated"
            )
            code = "UET106"
        else:
            message = f"alias *{name} names no anchor defined before it in this document"
            code = "UET101"
        self._problems.append(Diagnostic(Span(start, end), Severity.ERROR, code, message))
        self._rejected = True
        self._attach(scalar_node(start, end, None), None, 1, False)

    def _attach(self, node: Node, raw: str | None, size: int, may_merge: bool) -> None:
        """Give a finished node to its parent (or make it the document's root)."""
        if not self._stack:
            self._root = node
            return
        frame = self._stack[-1]
        frame.size += size
        parent = frame.node
        if parent.kind is NodeKind.ARRAY:
            parent.items.append(node)
            parent.value.append(node.value)
            return
        if frame.key is None:  # this node is a key
            if node.kind is not NodeKind.SCALAR or raw is None:
                self._problems.append(
                    Diagnostic(
                        node.span,
                        Severity.ERROR,
                        "UET110",
                        "complex mapping keys cannot be represented in JSON; use a string key",
                    )
                )
                frame.key = _NO_KEY
                frame.merge = False
                return
            frame.key = node
            frame.key_text = self._keys.setdefault(raw, raw)
            frame.merge = may_merge
            return
        key_node = frame.key
        frame.key = None
        if key_node is _NO_KEY:
            return  # the value of a refused complex key
        if frame.merge:
            frame.merged.extend(self._merge_members(node))
            return
        key = frame.key_text
        member = Member(key, key_node.start, key_node.start + key_node.length, node)
        first = frame.seen.get(key)
        if first is not None:
            self._problems.append(
                Diagnostic(
                    span=member.key_span,
                    severity=Severity.ERROR,
                    code="UET102",
                    message=f"duplicate key '{key}': the last value wins; remove one of them",
                    data={"key": key},
                    related=(Related(self._path, first.key_span, f"'{key}' first defined here"),),
                )
            )
        frame.seen[key] = member
        parent.members.append(member)
        parent.value[key] = node.value

    def _end_document(self) -> None:
        node = self._root
        if node is None:
            return
        if self._aliased > MAX_EXPANDED_NODES:
            start = node.start
            self._problems.append(
                Diagnostic(
                    span=Span(start, start + 1),
                    severity=Severity.ERROR,
                    code="UET106",
                    message=(
                        f"aliases expand this document by more than {MAX_EXPANDED_NODES:,} "
                        "values; it is not validated (alias bomb?)"
                    ),
                )
            )
        elif not self._rejected:
            self.documents.append(Document(node, node.span))
        self._root = None

    def _merge_members(self, value: Node) -> list[Member]:
        sources = value.items if value.kind is NodeKind.ARRAY else [value]
        members: list[Member] = []
        for source in sources:
            if source.kind is not NodeKind.OBJECT:
                self._problems.append(
                    Diagnostic(
                        source.span,
                        Severity.ERROR,
                        "UET110",
                        "a merge key (<<) needs a mapping or a list of mappings",
                    )
                )
                continue
            members.extend(source.members)
        return members

    def _collection_tag(self, tag: str, kind: str, start: int) -> None:
        span = Span(start, _token_end(self._text, start))
        name = tag[len(_STANDARD_TAG) :] if tag.startswith(_STANDARD_TAG) else None
        what = "mapping" if kind == "map" else "sequence"
        if name == kind:
            return
        if name in ("map", "seq") or name in _SCALAR_TAGS:
            message = f"a {what} cannot be {_shorthand(tag)}; it is read as a {what}"
            self._report(span, "UET113", message, Severity.ERROR)
        else:
            message = f"tag {_shorthand(tag)} is not supported; it is read as a plain {what}"
            self._report(span, "UET110", message, Severity.WARNING)

    def _scalar(self, event: Any, raw: str) -> Node:
        start, end = event.start_mark.index, event.end_mark.index
        tag = event.tag
        if tag is None:
            if event.style or raw[:1] not in _MAYBE_NOT_STRING:
                value: Any = raw  # quoted, block, or a plain string that is no number
            else:
                value = self._plain_value(raw, start, end)
        elif tag == "!":
            value = raw  # the non-specific tag: a string, whatever it looks like
        else:
            value = self._tagged(tag, raw, Span(start, end))
        return scalar_node(start, end, value)

    def _tagged(self, tag: str, raw: str, span: Span) -> Any:
        """The value of a scalar with an explicit tag (the raw text when it does not fit)."""
        name = tag[len(_STANDARD_TAG) :] if tag.startswith(_STANDARD_TAG) else None
        if name == "str" or tag == _MERGE_TAG:
            return raw
        if name in _SCALAR_TAGS:
            fits = {
                "int": lambda: bool(_INT10.match(raw) or _INT8.match(raw) or _INT16.match(raw)),
                "float": lambda: bool(_FLOAT.match(raw) or _INF.match(raw) or _NAN.match(raw)),
                "bool": lambda: raw in _BOOL,
                "null": lambda: bool(_NULL.match(raw)),
            }[str(name)]()
            if fits:
                value = self._plain_value(raw, span.start, span.end)
                return float(value) if name == "float" and isinstance(value, int) else value
            message = f"{_shown(raw)} is not a valid !!{name}; it is read as a string"
            self._report(span, "UET113", message, Severity.ERROR)
            return raw
        if name in ("map", "seq"):
            message = f"a scalar cannot be !!{name}; {_shown(raw)} is read as a string"
            self._report(span, "UET113", message, Severity.ERROR)
            return raw
        kind = "custom tag" if name is None else "tag"
        message = (
            f"{kind} {_shorthand(tag)} is ignored; the value is read as the string {_shown(raw)}"
        )
        self._report(span, "UET110", message, Severity.WARNING)
        return raw

    def _report(self, span: Span, code: str, message: str, severity: Severity) -> None:
        self._problems.append(Diagnostic(span, severity, code, message))

    def _plain_value(self, raw: str, start: int, end: int) -> Any:
        if _NULL.match(raw):
            return None
        if raw in _BOOL:
            return _BOOL[raw]
        number: int | float | None = None
        if _INT10.match(raw):
            number = bounded_int(raw.lstrip("+-"), 10)
            if number is not None and raw.startswith("-"):
                number = -number
        elif _INT8.match(raw):
            number = bounded_int(raw[2:], 8)
        elif _INT16.match(raw):
            number = bounded_int(raw[2:], 16)
        elif _FLOAT.match(raw):
            number = float(raw)
            if math.isinf(number):
                number = None
        elif _INF.match(raw) or _NAN.match(raw):
            self._problems.append(
                Diagnostic(
                    Span(start, end),
                    Severity.ERROR,
                    "UET107",
                    f"{raw} (infinity/not-a-number) cannot be represented in JSON",
                )
            )
            return math.nan if _NAN.match(raw) else float(raw.replace(".", "").lower())
        else:
            return raw
        if number is None:
            self._problems.append(number_problem(Span(start, end), raw))
            self._rejected = True
        return number
