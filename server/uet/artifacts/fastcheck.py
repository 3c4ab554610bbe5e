"""A compiled yes/no validity check for the common case: the document is valid.

jsonschema explains errors well but walks the schema through ``$ref`` lookups and
validator copies on every node, which costs ~15 µs per value. Most documents are valid
most of the time (an editor re-checks on every keystroke), so we first ask this compiled
predicate and only run jsonschema — for its precise errors — when the answer is no.

The compiler covers the JSON Schema 2020-12 keywords our schemas use. Anything it does not
know raises ``Unsupported`` at compile time and that schema keeps using jsonschema alone,
so a missing keyword can cost speed but never a missed error. A differential test compares
both on every schema (tests/artifacts/test_fastcheck.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import referencing
from jsonschema import FormatChecker

__all__ = ["Check", "Compiler", "Unsupported", "compile_check", "static_properties"]

Check = Callable[[Any], bool]
# referencing's Resolver is not exported publicly; only its lookup() is used here.
_Resolver = Any

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


def _every(checks: list[Check]) -> Check:
    """All of ``checks``, in order (specialised: these closures run once per value)."""
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda value: first(value) and second(value)
    if len(checks) == 3:
        first, second, third = checks
        return lambda value: first(value) and second(value) and third(value)

    def every(value: Any) -> bool:
        for check in checks:  # noqa: SIM110 - a loop is ~2x all() over a generator here
            if not check(value):
                return False
        return True

    return every


def _always(_: Any) -> bool:
    return True


def _never(_: Any) -> bool:
    return False


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_TYPE_TESTS: dict[str, Check] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
}


def _equal(left: Any, right: Any) -> bool:
    """JSON equality as jsonschema defines it: booleans are not numbers."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_equal, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_equal(left[key], right[key]) for key in left)
    if _is_number(left) and _is_number(right):
        return bool(left == right)
    return type(left) is type(right) and bool(left == right)


def _unique(items: list[Any]) -> bool:
    if all(type(item) is str for item in items):  # the usual case (ids): exact with a set
        return len(set(items)) == len(items)
    for position, item in enumerate(items):
        for other in items[position + 1 :]:
            if _equal(item, other):
                return False
    return True


class Compiler:
    """Compiles (sub)schemas into checks; ``$ref`` targets are compiled once per
    compiler, so one instance should serve a whole registry (not thread-safe: callers
    serialise ``compile``)."""

    def __init__(self, registry: referencing.Registry[Any], formats: FormatChecker) -> None:
        self._registry = registry
        self._formats = formats
        self._by_ref: dict[int, Check] = {}

    def compile(self, schema: Any, resolver: _Resolver) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, Mapping):
            raise Unsupported(f"schema of type {type(schema).__name__}")
        checks: list[Check] = []
        for keyword, argument in schema.items():
            if keyword in _ANNOTATIONS or keyword.startswith("x-"):
                continue
            checks.append(self._keyword(keyword, argument, schema, resolver))
        checks = [check for check in checks if check is not _always]
        if not checks:
            return _always
        return _every(checks)

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
            tests = [_TYPE_TESTS[str(name)] for name in names]
            if len(tests) == 1:
                return tests[0]
            return lambda value: any(test(value) for test in tests)
        if keyword == "enum":
            options = list(argument)
            return lambda value: any(_equal(value, option) for option in options)
        if keyword == "const":
            return lambda value: _equal(value, argument)
        if keyword == "properties":
            compiled = {str(name): compile_(sub, resolver) for name, sub in argument.items()}
            items = list(compiled.items())

            def properties(value: Any) -> bool:
                if not isinstance(value, dict):
                    return True
                for name, check in items:  # noqa: SIM110 - a loop is ~2x all() over a generator
                    if name in value and not check(value[name]):
                        return False
                return True

            return properties
        if keyword == "required":
            required = frozenset(str(name) for name in argument)
            return lambda value: not isinstance(value, dict) or required.issubset(value)
        if keyword in ("additionalProperties", "patternProperties"):
            return self._object_rest(schema, resolver, keyword)
        if keyword == "propertyNames":
            check = compile_(argument, resolver)
            return lambda value: not isinstance(value, dict) or all(map(check, value))
        if keyword in ("minProperties", "maxProperties", "minItems", "maxItems"):
            return _size_bound(keyword, int(argument))
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
            return lambda value: not isinstance(value, list) or all(map(check, value[offset:]))
        if keyword == "prefixItems":
            checks = [compile_(sub, resolver) for sub in argument]
            return lambda value: (
                not isinstance(value, list)
                or all(check(item) for check, item in zip(checks, value, strict=False))
            )
        if keyword == "uniqueItems":
            if not argument:
                return _always
            return lambda value: not isinstance(value, list) or _unique(value)
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
            return _bound(keyword, argument)
        if keyword == "multipleOf":
            divisor = argument

            def multiple(value: Any) -> bool:
                if not _is_number(value):
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
            return _always  # handled with "if"; alone they have no effect
        if keyword == "unevaluatedProperties":
            return self._unevaluated(argument, schema, resolver)
        raise Unsupported(keyword)

    def _unevaluated(self, argument: Any, schema: Mapping[str, Any], resolver: _Resolver) -> Check:
        names_and_patterns = static_properties(schema, resolver)
        if names_and_patterns is None:
            return _always  # an additionalProperties below evaluates every property
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
        """additionalProperties and patternProperties, compiled once for both keywords."""
        if keyword == "patternProperties" and "additionalProperties" in schema:
            return _always  # compiled together under additionalProperties
        declared = frozenset(str(name) for name in schema.get("properties", {}))
        patterns = [
            (re.compile(str(pattern)).search, self.compile(sub, resolver))
            for pattern, sub in schema.get("patternProperties", {}).items()
        ]
        rest_schema = schema.get("additionalProperties", True)
        rest = self.compile(rest_schema, resolver)

        def object_rest(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for key, item in value.items():
                matched = False
                for search, check in patterns:
                    if search(key) is not None:
                        matched = True
                        if not check(item):
                            return False
                if not matched and key not in declared and not rest(item):
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


def _size_bound(keyword: str, limit: int) -> Check:
    kind: tuple[type[Any], ...] = (dict,) if keyword.endswith("Properties") else (list,)

    def size(value: Any) -> int | None:
        return len(value) if isinstance(value, kind) else None

    if keyword.startswith("min"):
        return lambda value: (found := size(value)) is None or found >= limit
    return lambda value: (found := size(value)) is None or found <= limit


def _bound(keyword: str, limit: Any) -> Check:
    if keyword == "minimum":
        return lambda value: not _is_number(value) or value >= limit
    if keyword == "maximum":
        return lambda value: not _is_number(value) or value <= limit
    if keyword == "exclusiveMinimum":
        return lambda value: not _is_number(value) or value > limit
    return lambda value: not _is_number(value) or value < limit


def compile_check(
    schema_id: str, registry: referencing.Registry[Any], formats: FormatChecker
) -> Check:
    """The validity predicate of the schema registered as ``schema_id``."""
    resolver = registry.resolver(base_uri=schema_id)
    resolved = resolver.lookup(schema_id)
    return Compiler(registry, formats).compile(resolved.contents, resolved.resolver)
