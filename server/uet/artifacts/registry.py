"""The schema registry: the single source of truth for validation, hover, completion and
generation.

Schemas are ``schemas/<name>.schema.json`` (JSON Schema 2020-12), bundled with the package.
Every ``$ref`` resolves offline through a ``referencing.Registry``; a reference to anything
outside the registry fails with ``NoSuchResource`` instead of touching the network.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import referencing
import referencing.exceptions
from jsonschema.protocols import Validator
from referencing.jsonschema import DRAFT202012

from uet.resources import schemas_dir

if TYPE_CHECKING:
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


@dataclass(frozen=True, slots=True)
class SchemaInfo:
    """What the registry knows about one schema."""

    name: str
    id: str
    title: str
    description: str
    contents: Mapping[str, Any]


def _refuse_retrieval(uri: str) -> referencing.Resource[Any]:
    """Never fetch: everything a schema references must be in the registry."""
    raise referencing.exceptions.NoSuchResource(ref=uri)  # type: ignore[call-arg]


class SchemaRegistry:
    """Schemas by name, with cached compiled validators (thread-safe)."""

    def __init__(self, schemas: Mapping[str, Mapping[str, Any]]) -> None:
        self._infos: dict[str, SchemaInfo] = {}
        resources: list[tuple[str, referencing.Resource[Any]]] = []
        for name, contents in sorted(schemas.items()):
            schema_id = str(contents.get("$id") or f"{ID_PREFIX}{name}{SCHEMA_SUFFIX}")
            self._infos[name] = SchemaInfo(
                name=name,
                id=schema_id,
                title=str(contents.get("title", name)),
                description=str(contents.get("description", "")),
                contents=contents,
            )
            resources.append((schema_id, DRAFT202012.create_resource(contents)))
        self._registry: referencing.Registry[Any] = referencing.Registry(
            retrieve=_refuse_retrieval  # type: ignore[call-arg]
        ).with_resources(resources)
        self._validators: dict[str, Validator] = {}
        self._checks: dict[str, Check | None] = {}
        self._owners: dict[int, str] | None = None
        self._validator_type: type[Validator] | None = None
        self._lock = threading.Lock()
        self._aliases = self._build_aliases()

    @classmethod
    def from_files(cls, paths: Iterable[Any]) -> SchemaRegistry:
        """Build a registry from ``*.schema.json`` files (``Path`` or ``Traversable``)."""
        schemas: dict[str, Mapping[str, Any]] = {}
        for path in paths:
            name = str(path.name)[: -len(SCHEMA_SUFFIX)]
            schemas[name] = json.loads(path.read_text(encoding="utf-8"))
        return cls(schemas)

    @property
    def referencing_registry(self) -> referencing.Registry[Any]:
        """The offline ``referencing.Registry`` holding every schema."""
        return self._registry

    def names(self) -> list[str]:
        """All schema names, sorted."""
        return sorted(self._infos)

    def artifact_names(self) -> list[str]:
        """Names of the schemas a file can be associated with."""
        return [name for name in self.names() if name not in NON_ARTIFACT_SCHEMAS]

    def __contains__(self, name: object) -> bool:
        return name in self._infos

    def info(self, name: str) -> SchemaInfo:
        """The schema called ``name``; ``KeyError`` when there is none."""
        return self._infos[name]

    def lookup(self, reference: str) -> str | None:
        """The schema name for a ``$schema`` value or modeline: a name, an ``$id``, a file
        name (``task_spec.schema.json``) or the original UET file name
        (``schema/task_spec.v1.json``). ``None`` when nothing matches."""
        reference = reference.strip()
        if reference in self._infos:
            return reference
        found = self._aliases.get(reference)
        if found is not None:
            return found
        tail = reference.rsplit("/", 1)[-1].split("#", 1)[0]
        return self._aliases.get(tail)

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
                    self._infos[name].contents,
                    registry=self._registry,
                    format_checker=FORMAT_CHECKER,
                )
                self._validators[name] = validator
        return validator

    def _validator_class(self) -> type[Validator]:
        """jsonschema's Draft 2020-12 validator, pruned by compiled subschema checks so
        that errors cost time in proportion to the broken part of a document (called
        with the lock held)."""
        if self._validator_type is None:
            from uet.artifacts.formats import FORMAT_CHECKER
            from uet.artifacts.pruned import SubschemaChecks, pruning_validator_class

            checks = SubschemaChecks(self._registry, FORMAT_CHECKER, self.resolver_for)
            self._validator_type = pruning_validator_class(checks)
        return self._validator_type

    def resolver_for(self, subschema: object) -> Any:
        """A ``referencing`` resolver based at the schema resource that contains
        ``subschema`` (found by identity), for resolving its relative ``$ref``s."""
        if self._owners is None:
            owners: dict[int, str] = {}
            for info in self._infos.values():
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
        return self._registry.resolver(base_uri=base)

    def fast_check(self, name: str) -> Check | None:
        """A compiled validity predicate for ``name`` (``None`` when the schema uses a
        keyword the compiler does not cover; callers then use ``validator``)."""
        if name in self._checks:
            return self._checks[name]
        with self._lock:
            if name not in self._checks:
                from uet.artifacts.fastcheck import Unsupported, compile_check
                from uet.artifacts.formats import FORMAT_CHECKER

                try:
                    check: Check | None = compile_check(
                        self._infos[name].id, self._registry, FORMAT_CHECKER
                    )
                except Unsupported:
                    check = None
                self._checks[name] = check
        return self._checks[name]

    def _build_aliases(self) -> dict[str, str]:
        aliases: dict[str, str] = {}
        for name, info in self._infos.items():
            aliases[info.id] = name
            aliases[f"{name}{SCHEMA_SUFFIX}"] = name
            aliases[f"{name}.v1.json"] = name
            aliases[f"{name}.json"] = name
            aliases[f"{name.replace('_', '-')}.v1.json"] = name  # the original doc-meta.v1.json
        return aliases


@cache
def bundled_registry() -> SchemaRegistry:
    """The registry of the schemas shipped with uet-lsp (loaded once per process)."""
    folder = schemas_dir()
    files = [entry for entry in folder.iterdir() if entry.name.endswith(SCHEMA_SUFFIX)]
    return SchemaRegistry.from_files(files)
