"""Reading the files a run needs: the workstream and the router config.

Files are checked by :mod:`uet.artifacts` against their schemas first; a file with an
error-severity diagnostic is refused with the diagnostics formatted as
``path:line:col: error CODE message`` lines (in :class:`SpecError.problems`). The valid
plain values are then turned into the engine's frozen specs.

A JSON file is first read the fast way: the stdlib (C) parser, then the registry's validity
check (jsonschema-rs, ``is_valid``). Only when that does not say "valid" (a syntax error, a
duplicate key, ``NaN``, a schema error, an oversized or non-UTF-8 file) is the file checked
again by the positional checker, whose diagnostics point at lines and columns. Both accept
exactly the same files; the fast way costs a fraction of the positional parse on a
workstream of thousands of tasks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from uet.engine.errors import SpecError
from uet.engine.planning.router_config import RouterConfig, parse_router_config
from uet.engine.planning.spec import WorkstreamSpec, parse_workstream
from uet.engine.workspace import Workspace

__all__ = [
    "CheckedDocument",
    "check_document",
    "load_router_config_value",
    "load_workstream_value",
]


# What the positional loader refuses before parsing (uet.artifacts.loader's defaults).
_MAX_FILE_BYTES = 5 * 1024 * 1024
_BINARY_SNIFF_BYTES = 8192


class _NotFast(Exception):
    """The fast way cannot vouch for this file: check it the positional way."""


class CheckedDocument(NamedTuple):
    """A file that passed its schema: its plain value."""

    value: Any


def check_document(path: Path, schema: str, workspace: Workspace) -> CheckedDocument:
    """The checked document at ``path`` once it passed ``schema``; raises
    :class:`SpecError`."""
    try:
        return _fast_value(path, schema)
    except _NotFast:
        pass
    from uet.artifacts.checking import check_file

    report = check_file(path, schema, root=workspace.root)
    if not report.ok or report.value is None:
        shown = workspace.relative(path)
        problems = report.format_lines(shown) or [f"{shown}: cannot be read as {schema}"]
        raise SpecError(f"{shown} is not a valid {schema}", problems)
    return CheckedDocument(report.value)


def _fast_value(path: Path, schema: str) -> CheckedDocument:
    """The value of a JSON file that is certainly valid against ``schema``; raises
    :class:`_NotFast` whenever the positional checker could have something to say."""
    if path.suffix.lower() != ".json":
        raise _NotFast
    try:
        data = path.read_bytes()
    except OSError:
        raise _NotFast from None
    if len(data) > _MAX_FILE_BYTES or b"\x00" in data[:_BINARY_SNIFF_BYTES]:
        raise _NotFast
    try:
        text = data.decode("utf-8")
        value = json.loads(
            text, object_pairs_hook=_object_without_duplicates, parse_constant=_refuse_constant
        )
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
        raise _NotFast from None
    from uet.artifacts.registry import bundled_registry

    registry = bundled_registry()
    name = registry.lookup(schema)
    if name is None or not registry.is_valid(name, value):
        raise _NotFast
    return CheckedDocument(value)


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise _NotFast  # a duplicate key: the positional checker reports it
    return value


def _refuse_constant(name: str) -> Any:
    raise _NotFast  # NaN / Infinity are not JSON


def load_workstream_value(
    path: Path, workspace: Workspace
) -> tuple[CheckedDocument, WorkstreamSpec]:
    """The checked workstream file and its spec."""
    checked = check_document(path, "workstream_spec", workspace)
    return checked, workstream_from_value(checked.value, workspace.relative(path))


def load_router_config_value(
    path: Path | None, workspace: Workspace
) -> tuple[CheckedDocument, RouterConfig]:
    """The checked router config (explicit ``path``, else ``<root>/router_config.json``).

    Without an explicit path a missing default file means an empty config: tasks must
    then carry their own ``command``.
    """
    if path is None:
        path = workspace.router_config_path
        if not path.exists():
            return CheckedDocument(None), RouterConfig()
    checked = check_document(path, "router_config", workspace)
    return checked, router_config_from_value(checked.value, workspace.relative(path))


def workstream_from_value(value: Any, shown: str = "workstream") -> WorkstreamSpec:
    """The workstream spec of a checked value; raises :class:`SpecError`."""
    spec, problems = parse_workstream(value)
    if spec is None:
        raise SpecError(f"{shown} cannot be run", [f"{shown}: {item}" for item in problems])
    return spec


def router_config_from_value(value: Any, shown: str = "router config") -> RouterConfig:
    """The router config of a checked value (``None``: empty); raises :class:`SpecError`."""
    if value is None:
        return RouterConfig()
    config, problems = parse_router_config(value)
    if config is None:
        raise SpecError(f"{shown} cannot be used", [f"{shown}: {item}" for item in problems])
    return config
