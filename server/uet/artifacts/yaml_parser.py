"""YAML to the positional tree, with YAML 1.2 scalars and guards against hostile input.

PyYAML's composer (libyaml when available) gives nodes with marks; we build our own tree
from them instead of using its constructor because:
- scalars follow the YAML 1.2 core schema, as yaml-language-server does, so ``no`` and
  ``on`` stay strings and ``2024-01-01`` is not turned into a date object;
- aliases are shared, not copied, and their expanded size is bounded (alias bombs get one
  diagnostic instead of eating memory);
- nesting depth is bounded: libyaml refuses more than 1,000 levels and the pure-Python
  fallback's RecursionError is caught; our own tree building never recurses;
- duplicate keys are reported instead of silently overwritten.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import yaml

from uet.artifacts.diagnostics import Diagnostic, Related, Severity
from uet.artifacts.positions import Span
from uet.artifacts.tree import Document, Member, Node, NodeKind

__all__ = ["YamlParseResult", "parse_yaml"]

MAX_DEPTH = 1000  # libyaml's own limit (yaml_max_nesting_level)
MAX_EXPANDED_NODES = 1_000_000

_DEFAULT_TAGS = {
    yaml.ScalarNode: "tag:yaml.org,2002:str",
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
    yaml.MappingNode: "tag:yaml.org,2002:map",
}


class _PlainTags(yaml.resolver.BaseResolver):
    """No YAML 1.1 tag resolution: plain scalars are resolved here, by YAML 1.2 rules, so
    PyYAML's per-node regex matching would be wasted work."""

    def resolve(self, kind: type[Any], value: Any, implicit: Any) -> str:
        return _DEFAULT_TAGS[kind]


_CParser: Any = getattr(yaml, "cyaml", None) and getattr(yaml.cyaml, "CParser", None)

if _CParser is not None:

    class _ComposeLoader(_CParser, _PlainTags):  # type: ignore[misc]
        """libyaml's parser and composer (C) with plain tags."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _PlainTags.__init__(self)

else:  # pragma: no cover - PyYAML without libyaml

    class _ComposeLoader(  # type: ignore[no-redef]
        yaml.reader.Reader,
        yaml.scanner.Scanner,
        yaml.parser.Parser,
        yaml.composer.Composer,
        _PlainTags,
    ):
        """The pure-Python parser and composer with plain tags."""

        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _PlainTags.__init__(self)


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
_STR_TAG = "tag:yaml.org,2002:str"
# First characters of plain scalars that may resolve to something other than a string.
_MAYBE_NOT_STRING = frozenset("0123456789+-.~nNtTfF") | {""}


@dataclass(slots=True)
class YamlParseResult:
    """Every document of the stream and the problems found."""

    documents: list[Document]
    problems: list[Diagnostic]


def parse_yaml(text: str, path: str = "") -> YamlParseResult:
    """Parse a YAML stream (several documents allowed) into positional trees."""
    problems: list[Diagnostic] = []
    try:
        roots = list(yaml.compose_all(text, Loader=_ComposeLoader))
    except yaml.MarkedYAMLError as exc:
        problems.append(_syntax_problem(exc, text, path))
        return YamlParseResult([], problems)
    except yaml.YAMLError as exc:  # errors without a position (e.g. reader errors)
        problems.append(
            Diagnostic(Span(0, 0), Severity.ERROR, "UET101", f"invalid YAML: {exc}".strip())
        )
        return YamlParseResult([], problems)
    except RecursionError:
        problems.append(
            Diagnostic(
                Span(0, 0),
                Severity.ERROR,
                "UET105",
                f"nesting deeper than {MAX_DEPTH:,} levels is not supported",
            )
        )
        return YamlParseResult([], problems)
    builder = _Builder(text, path, problems)
    documents: list[Document] = []
    may_alias = "*" in text  # without an alias nothing can expand
    for root in roots:
        if may_alias and builder.expanded_size(root) > MAX_EXPANDED_NODES:
            start = root.start_mark.index
            problems.append(
                Diagnostic(
                    span=Span(start, start + 1),
                    severity=Severity.ERROR,
                    code="UET106",
                    message=(
                        f"aliases expand this document to more than {MAX_EXPANDED_NODES:,} "
                        "values; it is not validated (alias bomb?)"
                    ),
                )
            )
            continue
        node = builder.build(root)
        documents.append(Document(node, Span(node.span.start, node.span.end)))
    return YamlParseResult(documents, problems)


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, path: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    at_end = mark is not None and not text[mark.index :].strip()
    if at_end and exc.context_mark is not None:
        mark = exc.context_mark  # "to end of file" helps nobody: point at the opener
    start = mark.index if mark is not None else 0
    end = start
    while end < len(text) and end - start < 80 and not text[end].isspace():
        end += 1
    if end == start and start < len(text) and text[start] not in "\r\n":
        end = start + 1
    problem = exc.problem or "invalid YAML"
    if "maximum nesting depth" in problem:  # libyaml's own guard (1,000 levels)
        return Diagnostic(
            Span(start, start + 1),
            Severity.ERROR,
            "UET105",
            f"nesting deeper than {MAX_DEPTH:,} levels is not supported",
        )
    if start < len(text) and text[start] == "\t" and "cannot start any token" in problem:
        problem = "tab characters are not allowed for indentation in YAML; use spaces"
        end = start + 1
    related: tuple[Related, ...] = ()
    if exc.context and exc.context_mark is not None and exc.context_mark is not mark:
        context_start = exc.context_mark.index
        related = (Related(path, Span(context_start, context_start + 1), exc.context),)
    message = problem if not exc.context else f"{problem} ({exc.context})"
    return Diagnostic(Span(start, end), Severity.ERROR, "UET101", message, related=related)


class _Builder:
    """Turns composed YAML nodes into ``Node`` trees, sharing aliased subtrees."""

    def __init__(self, text: str, path: str, problems: list[Diagnostic]) -> None:
        self._text = text
        self._path = path
        self._problems = problems
        self._built: dict[int, Node] = {}
        self._sizes: dict[int, int] = {}

    def expanded_size(self, root: yaml.Node) -> int:
        """Number of values after expanding aliases (memoised, so it is cheap)."""
        sizes = self._sizes
        stack: list[tuple[yaml.Node, bool]] = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if id(node) in sizes:
                continue
            children = _children(node)
            if ready:
                sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
                if sizes[id(node)] > MAX_EXPANDED_NODES:
                    return sizes[id(node)]
                continue
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
        return sizes[id(root)]

    def build(self, root: yaml.Node) -> Node:
        """Build the tree bottom-up without recursion."""
        stack: list[tuple[yaml.Node, bool]] = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if id(node) in self._built:
                continue
            if isinstance(node, yaml.ScalarNode):
                self._built[id(node)] = self._scalar(node)
                continue
            if not ready:
                stack.append((node, True))
                stack.extend((child, False) for child in _children(node))
                continue
            if isinstance(node, yaml.SequenceNode):
                self._built[id(node)] = self._sequence(node)
            elif isinstance(node, yaml.MappingNode):
                self._built[id(node)] = self._mapping(node)
        return self._built[id(root)]

    def _span(self, node: yaml.Node) -> Span:
        return Span(node.start_mark.index, node.end_mark.index)

    def _sequence(self, node: yaml.SequenceNode) -> Node:
        items = [self._built[id(child)] for child in node.value]
        return Node(NodeKind.ARRAY, self._span(node), [item.value for item in items], items=items)

    def _mapping(self, node: yaml.MappingNode) -> Node:
        result = Node(NodeKind.OBJECT, self._span(node), {})
        first_seen: dict[str, Span] = {}
        merged: list[Member] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG or (
                key_node.value == "<<" and not getattr(key_node, "style", None)
            ):
                merged.extend(self._merge_members(value_node))
                continue
            key_span = self._span(key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                self._problems.append(
                    Diagnostic(
                        key_span,
                        Severity.ERROR,
                        "UET110",
                        "complex mapping keys cannot be represented in JSON; use a string key",
                    )
                )
                continue
            key = str(key_node.value)
            if key in first_seen:
                self._problems.append(
                    Diagnostic(
                        span=key_span,
                        severity=Severity.ERROR,
                        code="UET102",
                        message=f"duplicate key '{key}': the last value wins; remove one of them",
                        data={"key": key},
                        related=(
                            Related(self._path, first_seen[key], f"'{key}' first defined here"),
                        ),
                    )
                )
            first_seen[key] = key_span
            value = self._built[id(value_node)]
            result.members.append(Member(key, key_span, value))
            result.value[key] = value.value
        for member in merged:  # explicit keys win over merged ones
            if member.key not in first_seen:
                first_seen[member.key] = member.key_span
                result.members.append(member)
                result.value[member.key] = member.value.value
        return result

    def _merge_members(self, value_node: yaml.Node) -> list[Member]:
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        members: list[Member] = []
        for source in sources:
            built = self._built.get(id(source))
            if built is None or built.kind is not NodeKind.OBJECT:
                self._problems.append(
                    Diagnostic(
                        self._span(source),
                        Severity.ERROR,
                        "UET110",
                        "a merge key (<<) needs a mapping or a list of mappings",
                    )
                )
                continue
            members.extend(built.members)
        return members

    def _scalar(self, node: yaml.ScalarNode) -> Node:
        span = self._span(node)
        raw = str(node.value)
        tag = str(node.tag)
        if not node.style and tag == _STR_TAG and raw[:1] not in _MAYBE_NOT_STRING:
            value: Any = raw  # cannot be a number, boolean or null: a plain string
        elif tag == _STR_TAG and node.style:
            value = raw  # quoted or block scalar
        elif not node.style and (tag.startswith(_STANDARD_TAG) or tag == "!"):
            value = self._plain_value(raw, span)
        else:
            value = raw
            if not tag.startswith(_STANDARD_TAG) and tag != "!":
                self._problems.append(
                    Diagnostic(
                        span,
                        Severity.WARNING,
                        "UET110",
                        f"custom tag {tag} is ignored; the value is read as the string {raw!r}",
                    )
                )
        return Node(NodeKind.SCALAR, span, value)

    def _plain_value(self, raw: str, span: Span) -> Any:
        if _NULL.match(raw):
            return None
        if raw in _BOOL:
            return _BOOL[raw]
        if _INT10.match(raw):
            return int(raw)
        if _INT8.match(raw):
            return int(raw[2:], 8)
        if _INT16.match(raw):
            return int(raw[2:], 16)
        if _FLOAT.match(raw):
            return float(raw)
        if _INF.match(raw) or _NAN.match(raw):
            self._problems.append(
                Diagnostic(
                    span,
                    Severity.ERROR,
                    "UET107",
                    f"{raw} (infinity/not-a-number) cannot be represented in JSON",
                )
            )
            return math.nan if _NAN.match(raw) else float(raw.replace(".", "").lower())
        return raw


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        children: list[yaml.Node] = []
        for key, value in node.value:
            children.append(key)
            children.append(value)
        return children
    return []
