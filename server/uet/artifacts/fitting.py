"""Values that fit the schema where they are written: placeholders for missing properties
(the UET202 quick fix) and the check that a renamed id is still valid at every place it is
written.

"Fits" is decided by validation itself, never guessed: the document's value is validated
with the candidate written in, and the candidate fits when that adds no error anywhere in
the document. Candidates come from the schemas at that place (``const``/``enum``,
``default``, ``examples``, as yaml-language-server offers them) and then from the declared
type and its constraints (``minLength``, ``format``, ``minimum``, ``minItems``, nested
``required`` properties...). Plain data in, plain data out; nothing here raises on odd
schemas or documents.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from uet.artifacts.positions import Span
from uet.artifacts.registry import SchemaRegistry
from uet.artifacts.schema_nav import (
    SchemaNode,
    expand,
    property_schemas,
    schemas_at,
    summarize,
)
from uet.artifacts.tree import Document, Node, NodeKind, PathPart

__all__ = ["Place", "first_new_error", "place_of", "placeholders", "value_candidates"]

_MAX_CANDIDATES = 12  # validated per missing property
_MAX_DEPTH = 6  # nested objects and arrays built for one placeholder
_SECOND = "%Y-%m-%dT%H:%M:%SZ"

ErrorKey = tuple[tuple[PathPart, ...], str, tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Place:
    """Where a span is written in a document: the path of its value, or (``key``) the path
    of the object whose member key it is, with that key."""

    path: tuple[PathPart, ...]
    key: str | None = None


def place_of(document: Document, span: Span) -> Place | None:
    """The value or member key written exactly at ``span`` (``None``: neither)."""
    if document.root is None:
        return None
    stack: list[tuple[Node, tuple[PathPart, ...]]] = [(document.root, ())]
    while stack:
        node, path = stack.pop()
        if node.span == span:
            return Place(path)
        if not node.span.contains(span.start):
            continue
        if node.kind is NodeKind.OBJECT:
            for member in node.members:
                if member.key_span == span:
                    return Place(path, member.key)
                stack.append((member.value, (*path, member.key)))
        elif node.kind is NodeKind.ARRAY:
            stack.extend((item, (*path, position)) for position, item in enumerate(node.items))
    return None


def first_new_error(
    registry: SchemaRegistry, schema: str, root_value: Any, changes: Sequence[tuple[Place, Any]]
) -> str | None:
    """Writing each ``(place, new)`` of ``changes`` (a value, or a member key's new name)
    adds this error to the document; ``None`` when they add none."""
    if schema not in registry:
        return None
    validator = registry.validator(schema)
    before = _error_keys(validator.iter_errors(root_value))
    changed = root_value
    for place, new in changes:
        if place.key is None:
            changed = _replaced(changed, place.path, _constant(new))
            continue
        old, depth = place.key, len(place.path)
        changed = _replaced(changed, place.path, _renamed_key(old, new))
        # Errors inside a renamed member move with it: they are not new.
        before = {
            ((*path[:depth], new, *path[depth + 1 :]), keyword, where)
            if len(path) > depth and path[:depth] == place.path and path[depth] == old
            else (path, keyword, where)
            for path, keyword, where in before
        }
    for error in validator.iter_errors(changed):
        if _error_key(error) not in before:
            return str(error.message)
    return None


def placeholders(
    registry: SchemaRegistry,
    schema: str,
    root_value: Any,
    path: Sequence[PathPart],
    names: Sequence[str],
) -> dict[str, Any]:
    """A value for each missing property ``names`` of the object at ``path``, chosen so that
    adding them adds no error to the document where a candidate achieves that (else the
    first candidate: the schema's default or example, or an empty value of its type)."""
    validator = registry.validator(schema) if schema in registry else None
    chosen: dict[str, Any] = {}
    current = root_value
    for name in names:
        nodes = property_schemas(schemas_at(registry, schema, path, current), registry)
        candidates = list(islice(value_candidates(nodes.get(name, []), registry, name), 64))
        value = _first_fitting(validator, current, tuple(path), name, candidates)
        chosen[name] = value
        current = _replaced(current, tuple(path), _with_member(name, value))
    return chosen


def value_candidates(
    nodes: Sequence[SchemaNode], registry: SchemaRegistry, name: str = "", depth: int = 0
) -> Iterator[Any]:
    """Values to try for a property whose (expanded) schemas are ``nodes``, most fitting
    first: what the schema names (``const``/``enum``, ``default``, ``examples``), then
    values built from its type and constraints."""
    summary = summarize(nodes)
    yield from summary.enum
    if summary.has_default:
        yield summary.default
    yield from summary.examples
    yield from _built(nodes, registry, name, depth)


# -- building values from a type ---------------------------------------------------------


def _built(
    nodes: Sequence[SchemaNode], registry: SchemaRegistry, name: str, depth: int
) -> Iterator[Any]:
    kinds = _kinds(nodes)
    for kind in sorted(kinds, key=lambda item: item == "null"):  # null last: not useful
        if kind == "string":
            yield from _strings(nodes, name)
        elif kind in ("integer", "number"):
            yield from _numbers(nodes, kind)
        elif kind == "boolean":
            yield from (False, True)
        elif kind == "null":
            yield None
        elif kind == "object" and depth < _MAX_DEPTH:
            yield _object(nodes, registry, depth)
            yield {}
        elif kind == "array" and depth < _MAX_DEPTH:
            yield from _arrays(nodes, registry, name, depth)


def _kinds(nodes: Sequence[SchemaNode]) -> list[str]:
    """Declared types (in order), else the type the constraints imply."""
    kinds: list[str] = []
    for node in nodes:
        declared = node.contents.get("type")
        for kind in declared if isinstance(declared, list) else [declared]:
            if isinstance(kind, str) and kind not in kinds:
                kinds.append(kind)
    if kinds:
        return kinds
    keywords = {key for node in nodes for key in node.contents}
    if keywords & {"properties", "required", "additionalProperties", "patternProperties"}:
        return ["object"]
    if keywords & {"items", "prefixItems", "minItems"}:
        return ["array"]
    return ["string"]


def _constraint(nodes: Sequence[SchemaNode], keyword: str, pick: Callable[..., Any]) -> Any:
    found = [
        node.contents[keyword]
        for node in nodes
        if isinstance(node.contents.get(keyword), int | float)
        and not isinstance(node.contents.get(keyword), bool)
    ]
    return pick(found) if found else None


def _strings(nodes: Sequence[SchemaNode], name: str) -> Iterator[str]:
    """Strings of a fitting length that match the patterns (the format's sample first)."""
    shortest = int(_constraint(nodes, "minLength", max) or 0)
    longest = _constraint(nodes, "maxLength", min)
    patterns = [node.contents["pattern"] for node in nodes if "pattern" in node.contents]
    word = (name or "value") + "x" * max(0, shortest - len(name or "value"))
    options = [_format_sample(node.contents.get("format")) for node in nodes]
    options += ["", word if longest is None else word[: int(longest)], "x" * max(shortest, 1)]
    for option in options:
        if option is None or len(option) < shortest:
            continue
        if longest is not None and len(option) > longest:
            continue
        if all(_matches(pattern, option) for pattern in patterns):
            yield option


def _matches(pattern: object, text: str) -> bool:
    try:
        return isinstance(pattern, str) and re.search(pattern, text) is not None
    except re.error:
        return False


def _format_sample(name: object) -> str | None:
    now = datetime.now(UTC)
    samples = {
        "date-time": now.strftime(_SECOND),
        "date": now.strftime("%Y-%m-%d"),
        "time": now.strftime("%H:%M:%SZ"),
        "duration": "PT0S",
        "email": "user@example.com",
        "idn-email": "user@example.com",
        "hostname": "example.com",
        "idn-hostname": "example.com",
        "ipv4": "192.0.2.1",
        "ipv6": "2001:db8::1",
        "uri": "https://example.com/",
        "iri": "https://example.com/",
        "uri-reference": "https://example.com/",
        "iri-reference": "https://example.com/",
        "uri-template": "https://example.com/",
        "uuid": str(uuid.uuid4()),
        "regex": ".*",
        "json-pointer": "",
        "relative-json-pointer": "0",
    }
    return samples.get(name) if isinstance(name, str) else None


def _numbers(nodes: Sequence[SchemaNode], kind: str) -> Iterator[int | float]:
    low = _constraint(nodes, "minimum", max)
    above = _constraint(nodes, "exclusiveMinimum", max)
    high = _constraint(nodes, "maximum", min)
    if above is not None and (low is None or above >= low):
        low = int(above) + 1 if kind == "integer" else above + 1
    value = 0 if low is None else low
    if high is not None and value > high:
        value = high
    step = _constraint(nodes, "multipleOf", max)
    if step:
        value = -(-value // step) * step
    yield int(value) if kind == "integer" else value
    yield 0
    yield 1


def _object(nodes: Sequence[SchemaNode], registry: SchemaRegistry, depth: int) -> dict[str, Any]:
    """An object holding every required property (and as many declared ones as
    ``minProperties`` asks for), each with its first candidate."""
    names: list[str] = []
    for node in nodes:
        listed = node.contents.get("required")
        if isinstance(listed, list):
            names.extend(str(item) for item in listed if str(item) not in names)
    schemas = property_schemas(nodes, registry)
    fewest = int(_constraint(nodes, "minProperties", max) or 0)
    names.extend([name for name in schemas if name not in names][: max(0, fewest - len(names))])
    built: dict[str, Any] = {}
    for name in names:
        built[name] = next(value_candidates(schemas.get(name, []), registry, name, depth + 1), "")
    return built


def _arrays(
    nodes: Sequence[SchemaNode], registry: SchemaRegistry, name: str, depth: int
) -> Iterator[list[Any]]:
    shortest = int(_constraint(nodes, "minItems", max) or 0)
    if shortest == 0:
        yield []
        return
    items = [
        SchemaNode(node.contents["items"], node.resolver)
        for node in nodes
        if isinstance(node.contents.get("items"), Mapping)
    ]
    values: list[Any] = []
    for value in value_candidates(expand(items, registry), registry, name, depth + 1):
        if value not in values:
            values.append(value)
        if len(values) == shortest:
            break
    while values and len(values) < shortest:
        values.append(values[-1])
    yield values


# -- validation ------------------------------------------------------------------------


def _first_fitting(
    validator: Any, root_value: Any, path: tuple[PathPart, ...], name: str, candidates: list[Any]
) -> Any:
    if not candidates:
        return ""
    if validator is None:
        return candidates[0]
    before = _error_keys(validator.iter_errors(root_value))
    for candidate in candidates[:_MAX_CANDIDATES]:
        changed = _replaced(root_value, path, _with_member(name, candidate))
        if all(_error_key(error) in before for error in validator.iter_errors(changed)):
            return candidate
    return candidates[0]


def _error_keys(errors: Iterator[Any]) -> set[ErrorKey]:
    return {_error_key(error) for error in errors}


def _error_key(error: Any) -> ErrorKey:
    """An error's identity that does not depend on the values around it: where, which
    keyword, and which part of the schema."""
    return (tuple(error.absolute_path), str(error.validator), tuple(error.absolute_schema_path))


def _constant(value: Any) -> Callable[[Any], Any]:
    return lambda _: value


def _renamed_key(old: str, new: Any) -> Callable[[Any], Any]:
    def rename(target: Any) -> Any:
        if not isinstance(target, Mapping):
            return target
        return {(new if key == old else key): item for key, item in target.items()}

    return rename


def _with_member(name: str, value: Any) -> Callable[[Any], Any]:
    def add(target: Any) -> Any:
        return {**target, name: value} if isinstance(target, Mapping) else target

    return add


def _replaced(value: Any, path: tuple[PathPart, ...], change: Callable[[Any], Any]) -> Any:
    """``value`` with ``change`` applied at ``path`` (only the containers on the path are
    copied)."""
    if not path:
        return change(value)
    head, rest = path[0], path[1:]
    if isinstance(value, Mapping) and isinstance(head, str) and head in value:
        return {**value, head: _replaced(value[head], rest, change)}
    if isinstance(value, list) and isinstance(head, int) and 0 <= head < len(value):
        copy = list(value)
        copy[head] = _replaced(value[head], rest, change)
        return copy
    return value
