"""How generated artifacts are written as text: stable, readable JSON and YAML.

Deterministic output is what makes re-running ``uet bootstrap`` a no-op and its diffs
small: insertion order is kept, no timestamps, no YAML anchors, and JSON arrays of scalars
stay on one line when they fit (``"command": ["pytest", "-q"]``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

__all__ = ["dump_json", "dump_yaml"]

_INLINE_WIDTH = 80


def dump_json(document: Mapping[str, Any]) -> str:
    """JSON as the generator writes it: two-space indent, UTF-8, final newline, and arrays
    of scalars on one line when they fit (``"command": ["pytest", "-q"]``)."""
    return _json_value(document, 0) + "\n"


def _json_value(value: Any, indent: int) -> str:
    pad = " " * (indent + 2)
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        members = [
            f"{pad}{json.dumps(str(key), ensure_ascii=False)}: {_json_value(item, indent + 2)}"
            for key, item in value.items()
        ]
        return "{\n" + ",\n".join(members) + "\n" + " " * indent + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        inline = json.dumps(value, ensure_ascii=False)
        scalars = all(not isinstance(item, (Mapping, list)) for item in value)
        if scalars and indent + len(inline) <= _INLINE_WIDTH:
            return inline
        items = [f"{pad}{_json_value(item, indent + 2)}" for item in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    return json.dumps(value, ensure_ascii=False)


def dump_yaml(document: Mapping[str, Any]) -> str:
    """Block-style YAML in insertion order (no aliases, no tags)."""
    return yaml.dump(
        dict(document),
        Dumper=_NoAliasDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


class _NoAliasDumper(yaml.SafeDumper):
    """SafeDumper that never writes ``&anchors``/``*aliases`` (shared lists stay copies)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True
