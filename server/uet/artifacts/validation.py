"""Schema validation that lands each problem on the exact node with a useful message.

jsonschema-rs validates the plain value (:mod:`uet.artifacts.schema_errors`); each error's
path is then resolved in the positional tree. Unknown and missing properties go on keys,
type/enum/pattern errors on values. ``oneOf``/``anyOf`` failures are narrowed to the branch
the value was most likely meant for, so users never read "is not valid under any of the
given schemas".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import referencing.exceptions

from uet.artifacts.diagnostics import Diagnostic, Severity
from uet.artifacts.guards import CheckCancelled
from uet.artifacts.positions import Span
from uet.artifacts.registry import SchemaRegistry
from uet.artifacts.schema_errors import SchemaError, schema_errors
from uet.artifacts.suggestions import CUTOFF, STRICT_CUTOFF, Suggester, normal_word, suggest
from uet.artifacts.tree import Document, Member, Node, NodeKind, PathPart

__all__ = ["MAX_SCHEMA_ERRORS", "describe_type", "validate_document"]

# Schema errors explained per document, as linters cap theirs: a big broken document can
# have tens of thousands, and the first ones are what a user fixes first.
MAX_SCHEMA_ERRORS = 1000

_RANGE_KEYWORDS = {
    "minimum": "at least {limit}",
    "maximum": "at most {limit}",
    "exclusiveMinimum": "greater than {limit}",
    "exclusiveMaximum": "less than {limit}",
    "minLength": "at least {limit} character(s) long",
    "maxLength": "at most {limit} character(s) long",
    "minItems": "a list of at least {limit} item(s)",
    "maxItems": "a list of at most {limit} item(s)",
    "minProperties": "an object with at least {limit} propert(ies)",
    "maxProperties": "an object with at most {limit} propert(ies)",
    "multipleOf": "a multiple of {limit}",
}
_SHOWN_INT_BITS = 128  # integers up to ~38 digits are shown whole
_LOG10_2 = math.log10(2)
_MAX_FOREIGN_MESSAGE = 200  # characters of a jsonschema message (it may repr a huge value)
_MAX_SHOWN_KEY = 40
_SYNONYMS_KEYWORD = "x-synonyms"  # docs/schema-conventions.md
_MAX_SYNONYMS = 20  # per property: a schema cannot make did-you-mean unbounded
_MAX_SCHEMAS_WALKED = 64  # $ref/allOf subschemas read for one object's properties
# Accepted on every top-level document; listing them in "allowed" would only be noise.
_ALWAYS_ALLOWED = frozenset({"$schema", "doc_id"})
# What looking up a $ref in a schema someone wrote may raise.
_UNRESOLVABLE = (LookupError, referencing.exceptions.Unresolvable)
_TYPE_NAMES = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true or false)",
    "null": "null",
}


def validate_document(
    document: Document,
    schema: str,
    registry: SchemaRegistry,
    cancelled: Callable[[], bool] | None = None,
) -> list[Diagnostic]:
    """The schema problems of one document (the first ``MAX_SCHEMA_ERRORS``, then one
    UET211 saying validation stopped), sorted by position.

    Raises ``CheckCancelled`` when ``cancelled`` answers true, polled between errors."""
    if document.root is None:
        return []
    value = document.root.value
    if registry.is_valid(schema, value):
        return []
    diagnostics: list[Diagnostic] = []
    seen: set[tuple[int, int, str, str]] = set()
    hints = _PropertyHints(registry)
    for count, error in enumerate(schema_errors(registry, schema, value)):
        if cancelled is not None and cancelled():
            raise CheckCancelled
        if count == MAX_SCHEMA_ERRORS:
            end = document.span.end  # after every problem shown, where it is read last
            diagnostics.append(
                Diagnostic(
                    Span(end, end),
                    Severity.INFORMATION,
                    "UET211",
                    f"validation stopped after {MAX_SCHEMA_ERRORS:,} schema problems in this "
                    "document; fix these and the rest are shown",
                )
            )
            break
        for diagnostic in _explain(error, document, schema, hints):
            key = (diagnostic.span.start, diagnostic.span.end, diagnostic.code, diagnostic.message)
            if key not in seen:
                seen.add(key)
                diagnostics.append(diagnostic)
    diagnostics.sort(key=lambda item: (item.span.start, item.code))
    return diagnostics


def describe_type(value: Any) -> str:
    """A short, user-facing description of a JSON value's type and content (bounded: a
    huge number or string is summarised, never rendered whole)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int) and value.bit_length() > _SHOWN_INT_BITS:
        # str() of a big int is quadratic, and refused past 4,300 digits
        digits = int(value.bit_length() * _LOG10_2) + 1
        return f"{'a negative' if value < 0 else 'a'} number of about {digits:,} digits"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {shown!r}"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _explain(
    error: SchemaError, document: Document, schema: str, hints: _PropertyHints
) -> list[Diagnostic]:
    keyword = error.keyword
    path = list(error.path)
    node, member = document.resolve(path)
    if node is None:
        return []
    name = _property_name(path)
    if keyword in ("oneOf", "anyOf"):
        branch = _best_branch(error)
        if branch is not None:
            found: list[Diagnostic] = []
            for sub in branch:
                found.extend(_explain(sub, document, schema, hints))
            if found:
                return found
        return [_alternatives(error, node, name, schema)]
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        return _unknown_properties(error, node, schema, hints)
    if keyword == "required":
        return [_missing(error, node, member, document, schema)]
    if keyword == "type":
        expected = _expected_types(error.argument)
        message = f"{name} must be {expected}; found {describe_type(error.instance)}"
        return [_at(node, "UET201", message, schema, {"expected": error.argument})]
    if keyword == "enum":
        return [_bad_enum(error, node, name, schema)]
    if keyword == "const":
        message = f"{name} must be {error.argument!r}; found {describe_type(error.instance)}"
        return [_at(node, "UET207", message, schema, {"values": [error.argument]})]
    if keyword == "pattern":
        hint = error.schema.get("x-pattern-hint") if isinstance(error.schema, Mapping) else None
        expected = str(hint) if hint else f"match the pattern {error.argument}"
        message = f"{name} must {expected}; found {describe_type(error.instance)}"
        return [_at(node, "UET205", message, schema, {"pattern": error.argument})]
    if keyword in _RANGE_KEYWORDS:
        limit = _RANGE_KEYWORDS[keyword].format(limit=error.argument)
        message = f"{name} must be {limit}; found {describe_type(error.instance)}"
        return [_at(node, "UET206", message, schema, {"keyword": keyword})]
    if keyword == "format":
        message = f"{name} must be a valid {error.argument}; found {describe_type(error.instance)}"
        return [_at(node, "UET208", message, schema, {"format": error.argument})]
    if keyword == "uniqueItems":
        return [_at(node, "UET209", f"{name} must not contain duplicates", schema)]
    if keyword in ("dependentRequired", "dependencies"):
        message = f"{name}: {_foreign(error.message)}"
        return [_at(_key_or(node, member), "UET202", message, schema)]
    if keyword == "false":
        return [_at(_key_or(node, member), "UET203", f"{name} is not allowed here", schema)]
    message = f"{name}: {_foreign(error.message)}"
    return [_at(node, "UET299", message, schema, {"keyword": keyword})]


def _at(
    node: Node | Span,
    code: str,
    message: str,
    schema: str,
    data: Mapping[str, Any] | None = None,
) -> Diagnostic:
    span = node if isinstance(node, Span) else _value_span(node)
    return Diagnostic(span, Severity.ERROR, code, message, schema, dict(data or {}))


def _value_span(node: Node) -> Span:
    """Scalars: the whole token. Containers: their first line only, never half the file."""
    if node.kind is NodeKind.SCALAR:
        return node.span
    if node.kind is NodeKind.OBJECT and node.members:
        return node.members[0].key_span
    if node.kind is NodeKind.ARRAY and node.items:
        first = node.items[0]
        return Span(node.span.start, max(node.span.start + 1, min(first.span.start, node.span.end)))
    return node.span


def _key_or(node: Node, member: Member | None) -> Span:
    return member.key_span if member is not None else _value_span(node)


def _property_name(path: Sequence[PathPart]) -> str:
    """``tasks[2].kind``-style name of the node at ``path`` (``the document`` at the root;
    long keys shortened)."""
    if not path:
        return "the document"
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        key = part if len(part) <= _MAX_SHOWN_KEY else part[: _MAX_SHOWN_KEY - 3] + "..."
        text += f".{key}" if text else key
    return f"'{text}'"


def _foreign(message: str) -> str:
    """A jsonschema message, shortened: it may hold the repr of a whole subtree."""
    if len(message) <= _MAX_FOREIGN_MESSAGE:
        return message
    return message[: _MAX_FOREIGN_MESSAGE - 3] + "..."


def _expected_types(value: Any) -> str:
    types = value if isinstance(value, list) else [value]
    names = [_TYPE_NAMES.get(str(item), str(item)) for item in types]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


class _Names:
    """Did-you-mean over one set of property names and their synonyms (``x-synonyms``),
    each mapped to what is suggested (the name, or its dotted path one level down)."""

    def __init__(self, names: Mapping[str, str], synonyms: Mapping[str, str], cutoff: float):
        self._names = names
        self._synonyms = {normal_word(word): target for word, target in synonyms.items()}
        self._fuzzy_names = Suggester(names, cutoff=cutoff)
        self._fuzzy_synonyms = Suggester(self._synonyms, cutoff=max(cutoff, STRICT_CUTOFF))

    def exact(self, key: str) -> str | None:
        """A synonym written as such (case and ``-``/``_`` aside), or ``None``."""
        return self._synonyms.get(normal_word(key))

    def close(self, key: str) -> str | None:
        """The name closest to ``key``, if close enough."""
        best = self._fuzzy_names(key)
        return self._names[best] if best is not None else None

    def close_synonym(self, key: str) -> str | None:
        """What the synonym closest to ``key`` stands for (strict: synonyms are short)."""
        best = self._fuzzy_synonyms(key)
        return self._synonyms[best] if best is not None else None


class _Declared:
    """What an object schema declares, with its did-you-mean: built once per schema.

    Suggestions come from the names and from the schema's own synonyms (``x-synonyms``
    beside a property: what users write when they mean it), first on this level, then on
    the level below (a key written one level too high). A key one level down must be
    closer to be suggested (``STRICT_CUTOFF``): no suggestion beats a wrong one."""

    def __init__(self, schema: Any, registry: SchemaRegistry) -> None:
        self.schema = schema  # held, so that its id() stays its own while cached
        self.names, patterns = _declared_properties(schema, registry)
        self.name_set = frozenset(self.names)
        self.patterns = [re.compile(pattern) for pattern in patterns]
        self.shown = [name for name in self.names if name not in _ALWAYS_ALLOWED]
        synonyms = _synonyms(_property_entries(schema, registry), "")
        self._here = _Names({name: name for name in self.names}, synonyms, CUTOFF)
        self._registry = registry
        self._nested: _Names | None = None

    def declares(self, key: str) -> bool:
        return key in self.name_set or any(regex.search(key) for regex in self.patterns)

    def suggest(self, key: str) -> str | None:
        """A property of this object ``key`` probably means."""
        return self._here.exact(key) or self._here.close(key)

    def nested_suggestion(self, key: str) -> str | None:
        """``'execution.timeout_seconds'`` for a ``timout_seconds`` (or its synonym
        ``timeout``) written one level too high: a property of the schema's object-valued
        properties; then a synonym close to ``key`` on either level."""
        if self._nested is None:
            candidates, synonyms = _nested_candidates(self.schema, self._registry)
            self._nested = _Names(candidates, synonyms, STRICT_CUTOFF)
        nested = self._nested
        return (
            nested.exact(key)
            or nested.close(key)
            or self._here.close_synonym(key)
            or nested.close_synonym(key)
        )


class _PropertyHints:
    """The ``_Declared`` of each schema met while explaining one document's errors, so
    10,000 objects with an unknown key walk their schema once, not 10,000 times."""

    def __init__(self, registry: SchemaRegistry) -> None:
        self._registry = registry
        self._found: dict[int, _Declared] = {}

    def of(self, schema: Any) -> _Declared:
        found = self._found.get(id(schema))
        if found is None or found.schema is not schema:
            found = self._found[id(schema)] = _Declared(schema, self._registry)
        return found


def _declared_properties(schema: Any, registry: SchemaRegistry) -> tuple[list[str], list[str]]:
    """Property names and patterns a (sub)schema declares, following $ref and allOf."""
    if not isinstance(schema, Mapping):
        return [], []
    found = static_properties(schema, registry.resolver_for(schema))
    if found is None:
        names = [str(key) for key in schema.get("properties", {})]
        return names, [str(key) for key in schema.get("patternProperties", {})]
    return sorted(found[0]), found[1]


def static_properties(schema: Any, resolver: Any) -> tuple[set[str], list[str]] | None:
    """Property names and patterns that ``schema`` declares, following ``$ref`` and
    ``allOf``; ``None`` when dynamic applicators (anyOf, oneOf, if, dependentSchemas) make
    the answer depend on the value, or a ``$ref`` leads nowhere."""
    names: set[str] = set()
    patterns: list[str] = []
    for current in _static_closure(schema, resolver):
        if current is None or any(
            key in current for key in ("anyOf", "oneOf", "if", "dependentSchemas")
        ):
            return None
        names.update(str(name) for name in current.get("properties", {}))
        patterns.extend(str(pattern) for pattern in current.get("patternProperties", {}))
    return names, patterns


def _static_closure(schema: Any, resolver: Any) -> Iterator[Mapping[str, Any] | None]:
    """``schema`` and every schema its ``allOf`` and ``$ref`` lead to, each once, at most
    ``_MAX_SCHEMAS_WALKED``; ``None`` stands for a ``$ref`` that leads nowhere. A schema is
    yielded before what it leads to is looked up."""
    stack: list[tuple[Any, Any]] = [(schema, resolver)]
    seen: set[int] = set()
    while stack and len(seen) < _MAX_SCHEMAS_WALKED:
        current, current_resolver = stack.pop()
        if not isinstance(current, Mapping) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        branches = current.get("allOf")
        if isinstance(branches, list):
            stack.extend((branch, current_resolver) for branch in branches)
        if isinstance(current.get("$ref"), str):
            try:
                resolved = current_resolver.lookup(current["$ref"])
            except _UNRESOLVABLE:
                yield None
                continue
            stack.append((resolved.contents, resolved.resolver))


def _unknown_properties(
    error: SchemaError, node: Node, schema: str, hints: _PropertyHints
) -> list[Diagnostic]:
    if node.kind is not NodeKind.OBJECT:
        return []
    declared = hints.of(error.schema)
    extras = [member for member in node.members if not declared.declares(member.key)]
    if error.keyword == "unevaluatedProperties" and not extras:
        # Declared elsewhere (e.g. a failing branch): fall back to jsonschema's own wording.
        return [_at(node, "UET203", _foreign(error.message), schema)]
    diagnostics: list[Diagnostic] = []
    for member in extras:
        suggestion = declared.suggest(member.key)
        nested = None if suggestion else declared.nested_suggestion(member.key)
        shown = declared.shown
        if suggestion or nested:
            message = f"unknown property '{member.key}'; did you mean '{suggestion or nested}'?"
        else:
            allowed = ", ".join(shown[:12]) + (", ..." if len(shown) > 12 else "")
            message = f"unknown property '{member.key}' (allowed: {allowed})"
        diagnostics.append(
            _at(
                member.key_span,
                "UET203",
                message,
                schema,
                {
                    "key": member.key,
                    "suggestion": suggestion,
                    "nested_suggestion": nested,
                    "allowed": declared.names,
                },
            )
        )
    return diagnostics


def _nested_candidates(
    schema: Any, registry: SchemaRegistry
) -> tuple[dict[str, str], dict[str, str]]:
    """``{'timeout_seconds': 'execution.timeout_seconds', ...}``: the properties of the
    object-valued properties of ``schema``; and their synonyms, mapped the same way."""
    candidates: dict[str, str] = {}
    synonyms: dict[str, str] = {}
    for parent, subschema in _property_entries(schema, registry).items():
        target: Any = subschema
        target_resolver = registry.resolver_for(subschema)
        if isinstance(subschema.get("$ref"), str):
            try:
                resolved = target_resolver.lookup(subschema["$ref"])
            except _UNRESOLVABLE:
                continue
            target, target_resolver = resolved.contents, resolved.resolver
        found = static_properties(target, target_resolver)
        for child in found[0] if found is not None else ():
            candidates.setdefault(child, f"{parent}.{child}")
        entries = _property_entries(target, registry, target_resolver)
        for word, name in _synonyms(entries, f"{parent}.").items():
            synonyms.setdefault(word, name)
    return candidates, synonyms


def _property_entries(
    schema: Any, registry: SchemaRegistry, resolver: Any = None
) -> dict[str, Mapping[str, Any]]:
    """The ``properties`` entries of an object schema (following ``$ref`` and ``allOf``),
    as written: the schema beside a ``$ref`` is where a property's ``x-synonyms`` are."""
    entries: dict[str, Mapping[str, Any]] = {}
    if not isinstance(schema, Mapping):
        return entries
    for current in _static_closure(schema, resolver or registry.resolver_for(schema)):
        if current is None:
            continue  # a $ref that leads nowhere adds no entry
        properties = current.get("properties")
        if isinstance(properties, Mapping):
            for name, entry in properties.items():
                if isinstance(entry, Mapping):
                    entries.setdefault(str(name), entry)
    return entries


def _synonyms(entries: Mapping[str, Mapping[str, Any]], prefix: str) -> dict[str, str]:
    """``{'retries': 'max_attempts'}`` from each entry's ``x-synonyms`` (with ``prefix``
    before the property's name); a synonym claimed twice keeps its first property."""
    found: dict[str, str] = {}
    for name, entry in entries.items():
        words = entry.get(_SYNONYMS_KEYWORD)
        if isinstance(words, list):
            for word in words[:_MAX_SYNONYMS]:
                if isinstance(word, str) and word:
                    found.setdefault(word, prefix + name)
    return found


def _missing(
    error: SchemaError, node: Node, member: Member | None, document: Document, schema: str
) -> Diagnostic:
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    required = error.argument if isinstance(error.argument, list) else []
    missing = [str(name) for name in required if name not in instance]
    quoted = ", ".join(f"'{name}'" for name in missing)
    plural = "properties" if len(missing) != 1 else "property"
    where = "" if node is document.root else f" in {_node_label(node, member)}"
    message = f"missing required {plural} {quoted}{where}"
    span = member.key_span if member is not None else _value_span(node)
    return _at(span, "UET202", message, schema, {"missing": missing})


def _node_label(node: Node, member: Member | None) -> str:
    if member is not None:
        return f"'{member.key}'"
    return "this item" if node.kind is NodeKind.OBJECT else "this value"


def _bad_enum(error: SchemaError, node: Node, name: str, schema: str) -> Diagnostic:
    allowed = list(error.argument) if isinstance(error.argument, list) else []
    shown = ", ".join(str(value) for value in allowed[:15]) + (", ..." if len(allowed) > 15 else "")
    suggestion = (
        suggest(error.instance, [str(v) for v in allowed])
        if isinstance(error.instance, str)
        else None
    )
    hint = f"; did you mean '{suggestion}'?" if suggestion else ""
    message = (
        f"{name} has the invalid value {describe_type(error.instance)}{hint} (allowed: {shown})"
    )
    return _at(node, "UET204", message, schema, {"values": allowed, "suggestion": suggestion})


def _best_branch(error: SchemaError) -> list[SchemaError] | None:
    """The errors of the alternative the value was most likely meant to match.

    Branches failing on the value's own type are the least likely; among the rest the one
    whose errors go deepest (the value matched more of it) with the fewest errors wins.
    """
    depth = len(error.path)
    branches = [(index, list(errors)) for index, errors in enumerate(error.branches) if errors]
    if not branches:
        return None

    def own_type(sub: SchemaError) -> bool:
        return sub.keyword == "type" and len(sub.path) == depth

    def rank(item: tuple[int, list[SchemaError]]) -> tuple[int, int, int, int]:
        index, errors = item
        type_miss = sum(1 for sub in errors if own_type(sub))
        deepest = max(len(sub.path) for sub in errors) - depth
        return (type_miss, -deepest, len(errors), index)

    _, errors = min(branches, key=rank)
    if all(own_type(sub) for sub in errors):
        return None
    return errors


def _alternatives(error: SchemaError, node: Node, name: str, schema: str) -> Diagnostic:
    expected: list[str] = []
    for branch in error.argument if isinstance(error.argument, list) else []:
        if isinstance(branch, Mapping):
            label = branch.get("title") or branch.get("description")
            if not label and "type" in branch:
                label = _expected_types(branch["type"])
            if not label and "const" in branch:
                label = repr(branch["const"])
            if not label and "$ref" in branch:
                label = str(branch["$ref"]).rsplit("/", 1)[-1].replace(".schema.json", "")
            if label:
                expected.append(str(label))
    wanted = " or ".join(dict.fromkeys(expected)) if expected else "one of the allowed forms"
    message = f"{name} must be {wanted}; found {describe_type(error.instance)}"
    return _at(node, "UET210", message, schema)
