"""A jsonschema validator that only descends where an error can be.

When a document is invalid, jsonschema walks all of it to collect errors: ~15 µs per value,
so one typo in a 2,000-line workstream costs ~70 ms. The compiled validity predicate
(``uet.artifacts.fastcheck``) answers "is this subtree valid?" ~20x faster, so the
``properties``, ``items`` and ``additionalProperties`` keywords here ask it first for each
child and skip the children it proves valid. Errors are the same as jsonschema's (a valid
child yields none; the differential test keeps both in agreement), found in time
proportional to the broken part of the document, not its size.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import referencing.exceptions
from jsonschema import Draft202012Validator, ValidationError, _keywords, validators
from jsonschema._utils import find_additional_properties
from jsonschema.protocols import Validator

from uet.artifacts.fastcheck import Check, Compiler, Formats, Unsupported

__all__ = ["SubschemaChecks", "pruning_validator_class"]

ResolverFor = Callable[[object], Any]


class SubschemaChecks:
    """Compiled checks for subschemas, by identity (schemas are immutable and live as long
    as their registry); ``None`` for a subschema the compiler does not cover."""

    def __init__(self, formats: Formats, resolver_for: ResolverFor) -> None:
        self._compiler = Compiler(formats)
        self._resolver_for = resolver_for
        self._checks: dict[int, Check | None] = {}
        self._keep: list[object] = []  # holds every compiled subschema so ids stay unique
        self._lock = threading.Lock()

    def get(self, subschema: object) -> Check | None:
        """The check for ``subschema`` (compiled on first use)."""
        key = id(subschema)
        try:
            return self._checks[key]
        except KeyError:
            pass
        with self._lock:
            if key not in self._checks:
                try:
                    check: Check | None = self._compiler.compile(
                        subschema, self._resolver_for(subschema)
                    )
                except (Unsupported, referencing.exceptions.Unresolvable):
                    check = None
                self._keep.append(subschema)
                self._checks[key] = check
            return self._checks[key]


Errors = Iterator[ValidationError]
# jsonschema's own keyword functions (generators; its type stubs say they return None).
Keyword = Callable[[Any, Any, Any, Any], Errors]
_items: Keyword = _keywords.items  # type: ignore[assignment]
_additional_properties: Keyword = _keywords.additionalProperties  # type: ignore[assignment]


def pruning_validator_class(checks: SubschemaChecks) -> type[Validator]:
    """A Draft 2020-12 validator class whose child-descending keywords skip children that
    ``checks`` proves valid. (``validator`` is typed ``Any``: ``descend`` is not part of
    jsonschema's public protocol, though every validator class has it.)"""

    def properties(
        validator: Any, properties: Mapping[str, Any], instance: Any, schema: Any
    ) -> Errors:
        if not isinstance(instance, dict):
            return
        for name, subschema in properties.items():
            if name in instance:
                value = instance[name]
                check = checks.get(subschema)
                if check is not None and check(value):
                    continue
                yield from validator.descend(value, subschema, path=name, schema_path=name)

    def items(validator: Any, items: Any, instance: Any, schema: Any) -> Errors:
        check = checks.get(items) if isinstance(items, Mapping) else None
        if check is None or not isinstance(instance, list):
            yield from _items(validator, items, instance, schema)
            return
        for index in range(len(schema.get("prefixItems", ())), len(instance)):
            value = instance[index]
            if not check(value):
                yield from validator.descend(value, items, path=index)

    def additional_properties(validator: Any, extra: Any, instance: Any, schema: Any) -> Errors:
        check = checks.get(extra) if isinstance(extra, Mapping) else None
        if check is None or not isinstance(instance, dict):
            yield from _additional_properties(validator, extra, instance, schema)
            return
        for name in find_additional_properties(instance, schema):
            value = instance[name]
            if not check(value):
                yield from validator.descend(value, extra, path=name)

    return validators.extend(  # type: ignore[no-untyped-call,no-any-return]
        Draft202012Validator,
        {
            "properties": properties,
            "items": items,
            "additionalProperties": additional_properties,
        },
    )
