"""The schema registry: the single source of truth for validation, hover, completion and
generation.

Schemas are ``schemas/<name>.schema.json`` (JSON Schema 2020-12), bundled with the package.
Every ``$ref`` resolves offline through a ``referencing.Registry``; a reference to anything
outside the registry fails with ``NoSuchResource`` instead of touching the network.

jsonschema and ``referencing`` (~45 ms of imports) are loaded only when a validator is
asked for: the compiled checks (:meth:`SchemaRegistry.fast_check`) follow ``$ref`` with the
registry's own offline lookup (:mod:`uet.artifacts.refs`), so that a valid document — the
engine's workstream on every ``uet run`` — is checked without them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from functools import cache, partial
from typing import TYPE_CHECKING, Any, NamedTuple

from uet.resources import schemas_dir

if TYPE_CHECKING:
    import referencing
    from jsonschema.protocols import Validator

    from uet.artifacts.fastcheck import Check

__all__ = [
    "ID_PREFIX",
    "NON_ARTIFACT_SCHEMAS",
    "SCHEMA_SUFFIX",
    "SchemaInfo",
    "SchemaRegistry",
    "bundled_registry",
]

SCHEMA_SUFFIX = ".schema.json"
# ``.invalid`` (RFC 2606) can never resolve: the ids are names, not download locations.
ID_PREFIX = "https://uet.invalid/schemas/v1/"
# Schemas holding shared definitions only; they are never associated with a file.
NON_ARTIFACT_SCHEMAS = frozenset({"common"})


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
        self._checks: dict[str, Check | None] = {}
        self._owners: dict[int, str] | None = None
        self._validator_type: type[Validator] | None = None
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
        importing ``referencing`` is what the compiled checks avoid)."""
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
        """The compiled validator for ``name`` (built once, then cached)."""
        validator = self._validators.get(name)
        if validator is not None:
            return validator
        with self._lock:
            validator = self._validators.get(name)
            if validator is None:
                from uet.artifacts.formats import FORMAT_CHECKER

                validator = self._validator_class()(
                    self.info(name).contents,
                    registry=self.referencing_registry,
                    format_checker=FORMAT_CHECKER,
                )
                self._validators[name] = validator
        return validator

    def _validator_class(self) -> type[Validator]:
        """jsonschema's Draft 2020-12 validator, pruned by compiled subschema checks so
        that errors cost time in proportion to the broken part of a document (called
        with the lock held)."""
        if self._validator_type is None:
            from uet.artifacts.formats import FORMATS
            from uet.artifacts.pruned import SubschemaChecks, pruning_validator_class

            checks = SubschemaChecks(FORMATS, self.resolver_for)
            self._validator_type = pruning_validator_class(checks)
        return self._validator_type

    def resolver_for(self, subschema: object) -> Any:
        """A ``referencing`` resolver based at the schema resource that contains
        ``subschema`` (found by identity), for resolving its relative ``$ref``s."""
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
        base = self._owners.get(id(subschema), "")
        return self.referencing_registry.resolver(base_uri=base)

    def fast_check(self, name: str) -> Check | None:
        """A compiled validity predicate for ``name`` (``None`` when the schema uses a
        keyword the compiler does not cover, or a ``$ref`` the offline lookup does not
        follow; callers then use ``validator``)."""
        if name in self._checks:
            return self._checks[name]
        with self._lock:
            if name not in self._checks:
                from uet.artifacts.fastcheck import Unsupported, compile_check
                from uet.artifacts.formats import FORMATS
                from uet.artifacts.refs import OfflineResolver, UnresolvableReference

                schema_id = self.info(name).id
                try:
                    check: Check | None = compile_check(
                        schema_id, OfflineResolver(self._schema_for, schema_id), FORMATS
                    )
                except (Unsupported, UnresolvableReference):
                    check = None
                self._checks[name] = check
        return self._checks[name]

    def _schema_for(self, uri: str) -> Mapping[str, Any] | None:
        """The contents of the schema whose ``$id`` is ``uri`` (``None``: no such schema),
        for the offline ``$ref`` lookup. A bundled id names its file, so usually only that
        schema is read."""
        if uri.startswith(ID_PREFIX) and uri.endswith(SCHEMA_SUFFIX):
            name = uri[len(ID_PREFIX) : -len(SCHEMA_SUFFIX)]
            if name in self._sources and self.info(name).id == uri:
                return self.info(name).contents
        by_id = self._by_id
        if by_id is None:
            by_id = self._by_id = {info.id: info.contents for info in self._all_infos()}
        return by_id.get(uri)

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
