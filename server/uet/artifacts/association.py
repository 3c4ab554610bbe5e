"""Which schema applies to a file, and why.

Decided in this order (docs/association.md):
1. a modeline ``# uet: schema=<name>`` in the first lines of a YAML file
   (``schema=none`` opts the file out);
2. a top-level ``$schema``: naming a UET schema (by ``$id``, file name or name), it
   decides; naming any other schema, the file is not an artifact;
3. user associations (setting ``uet.schemas``: schema name → globs; ``none`` opts out);
4. built-in file-name and folder conventions (the layout ``uet bootstrap`` generates and
   the original UET file names);
otherwise the file is not an artifact and gets no diagnostics.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pathspec

from uet.artifacts.diagnostics import Diagnostic, Severity
from uet.artifacts.guards import GLOB_BACKEND
from uet.artifacts.loader import ParsedFile
from uet.artifacts.positions import Span
from uet.artifacts.registry import SchemaRegistry
from uet.artifacts.tree import NodeKind

__all__ = [
    "DEFAULT_CONVENTIONS",
    "NO_SCHEMA",
    "Association",
    "AssociationSettings",
    "associate",
]

NO_SCHEMA = "none"
_MODELINE = re.compile(r"^[ \t]*#[ \t]*uet:[ \t]*schema[ \t]*=[ \t]*(?P<name>[^\s#]+)", re.M)
_MODELINE_LINES = 10
_EXT = ("json", "yaml", "yml")


def _each_ext(*patterns: str) -> tuple[str, ...]:
    return tuple(pattern.replace("{ext}", ext) for pattern in patterns for ext in _EXT)


# Schema name → glob patterns (gitignore syntax, matched against the workspace-relative path).
DEFAULT_CONVENTIONS: dict[str, tuple[str, ...]] = {
    "workstream_spec": _each_ext("**/workstreams/*.{ext}", "*.workstream.{ext}"),
    "router_config": _each_ext("router_config*.{ext}", "router.config.{ext}", "*.router.{ext}"),
    "project_profile": _each_ext(
        "PROJECT_PROFILE.{ext}", "project-profile.{ext}", "project_profile*.{ext}"
    ),
    "phase_spec": _each_ext("**/phases/*.{ext}", "*.phase.{ext}", "**/phase_templates/PH-*.{ext}"),
    "profile_extension": _each_ext(
        "**/profiles/*/profile.{ext}",
        "**/profile_extensions/*.{ext}",
        "profile_extension*.{ext}",
        "*.profile-extension.{ext}",
    ),
    "task_spec": _each_ext("*.task.{ext}"),
    "patch_ledger_entry": _each_ext("**/.ledger/*.{ext}"),
    "bootstrap_discovery": _each_ext("bootstrap_discovery*.{ext}"),
    "bootstrap_report": _each_ext("bootstrap_report*.{ext}"),
    "execution_pattern": _each_ext("*.pattern.{ext}"),
    "verification_template": _each_ext("*.verify.{ext}"),
    "patch_policy": _each_ext("patch_policy*.{ext}"),
}


@dataclass(frozen=True, slots=True)
class AssociationSettings:
    """User associations (schema name or ``none`` → globs), tried before the conventions."""

    schemas: Mapping[str, Sequence[str]] = field(default_factory=dict)
    use_conventions: bool = True


@dataclass(frozen=True, slots=True)
class Association:
    """The schema chosen for a file (``None``: not an artifact) and a sentence saying why."""

    schema: str | None
    reason: str
    source: str  # "modeline", "$schema", "setting", "convention", "forced", "none"
    problem: Diagnostic | None = None


def associate(
    parsed: ParsedFile,
    relative_path: str,
    registry: SchemaRegistry,
    settings: AssociationSettings | None = None,
) -> Association:
    """Decide the schema of ``parsed`` (``relative_path``: posix, relative to its workspace
    root, see ``uet.artifacts.workspace``)."""
    settings = settings or AssociationSettings()
    by_modeline = _from_modeline(parsed, registry)
    if by_modeline is not None:
        return by_modeline
    by_dollar_schema = _from_dollar_schema(parsed, registry)
    if by_dollar_schema is not None:
        return by_dollar_schema
    for name, globs in settings.schemas.items():
        if globs and _spec(tuple(globs)).match_file(relative_path):
            if name == NO_SCHEMA:
                return Association(None, "the setting uet.schemas maps this file to none", "none")
            if name in registry:
                return Association(name, f"the setting uet.schemas maps it to {name}", "setting")
    if settings.use_conventions:
        for name, globs in _conventions(tuple(registry.artifact_names())):
            if _spec(globs).match_file(relative_path):
                return Association(
                    name, f"its path matches the convention for {name}", "convention"
                )
    return Association(None, "no modeline, $schema, setting or naming convention applies", "none")


def _from_modeline(parsed: ParsedFile, registry: SchemaRegistry) -> Association | None:
    if parsed.language != "yaml":
        return None
    head_end = 0
    for _ in range(_MODELINE_LINES):
        next_break = parsed.text.find("\n", head_end)
        if next_break == -1:
            head_end = len(parsed.text)
            break
        head_end = next_break + 1
    match = _MODELINE.search(parsed.text, 0, head_end)
    if match is None:
        return None
    requested = match.group("name")
    if requested == NO_SCHEMA:
        return Association(None, "its modeline says schema=none", "none")
    name = registry.lookup(requested)
    if name is not None:
        return Association(name, f"its modeline names {name}", "modeline")
    return Association(
        None,
        f"its modeline names an unknown schema {requested!r}",
        "modeline",
        _unknown_schema(requested, Span(match.start("name"), match.end("name")), registry),
    )


def _from_dollar_schema(parsed: ParsedFile, registry: SchemaRegistry) -> Association | None:
    if not parsed.documents:
        return None
    root = parsed.documents[0].root
    if root is None or root.kind is not NodeKind.OBJECT:
        return None
    node = root.get("$schema")
    if node is None or not isinstance(node.value, str):
        return None
    name = registry.lookup(node.value)
    if name is not None:
        return Association(name, f"its $schema names {name}", "$schema")
    if "uet" not in node.value.lower():
        # Some other schema (a JSON Schema meta-schema, a tool's config schema): the file
        # follows it, not ours, whatever its name says.
        return Association(
            None, f"its $schema names another schema ({node.value!r}), not a UET one", "none"
        )
    return Association(
        None,
        f"its $schema names an unknown UET schema {node.value!r}",
        "$schema",
        _unknown_schema(node.value, node.span, registry),
    )


def _unknown_schema(requested: str, span: Span, registry: SchemaRegistry) -> Diagnostic:
    import difflib

    names = registry.artifact_names()
    close = difflib.get_close_matches(requested.rsplit("/", 1)[-1], names, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f"; known schemas: {', '.join(names)}"
    return Diagnostic(
        span,
        Severity.ERROR,
        "UET108",
        f"unknown schema {requested!r}{hint}",
        data={"requested": requested, "suggestion": close[0] if close else None},
    )


@lru_cache(maxsize=256)
def _spec(globs: tuple[str, ...]) -> pathspec.PathSpec[Any]:
    return pathspec.PathSpec.from_lines("gitignore", globs, backend=GLOB_BACKEND)


@lru_cache(maxsize=8)
def _conventions(names: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Built-in conventions plus ``<name>.{ext}`` / ``*.<name>.{ext}`` for every schema."""
    ordered: list[tuple[str, tuple[str, ...]]] = [
        (name, globs) for name, globs in DEFAULT_CONVENTIONS.items() if name in names
    ]
    for name in names:
        ordered.append((name, _each_ext(f"{name}.{{ext}}", f"*.{name}.{{ext}}")))
    return tuple(ordered)
