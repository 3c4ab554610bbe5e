"""The subschema that applies at a document path, for hover, completion and quick fixes.

Validation answers "what is wrong"; editing features ask "what may go here". This module
walks a schema along a path the way a validator would — following ``$ref`` offline through
the registry, descending through ``properties`` / ``patternProperties`` /
``additionalProperties`` / ``prefixItems`` / ``items`` and merging ``allOf`` — and picks the
``oneOf`` / ``anyOf`` / ``if``-``then``-``else`` branches that fit the value actually written.
``summarize`` folds the result into the facts an editor shows. Never raises on odd schemas:
unknown shapes contribute nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import referencing.exceptions

from uet.artifacts.registry import SchemaRegistry, judgeable
from uet.artifacts.tree import PathPart

__all__ = [
    "MISSING",
    "SchemaNode",
    "SchemaSummary",
    "expand",
    "property_schemas",
    "schemas_at",
    "summarize",
]

MISSING: Any = object()  # the value at a path is unknown (not written yet)
_MAX_REF_DEPTH = 32


class Resolved(Protocol):
    """What a ``$ref`` leads to: ``referencing``'s ``Resolved``."""

    @property
    def contents(self) -> Any: ...

    @property
    def resolver(self) -> Resolver: ...


class Resolver(Protocol):
    """What ``referencing.Registry.resolver()`` returns, as far as we use it."""

    def lookup(self, ref: str) -> Resolved: ...


@dataclass(frozen=True, slots=True)
class SchemaNode:
    """One subschema and the resolver for the ``$ref`` inside it."""

    contents: Mapping[str, Any]
    resolver: Resolver


@dataclass(frozen=True, slots=True)
class SchemaSummary:
    """What an editor shows about the schemas at one place (first definition wins)."""

    title: str = ""
    description: str = ""
    types: tuple[str, ...] = ()
    enum: tuple[Any, ...] = ()
    enum_descriptions: tuple[str, ...] = ()
    default: Any = MISSING
    examples: tuple[Any, ...] = ()
    deprecated: bool = False

    @property
    def has_default(self) -> bool:
        """True when a ``default`` is declared."""
        return self.default is not MISSING


def schemas_at(
    registry: SchemaRegistry, schema: str, path: Sequence[PathPart], root_value: Any = MISSING
) -> list[SchemaNode]:
    """The subschemas that apply to the value at ``path`` of a document of ``schema``."""
    if schema not in registry:
        return []
    info = registry.info(schema)
    resolver = registry.referencing_registry.resolver(base_uri=info.id)
    nodes = _expand([SchemaNode(info.contents, resolver)], root_value, registry)
    value = root_value
    for part in path:
        value = _child_value(value, part)
        children: list[SchemaNode] = []
        for node in nodes:
            children.extend(_step(node, part))
        nodes = _expand(children, value, registry)
        if not nodes:
            break
    return nodes


def property_schemas(
    nodes: Iterable[SchemaNode], registry: SchemaRegistry, value: Any = MISSING
) -> dict[str, list[SchemaNode]]:
    """Declared property name → its (expanded) schemas, over every schema in ``nodes``."""
    found: dict[str, list[SchemaNode]] = {}
    for node in nodes:
        properties = node.contents.get("properties")
        if not isinstance(properties, Mapping):
            continue
        for name, subschema in properties.items():
            if isinstance(subschema, Mapping):
                child = _child_value(value, str(name))
                expanded = _expand([SchemaNode(subschema, node.resolver)], child, registry)
                found.setdefault(str(name), []).extend(expanded)
    return found


def expand(
    nodes: Iterable[SchemaNode], registry: SchemaRegistry, value: Any = MISSING
) -> list[SchemaNode]:
    """``nodes`` with their ``$ref``, ``allOf`` and the conditional branches that fit
    ``value`` followed, outermost first (what applies to one value)."""
    return _expand(nodes, value, registry)


def summarize(nodes: Iterable[SchemaNode]) -> SchemaSummary:
    """Merge the editor-facing facts of ``nodes`` (outermost first, so a ``description``
    written beside a ``$ref`` beats the referenced definition's)."""
    title = description = ""
    types: list[str] = []
    enum: list[Any] = []
    enum_descriptions: list[str] = []
    default: Any = MISSING
    examples: list[Any] = []
    deprecated = False
    for node in nodes:
        contents = node.contents
        title = title or str(contents.get("title", ""))
        description = description or str(
            contents.get("markdownDescription") or contents.get("description") or ""
        )
        declared = contents.get("type")
        for kind in declared if isinstance(declared, list) else [declared]:
            if isinstance(kind, str) and kind not in types:
                types.append(kind)
        if "const" in contents and not enum:
            enum = [contents["const"]]
            enum_descriptions = [str(contents.get("description", ""))]
        if isinstance(contents.get("enum"), list) and not enum:
            enum = list(contents["enum"])
            described = contents.get("enumDescriptions")
            enum_descriptions = (
                [str(item) for item in described] if isinstance(described, list) else []
            )
        if default is MISSING and "default" in contents:
            default = contents["default"]
        if isinstance(contents.get("examples"), list):
            examples.extend(item for item in contents["examples"] if item not in examples)
        deprecated = deprecated or bool(contents.get("deprecated"))
    return SchemaSummary(
        title,
        description,
        tuple(types),
        tuple(enum),
        tuple(enum_descriptions),
        default,
        tuple(examples),
        deprecated,
    )


def _child_value(value: Any, part: PathPart) -> Any:
    if isinstance(part, str) and isinstance(value, Mapping):
        return value.get(part, MISSING)
    if isinstance(part, int) and isinstance(value, list) and 0 <= part < len(value):
        return value[part]
    return MISSING


def _step(node: SchemaNode, part: PathPart) -> list[SchemaNode]:
    """The subschemas one path step below ``node`` (before expansion)."""
    contents, resolver = node.contents, node.resolver
    found: list[Mapping[str, Any]] = []
    if isinstance(part, str):
        properties = contents.get("properties")
        if isinstance(properties, Mapping) and isinstance(properties.get(part), Mapping):
            found.append(properties[part])
        else:
            patterns = contents.get("patternProperties")
            if isinstance(patterns, Mapping):
                found.extend(
                    subschema
                    for pattern, subschema in patterns.items()
                    if isinstance(subschema, Mapping) and _matches(str(pattern), part)
                )
            if not found:
                for keyword in ("additionalProperties", "unevaluatedProperties"):
                    extra = contents.get(keyword)
                    if isinstance(extra, Mapping):
                        found.append(extra)
                        break
    else:
        prefix = contents.get("prefixItems")
        if isinstance(prefix, list) and part < len(prefix) and isinstance(prefix[part], Mapping):
            found.append(prefix[part])
        elif isinstance(contents.get("items"), Mapping):
            found.append(contents["items"])
    return [SchemaNode(item, resolver) for item in found]


def _expand(nodes: Iterable[SchemaNode], value: Any, registry: SchemaRegistry) -> list[SchemaNode]:
    """Follow ``$ref``, ``allOf`` and the fitting conditional branches, outermost first."""
    result: list[SchemaNode] = []
    seen: set[int] = set()
    stack: list[tuple[SchemaNode, int]] = [(node, 0) for node in reversed(list(nodes))]
    while stack:
        node, depth = stack.pop()
        if id(node.contents) in seen or depth > _MAX_REF_DEPTH:
            continue
        seen.add(id(node.contents))
        result.append(node)
        contents, resolver = node.contents, node.resolver
        pending: list[SchemaNode] = []
        reference = contents.get("$ref")
        if isinstance(reference, str):
            try:
                resolved = resolver.lookup(reference)
            except referencing.exceptions.Unresolvable:
                resolved = None
            if resolved is not None and isinstance(resolved.contents, Mapping):
                pending.append(SchemaNode(resolved.contents, resolved.resolver))
        pending.extend(_subschemas(node, "allOf"))
        for keyword in ("oneOf", "anyOf"):
            pending.extend(_fitting(_subschemas(node, keyword), value, registry))
        condition = contents.get("if")
        if isinstance(condition, Mapping):
            branch = "then"
            if value is not MISSING:
                fits = _is_valid(SchemaNode(condition, resolver), value, registry)
                branch = "then" if fits else "else"
            chosen = contents.get(branch)
            if isinstance(chosen, Mapping):
                pending.append(SchemaNode(chosen, resolver))
        stack.extend((item, depth + 1) for item in reversed(pending))
    return result


def _subschemas(node: SchemaNode, keyword: str) -> list[SchemaNode]:
    listed = node.contents.get(keyword)
    if not isinstance(listed, list):
        return []
    return [SchemaNode(item, node.resolver) for item in listed if isinstance(item, Mapping)]


def _fitting(branches: list[SchemaNode], value: Any, registry: SchemaRegistry) -> list[SchemaNode]:
    """Branches the value is valid against; else those accepting its type; else all."""
    if not branches or value is MISSING:
        return branches
    valid = [branch for branch in branches if _is_valid(branch, value, registry)]
    if valid:
        return valid
    typed = [branch for branch in branches if _accepts_type(branch, value, registry)]
    return typed or branches


def _accepts_type(node: SchemaNode, value: Any, registry: SchemaRegistry) -> bool:
    declared = node.contents.get("type")
    if declared is None:
        return True
    return _is_valid(SchemaNode({"type": declared}, node.resolver), value, registry)


def _is_valid(node: SchemaNode, value: Any, registry: SchemaRegistry) -> bool:
    """Whether ``value`` fits the subschema (jsonschema-rs, its ``$ref``s resolved where it
    is written in the registry)."""
    check = registry.subschema_check(node.contents)
    if check is None or not judgeable(value):
        return False
    try:
        return check.is_valid(value)
    except ValueError:
        return False


def _matches(pattern: str, key: str) -> bool:
    try:
        return re.search(pattern, key) is not None
    except re.error:
        return False
