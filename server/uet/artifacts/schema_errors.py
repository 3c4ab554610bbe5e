"""The schema errors of a value, as one record type for the explanations of validation.

jsonschema-rs finds them (fast, in time proportional to the document, whatever is broken);
each error is tied back to the subschema that raised it — the very object of the registry,
found through ``referencing`` from the error's absolute keyword location — because the
explanations read that subschema (its declared properties, ``x-pattern-hint``, its
did-you-mean). A value jsonschema-rs cannot judge as jsonschema would (a NaN or infinity,
see :func:`~uet.artifacts.registry.judgeable`), or whose errors it cannot place (jsonschema-rs
0.61 drops empty property names from error paths), or a schema it cannot build, is
explained by jsonschema instead, through the same record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from uet.artifacts.registry import SchemaRegistry
from uet.artifacts.tree import PathPart

if TYPE_CHECKING:
    import jsonschema
    import jsonschema_rs

__all__ = ["SchemaError", "schema_errors"]


class SchemaError(NamedTuple):
    """One schema problem, in jsonschema's terms."""

    keyword: str  # "required", "type", ...; "false" for a ``false`` subschema
    path: tuple[PathPart, ...]  # of the value, from the document root
    schema: Any  # the subschema holding ``keyword`` (an object of the registry), or False
    argument: Any  # the keyword's value in it (``schema[keyword]``)
    instance: Any  # the value at ``path``
    message: str  # the library's own wording, for keywords we do not explain ourselves
    branches: tuple[tuple[SchemaError, ...], ...] = ()  # oneOf/anyOf: errors per alternative


def schema_errors(registry: SchemaRegistry, name: str, value: Any) -> Iterator[SchemaError]:
    """The schema errors of ``value`` against the schema ``name``, as found (lazily)."""
    check = registry.check(name)
    if check is not None and _placeable(value):
        try:
            found = check.iter_errors(value)
            first = next(found, None)
        except ValueError:  # a string jsonschema-rs cannot read (a lone surrogate)
            pass
        else:
            if first is not None:
                convert = _Converter(registry, value)
                yield convert(first)
                for error in found:
                    yield convert(error)
            return
    for plain in registry.validator(name).iter_errors(value):
        yield _from_jsonschema(plain)


def _placeable(value: Any) -> bool:
    """Whether jsonschema-rs judges ``value`` as jsonschema does and its error paths lead to
    the right values: plain JSON (no NaN or infinity) without an empty property name."""
    try:
        text = json.dumps(value, allow_nan=False, check_circular=False)
    except (ValueError, TypeError, RecursionError):
        return False
    # An empty key is written '{"": ' or ', "": ' (a quote inside a string is escaped).
    return '{"": ' not in text and ', "": ' not in text


class _Converter:
    """jsonschema-rs errors of one value as :class:`SchemaError`."""

    def __init__(self, registry: SchemaRegistry, value: Any) -> None:
        self._resolver = registry.referencing_registry.resolver()
        self._value = value
        self._schemas: dict[str, Any] = {}

    def __call__(self, error: jsonschema_rs.ValidationError) -> SchemaError:
        kind = error.kind
        if kind.name == "propertyNames":  # jsonschema reports the name's own error, in place
            inner = self(kind.error)  # type: ignore[attr-defined]
            return inner._replace(path=self._path(error.instance_path))
        keyword = "false" if kind.name == "falseSchema" else kind.name
        if error.schema_path and error.schema_path[-1] == "dependentRequired":
            keyword = "dependentRequired"  # reported as "required" of the dependent property
        schema: Any = False
        location = error.absolute_keyword_location
        if keyword != "false" and location is not None:
            base, _, pointer = location.partition("#")
            parent = pointer.rsplit(f"/{keyword}", 1)[0] if f"/{keyword}" in pointer else pointer
            schema = self._schema(f"{base}#{parent}")
        argument = schema.get(keyword) if isinstance(schema, Mapping) else schema
        branches: tuple[tuple[SchemaError, ...], ...] = ()
        if keyword in ("oneOf", "anyOf"):
            context = getattr(kind, "context", None) or []
            branches = tuple(tuple(map(self, branch)) for branch in context)
        return SchemaError(
            keyword,
            self._path(error.instance_path),
            schema,
            argument,
            error.instance,
            error.message,
            branches,
        )

    def _path(self, segments: list[str | int]) -> tuple[PathPart, ...]:
        """The path with each step typed by the container it enters (jsonschema-rs 0.61
        gives a property named ``"0"`` as the number 0)."""
        path: list[PathPart] = []
        current = self._value
        for segment in segments:
            if isinstance(current, dict):
                step: PathPart = str(segment)
                current = current.get(step)
            elif isinstance(current, list) and str(segment).isdigit():
                step = int(segment)
                current = current[step] if step < len(current) else None
            else:
                step = segment
                current = None
            path.append(step)
        return tuple(path)

    def _schema(self, uri: str) -> Any:
        """The subschema at an absolute location (``<schema $id>#/json/pointer``): the
        registry's own object, looked up once per location."""
        try:
            return self._schemas[uri]
        except KeyError:
            pass
        import referencing.exceptions

        try:
            contents = self._resolver.lookup(uri).contents
        except referencing.exceptions.Unresolvable:
            contents = None
        self._schemas[uri] = contents
        return contents


def _from_jsonschema(error: jsonschema.ValidationError) -> SchemaError:
    branches: dict[int, list[SchemaError]] = {}
    for sub in error.context or []:
        index = sub.relative_schema_path[0] if sub.relative_schema_path else 0
        branches.setdefault(int(index), []).append(_from_jsonschema(sub))
    keyword = str(error.validator)
    return SchemaError(
        "false" if error.schema is False else keyword,
        tuple(error.absolute_path),
        error.schema,
        error.validator_value,
        error.instance,
        error.message,
        tuple(tuple(branches.get(index, ())) for index in range(max(branches, default=-1) + 1)),
    )
