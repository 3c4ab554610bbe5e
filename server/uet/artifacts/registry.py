"""The schema registry: the single source of truth for validation, hover, completion and
generation.

Schemas are ``schemas/<name>.schema.json`` (JSON Schema 2020-12), bundled with the package.
Every ``$ref`` resolves offline: a reference to anything outside the registry fails instead
of touching the network.

Whether a document is valid is answered by jsonschema-rs (:meth:`SchemaRegistry.is_valid`),
which reads referenced schemas from the registry itself, so that a valid document — the
engine's workstream on every ``uet run`` — is checked without importing jsonschema or
``referencing``. ``referencing`` (with jsonschema) serves what walks the schemas themselves:
the resolvers of hover, completion and the explanations of errors.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from functools import cache, partial
from typing import TYPE_CHECKING, Any, NamedTuple

from uet.resources import schemas_dir

if TYPE_CHECKING:
    import jsonschema_rs
    import referencing
    from jsonschema.protocols import Validator

__all__ = [
    "ID_PREFIX",
    "JSONSCHEMA_RS_FORMATS",
    "NON_ARTIFACT_SCHEMAS",
    "SCHEMA_SUFFIX",
    "SchemaInfo",
    "SchemaRegistry",
    "bundled_registry",
    "judgeable",
]

SCHEMA_SUFFIX = ".schema.json"
# ``.invalid`` (RFC 2606) can never resolve: the ids are names, not download locations.
ID_PREFIX = "https://uet.invalid/schemas/v1/"
# Schemas holding shared definitions only; they are never associated with a file.
NON_ARTIFACT_SCHEMAS = frozenset({"common"})
# The formats jsonschema-rs checks by itself (those of JSON Schema 2020-12): a constant, so
# that building a validator does not read every schema to find the formats they name.
JSONSCHEMA_RS_FORMATS = frozenset(
    {
        "date",
        "date-time",
        "duration",
        "email",
        "hostname",
        "idn-email",
        "idn-hostname",
        "ipv4",
        "ipv6",
        "iri",
        "iri-reference",
        "json-pointer",
        "regex",
        "relative-json-pointer",
        "time",
        "uri",
        "uri-reference",
        "uri-template",
        "uuid",
    }
)


class SchemaInfo(NamedTuple):
    """What the registry knows about one schema."""

    name: str
    id: str
    title: str
    description: str
    contents: Mapping[str, Any]


def _refuse_retrieval(uri: str) -> referencing.Resource[Any]:
    """Never fetch: everything a schema references must be in the registry."""
    import referencing.exceptions

    raise referencing.exceptions.NoSuchResource(ref=uri)  # type: ignore[call-arg]


# A schema's contents, or a function that reads them (called once, on first use).
SchemaSource = Mapping[str, Any] | Callable[[], Mapping[str, Any]]


class SchemaRegistry:
    """Schemas by name, with cached compiled validators (thread-safe).

    A schema given as a function is read when first needed: checking a workstream reads
    the three schemas it uses (``uet run``), while listing names reads none; aliases,
    validators and ``referencing`` read them all.
    """

    def __init__(self, schemas: Mapping[str, SchemaSource]) -> None:
        self._sources = dict(sorted(schemas.items()))
        self._infos: dict[str, SchemaInfo] = {}
        self._by_id: dict[str, Mapping[str, Any]] | None = None  # built on first use
        self._aliases: dict[str, str] | None = None  # built on first use
        self._registry: referencing.Registry[Any] | None = None  # built on first use
        self._validators: dict[str, Validator] = {}
        self._checks: dict[str, jsonschema_rs.Validator | None] = {}
        self._subschema_checks: dict[int, tuple[object, jsonschema_rs.Validator | None]] = {}
        self._owners: dict[int, str] | None = None
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._referencing_lock = threading.Lock()

    @classmethod
    def from_files(cls, paths: Iterable[Any]) -> SchemaRegistry:
        """A registry of ``*.schema.json`` files (``Path`` or ``Traversable``), each read
        when first needed."""
        return cls(
            {str(path.name)[: -len(SCHEMA_SUFFIX)]: partial(_read_schema, path) for path in paths}
        )

    @property
    def referencing_registry(self) -> referencing.Registry[Any]:
        """The offline ``referencing.Registry`` holding every schema (built on first use:
        a valid document is checked without importing ``referencing``)."""
        registry = self._registry
        if registry is not None:
            return registry
        infos = self._all_infos()
        with self._referencing_lock:
            if self._registry is None:
                import referencing
                from referencing.jsonschema import DRAFT202012

                resources = [
                    (info.id, DRAFT202012.create_resource(info.contents)) for info in infos
                ]
                self._registry = referencing.Registry(
                    retrieve=_refuse_retrieval  # type: ignore[call-arg]
                ).with_resources(resources)
            return self._registry

    def names(self) -> list[str]:
        """All schema names, sorted."""
        return list(self._sources)

    def artifact_names(self) -> list[str]:
        """Names of the schemas a file can be associated with."""
        return [name for name in self.names() if name not in NON_ARTIFACT_SCHEMAS]

    def __contains__(self, name: object) -> bool:
        return name in self._sources

    def info(self, name: str) -> SchemaInfo:
        """The schema called ``name`` (read on first use); ``KeyError`` when there is none."""
        info = self._infos.get(name)
        if info is not None:
            return info
        source = self._sources[name]
        with self._load_lock:
            info = self._infos.get(name)
            if info is None:
                info = _schema_info(name, source() if callable(source) else source)
                self._infos[name] = info
        return info

    def _all_infos(self) -> list[SchemaInfo]:
        return [self.info(name) for name in self._sources]

    def lookup(self, reference: str) -> str | None:
        """The schema name for a ``$schema`` value or modeline: a name, an ``$id``, a file
        name (``task_spec.schema.json``) or the original UET file name
        (``schema/task_spec.v1.json``). ``None`` when nothing matches."""
        reference = reference.strip()
        if reference in self._sources:
            return reference
        aliases = self._aliases
        if aliases is None:
            aliases = self._aliases = self._build_aliases()
        found = aliases.get(reference)
        if found is not None:
            return found
        tail = reference.rsplit("/", 1)[-1].split("#", 1)[0]
        return aliases.get(tail)

    def validator(self, name: str) -> Validator:
        """jsonschema's Draft 2020-12 validator for ``name`` (built once, then cached)."""
        validator = self._validators.get(name)
        if validator is not None:
            return validator
        with self._lock:
            validator = self._validators.get(name)
            if validator is None:
                from jsonschema import Draft202012Validator

                from uet.artifacts.formats import FORMAT_CHECKER

                validator = Draft202012Validator(
                    self.info(name).contents,
                    registry=self.referencing_registry,
                    format_checker=FORMAT_CHECKER,
                )
                self._validators[name] = validator
        return validator

    def resolver_for(self, subschema: object) -> Any:
        """A ``referencing`` resolver based at the schema resource that contains
        ``subschema`` (found by identity), for resolving its relative ``$ref``s."""
        return self.referencing_registry.resolver(base_uri=self.base_uri_of(subschema))

    def base_uri_of(self, subschema: object) -> str:
        """The ``$id`` of the schema that contains ``subschema`` (found by identity; ``""``
        for a schema outside the registry)."""
        if self._owners is None:
            owners: dict[int, str] = {}
            for info in self._all_infos():
                stack: list[Any] = [info.contents]
                while stack:
                    current = stack.pop()
                    if isinstance(current, Mapping):
                        owners[id(current)] = info.id
                        stack.extend(current.values())
                    elif isinstance(current, list):
                        stack.extend(current)
            self._owners = owners
        return self._owners.get(id(subschema), "")

    def is_valid(self, name: str, value: object) -> bool:
        """True when ``value`` is certainly valid against the schema ``name``: jsonschema-rs
        says so. False when it is not, or when jsonschema-rs cannot judge it (see
        :func:`judgeable`); callers then ask :func:`uet.artifacts.schema_errors.schema_errors`
        why."""
        check = self.check(name)
        if check is None or not judgeable(value):
            return False
        try:
            return check.is_valid(value)
        except ValueError:  # a string jsonschema-rs cannot read (a lone surrogate)
            return False

    def check(self, name: str) -> jsonschema_rs.Validator | None:
        """The jsonschema-rs validator of the schema ``name`` (built once, then cached;
        ``None`` when it cannot be built, e.g. a ``$ref`` outside the registry: jsonschema
        then explains that)."""
        if name in self._checks:
            return self._checks[name]
        with self._lock:
            if name not in self._checks:
                self._checks[name] = self._compile(self.info(name).contents, self.info(name).id)
        return self._checks[name]

    def subschema_check(self, subschema: Mapping[str, Any]) -> jsonschema_rs.Validator | None:
        """The jsonschema-rs validator of one subschema of the registry (or of a schema of
        its own), its ``$ref``s resolved where it is written; cached by identity."""
        key = id(subschema)
        cached = self._subschema_checks.get(key)
        if cached is not None and cached[0] is subschema:
            return cached[1]
        with self._lock:
            check = self._compile(subschema, self.base_uri_of(subschema) or None)
            if self.base_uri_of(subschema):  # registry contents live as long as the registry
                self._subschema_checks[key] = (subschema, check)
        return check

    def _compile(
        self, contents: Mapping[str, Any], base_uri: str | None
    ) -> jsonschema_rs.Validator | None:
        import jsonschema_rs

        from uet.artifacts.formats import FORMAT_TESTS

        # Every format is checked as jsonschema does with FORMAT_CHECKER: ours by
        # FORMAT_TESTS, any other one is an annotation only (those jsonschema-rs knows are
        # overridden; it ignores the others).
        formats = dict.fromkeys(JSONSCHEMA_RS_FORMATS, _annotation)
        formats.update(FORMAT_TESTS)
        try:
            return jsonschema_rs.validator_for(
                dict(contents),
                base_uri=base_uri,
                retriever=self._retrieve,
                formats=formats,
                validate_formats=True,
                ignore_unknown_formats=True,
            )
        except ValueError:  # an unresolvable $ref, a bad regex: jsonschema explains it
            return None

    def _retrieve(self, uri: str) -> dict[str, Any]:
        """The schema whose ``$id`` is ``uri``, for jsonschema-rs: never fetched, only read
        from the registry (a bundled id names its file, so usually only that one is read)."""
        if uri.startswith(ID_PREFIX) and uri.endswith(SCHEMA_SUFFIX):
            name = uri[len(ID_PREFIX) : -len(SCHEMA_SUFFIX)]
            if name in self._sources and self.info(name).id == uri:
                return dict(self.info(name).contents)
        by_id = self._by_id
        if by_id is None:
            by_id = self._by_id = {info.id: info.contents for info in self._all_infos()}
        found = by_id.get(uri)
        if found is None:
            raise LookupError(f"no schema {uri!r} in the registry (schemas are never fetched)")
        return dict(found)

    def _build_aliases(self) -> dict[str, str]:
        aliases: dict[str, str] = {}
        for info in self._all_infos():
            name = info.name
            aliases[info.id] = name
            aliases[f"{name}{SCHEMA_SUFFIX}"] = name
            aliases[f"{name}.v1.json"] = name
            aliases[f"{name}.json"] = name
            aliases[f"{name.replace('_', '-')}.v1.json"] = name  # the original doc-meta.v1.json
        return aliases


def judgeable(value: object) -> bool:
    """Whether jsonschema-rs judges ``value`` as jsonschema does: JSON has no NaN or
    infinity (YAML's ``.inf``, JSON's ``1e400``), and jsonschema-rs reads them as null, so
    ``.inf`` would pass ``maximum: 5``."""
    try:
        json.dumps(value, allow_nan=False, check_circular=False)
    except (ValueError, TypeError, RecursionError):
        return False
    return True


def _annotation(value: object) -> bool:
    """A format we do not check: an annotation only, as in jsonschema."""
    return True


def _read_schema(path: Any) -> Mapping[str, Any]:
    contents: Mapping[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return contents


def _schema_info(name: str, contents: Mapping[str, Any]) -> SchemaInfo:
    return SchemaInfo(
        name=name,
        id=str(contents.get("$id") or f"{ID_PREFIX}{name}{SCHEMA_SUFFIX}"),
        title=str(contents.get("title", name)),
        description=str(contents.get("description", "")),
        contents=contents,
    )


@cache
def bundled_registry() -> SchemaRegistry:
    """The registry of the schemas shipped with uet-lsp (loaded once per process)."""
    folder = schemas_dir()
    files = [entry for entry in folder.iterdir() if entry.name.endswith(SCHEMA_SUFFIX)]
    return SchemaRegistry.from_files(files)
