"""A compiled yes/no validity check for the common case: the document is valid.

jsonschema explains errors well but walks the schema through ``$ref`` lookups and
validator copies on every node, which costs ~15 µs per value. Most documents are valid
most of the time (an editor re-checks on every keystroke), so we first ask this compiled
predicate and only run jsonschema — for its precise errors — when the answer is no.

The compiler covers the JSON Schema 2020-12 keywords our schemas use. Anything it does not
know raises ``Unsupported`` at compile time and that schema keeps using jsonschema alone,
so a missing keyword can cost speed but never a missed error. A differential test compares
both on every schema (tests/artifacts/test_fastcheck.py).

The compiler needs neither jsonschema nor ``referencing``: ``$ref`` goes through any
resolver with ``lookup(ref) -> (contents, resolver)`` (a ``referencing`` resolver, or the
registry's :class:`~uet.artifacts.refs.OfflineResolver`) and formats through any object
with ``conforms(value, format)`` (jsonschema's ``FormatChecker``, or
:data:`~uet.artifacts.formats.FORMATS`), so that checking a valid document imports neither.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Protocol

from uet.artifacts.predicates import (
    Check,
    always,
    bound,
    enum_check,
    equal,
    every,
    is_number,
    never,
    properties_check,
    size_bound,
    string_check,
    type_check,
    unique,
)

__all__ = ["Check", "Compiler", "Formats", "Unsupported", "compile_check", "static_properties"]
# A resolver whose lookup(ref) returns an object with .contents and .resolver: referencing's
# Resolver (not exported publicly) or uet.artifacts.refs.OfflineResolver.
_Resolver = Any


class Formats(Protocol):
    """Format checks: jsonschema's ``FormatChecker`` or ``uet.artifacts.formats.FORMATS``."""

    def conforms(self, instance: object, format_name: str, /) -> bool: ...


# Keywords that never affect validity.
_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "definitions",
        "title",
        "description",
        "markdownDescription",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "enumDescriptions",
        "markdownEnumDescriptions",
        "contentMediaType",
        "contentEncoding",
        "$anchor",
    }
)


class Unsupported(Exception):
    """The schema uses a keyword the compiler does not implement."""


class Compiler:
    """Compiles (sub)schemas into checks; ``$ref`` targets are compiled once per
    compiler, so one instance should serve a whole registry (not thread-safe: callers
    serialise ``compile``)."""

    def __init__(self, formats: Formats) -> None:
        self._formats = formats
        self._by_ref: dict[int, Check] = {}

    def compile(self, schema: Any, resolver: _Resolver) -> Check:
        if schema is True:
            return always
        if schema is False:
            return never
        if not isinstance(schema, Mapping):
            raise Unsupported(f"schema of type {type(schema).__name__}")
        keywords = [
            keyword
            for keyword in schema
            if keyword not in _ANNOTATIONS and not keyword.startswith("x-")
        ]
        fused = string_check(schema, keywords)
        if fused is not None:
            return fused
        checks = [self._keyword(keyword, schema[keyword], schema, resolver) for keyword in keywords]
        checks = [check for check in checks if check is not always]
        if not checks:
            return always
        return every(checks)

    def _ref(self, reference: str, resolver: _Resolver) -> Check:
        resolved = resolver.lookup(reference)
        key = id(resolved.contents)
        existing = self._by_ref.get(key)
        if existing is not None:
            return existing
        cell: list[Check] = []

        def deferred(value: Any) -> bool:  # recursion-safe: bound once compiled
            return cell[0](value)

        self._by_ref[key] = deferred
        cell.append(self.compile(resolved.contents, resolved.resolver))
        self._by_ref[key] = cell[0]
        return cell[0]

    def _keyword(
        self,
        keyword: str,
        argument: Any,
        schema: Mapping[str, Any],
        resolver: _Resolver,
    ) -> Check:
        compile_ = self.compile
        if keyword == "$ref":
            return self._ref(str(argument), resolver)
        if keyword == "type":
            names = argument if isinstance(argument, list) else [argument]
            return type_check([str(name) for name in names])
        if keyword == "enum":
            return enum_check(list(argument))
        if keyword == "const":
            return lambda value: equal(value, argument)
        if keyword == "properties":
            compiled = {str(name): compile_(sub, resolver) for name, sub in argument.items()}
            return properties_check(compiled)
        if keyword == "required":
            required = frozenset(str(name) for name in argument)
            # dict_keys >= set tests membership without building a set from the value.
            return lambda value: not isinstance(value, dict) or value.keys() >= required
        if keyword in ("additionalProperties", "patternProperties"):
            return self._object_rest(schema, resolver, keyword)
        if keyword == "propertyNames":
            check = compile_(argument, resolver)
            return lambda value: not isinstance(value, dict) or all(map(check, value))
        if keyword in ("minProperties", "maxProperties", "minItems", "maxItems"):
            return size_bound(keyword, int(argument))
        if keyword == "dependentRequired":
            rules = {str(key): list(needed) for key, needed in argument.items()}
            return lambda value: (
                not isinstance(value, dict)
                or all(
                    all(other in value for other in needed)
                    for key, needed in rules.items()
                    if key in value
                )
            )
        if keyword == "items":
            offset = len(schema.get("prefixItems", []))
            check = compile_(argument, resolver)
            if check is always:
                return always
            if not offset:
                return lambda value: not isinstance(value, list) or all(map(check, value))
            return lambda value: not isinstance(value, list) or all(map(check, value[offset:]))
        if keyword == "prefixItems":
            checks = [compile_(sub, resolver) for sub in argument]
            if len(checks) == 1:
                first = checks[0]
                return lambda value: not isinstance(value, list) or not value or first(value[0])
            return lambda value: (
                not isinstance(value, list)
                or all(check(item) for check, item in zip(checks, value, strict=False))
            )
        if keyword == "uniqueItems":
            if not argument:
                return always
            return lambda value: not isinstance(value, list) or unique(value)
        if keyword in ("minLength", "maxLength"):
            limit = int(argument)
            if keyword == "minLength":
                return lambda value: not isinstance(value, str) or len(value) >= limit
            return lambda value: not isinstance(value, str) or len(value) <= limit
        if keyword == "pattern":
            search = re.compile(str(argument)).search
            return lambda value: not isinstance(value, str) or search(value) is not None
        if keyword == "format":
            conforms = self._formats.conforms
            name = str(argument)
            return lambda value: conforms(value, name)
        if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            return bound(keyword, argument)
        if keyword == "multipleOf":
            divisor = argument

            def multiple(value: Any) -> bool:
                if not is_number(value):
                    return True
                quotient = value / divisor
                return not math.isfinite(quotient) or float(quotient).is_integer()

            return multiple
        if keyword == "allOf":
            checks = [compile_(sub, resolver) for sub in argument]
            return lambda value: all(check(value) for check in checks)
        if keyword == "anyOf":
            checks = [compile_(sub, resolver) for sub in argument]
            return lambda value: any(check(value) for check in checks)
        if keyword == "oneOf":
            checks = [compile_(sub, resolver) for sub in argument]
            return lambda value: sum(1 for check in checks if check(value)) == 1
        if keyword == "not":
            check = compile_(argument, resolver)
            return lambda value: not check(value)
        if keyword == "if":
            condition = compile_(argument, resolver)
            then = compile_(schema.get("then", True), resolver)
            otherwise = compile_(schema.get("else", True), resolver)
            return lambda value: then(value) if condition(value) else otherwise(value)
        if keyword in ("then", "else"):
            return always  # handled with "if"; alone they have no effect
        if keyword == "unevaluatedProperties":
            return self._unevaluated(argument, schema, resolver)
        raise Unsupported(keyword)

    def _unevaluated(self, argument: Any, schema: Mapping[str, Any], resolver: _Resolver) -> Check:
        names_and_patterns = static_properties(schema, resolver)
        if names_and_patterns is None:
            return always  # an additionalProperties below evaluates every property
        names, patterns = names_and_patterns
        rest = self.compile(argument, resolver)
        searches = [re.compile(pattern).search for pattern in patterns]

        def unevaluated(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for key, item in value.items():
                if key in names or any(search(key) is not None for search in searches):
                    continue
                if not rest(item):
                    return False
            return True

        return unevaluated

    def _object_rest(self, schema: Mapping[str, Any], resolver: _Resolver, keyword: str) -> Check:
        """additionalProperties and patternProperties, compiled once for both keywords.

        Every key matching a pattern must satisfy its schema; a key neither declared nor
        matching any pattern must satisfy ``additionalProperties``. Patterns whose schema
        accepts everything only matter for that second rule, so a declared key (the usual
        case) costs one set lookup, not one regex search per pattern.
        """
        if keyword == "patternProperties" and "additionalProperties" in schema:
            return always  # compiled together under additionalProperties
        declared = frozenset(str(name) for name in schema.get("properties", {}))
        patterns = [
            (re.compile(str(pattern)).search, self.compile(sub, resolver))
            for pattern, sub in schema.get("patternProperties", {}).items()
        ]
        searches = [search for search, _ in patterns]
        strict = [(search, check) for search, check in patterns if check is not always]
        rest = self.compile(schema.get("additionalProperties", True), resolver)
        if rest is always and not strict:
            return always

        def object_rest(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            if not strict and value.keys() <= declared:
                return True  # only declared keys (the usual case): nothing else applies
            for key, item in value.items():
                for search, check in strict:
                    if search(key) is not None and not check(item):
                        return False
                if key in declared or rest is always:
                    continue
                if not any(search(key) is not None for search in searches) and not rest(item):
                    return False
            return True

        return object_rest


def static_properties(
    schema: Mapping[str, Any], resolver: _Resolver, *, stop_at_additional: bool = True
) -> tuple[set[str], list[str]] | None:
    """Property names and patterns that ``schema`` evaluates, following ``$ref`` and
    ``allOf``; ``None`` when some ``additionalProperties`` evaluates them all. Dynamic
    applicators (anyOf, oneOf, if, dependentSchemas) make the answer depend on the value:
    ``Unsupported``."""
    names: set[str] = set()
    patterns: list[str] = []
    stack: list[tuple[Any, _Resolver]] = [(schema, resolver)]
    seen: set[int] = set()
    while stack:
        current, current_resolver = stack.pop()
        if not isinstance(current, Mapping) or id(current) in seen:
            continue
        seen.add(id(current))
        if any(key in current for key in ("anyOf", "oneOf", "if", "dependentSchemas")):
            raise Unsupported("unevaluatedProperties next to dynamic applicators")
        if stop_at_additional and "additionalProperties" in current:
            return None
        names.update(str(name) for name in current.get("properties", {}))
        patterns.extend(str(pattern) for pattern in current.get("patternProperties", {}))
        stack.extend((branch, current_resolver) for branch in current.get("allOf", []))
        if isinstance(current.get("$ref"), str):
            resolved = current_resolver.lookup(current["$ref"])
            stack.append((resolved.contents, resolved.resolver))
    return names, patterns


def compile_check(schema_id: str, resolver: _Resolver, formats: Formats) -> Check:
    """The validity predicate of the schema registered as ``schema_id`` (looked up with
    ``resolver``)."""
    resolved = resolver.lookup(schema_id)
    return Compiler(formats).compile(resolved.contents, resolved.resolver)
