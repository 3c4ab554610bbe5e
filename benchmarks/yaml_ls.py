"""yaml-language-server, the anchor of the language-server benchmarks.

The usual YAML language server (Red Hat's, in Node), given a JSON schema for the same
workstreams, so that it reports a diagnostic on the same broken value as uet does. It comes
from npm through ``editor-clients/scripts/ensure-deps.sh`` into a cache outside the
repository (once; offline afterwards). Used by ``lsp_latency.py`` and ``editor_startup.py``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["REPO", "bundled_schema", "ensure_deps", "settings", "version"]

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "editor-clients" / "scripts"


def ensure_deps(parts: list[str]) -> dict[str, str]:
    """Installs (or finds in the cache) what ``parts`` name; returns ensure-deps.sh's variables
    (``UET_YAML_LS``: the yaml-language-server executable)."""
    out = subprocess.run(
        ["bash", str(SCRIPTS / "ensure-deps.sh"), *parts],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def version(executable: str) -> str:
    """The installed version, read from the cache folder's name."""
    return Path(executable).parents[2].name.removeprefix("yaml-language-server-")


def settings(schema: Path) -> dict[str, Any]:
    """The ``yaml`` settings section: validate every ``*.yaml`` against ``schema``, with no
    schema store (it would be fetched from the network)."""
    return {
        "validate": True,
        "schemaStore": {"enable": False},
        "schemas": {schema.as_uri(): "*.yaml"},
    }


def bundled_schema(target: Path) -> Path:
    """The workstream schema as one self-contained file, for yaml-language-server.

    The repository's schemas refer to each other by relative ``$ref`` against an ``$id`` that
    is not a real address: yaml-language-server would try to fetch them. Every referenced
    file's ``$defs`` move into the one file (``<file>__<def>``), each referenced file's root
    becomes a def of its own, and ``$id``/``$schema`` go.
    """
    schemas = REPO / "schemas"
    root_name = "workstream_spec"
    defs: dict[str, Any] = {}
    pending, seen = [root_name], set()

    def rewrite(node: Any, owner: str) -> Any:
        if isinstance(node, list):
            return [rewrite(item, owner) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("$id", "$schema", "$defs"):
                continue
            out[key] = local_ref(value, owner) if key == "$ref" else rewrite(value, owner)
        return out

    def local_ref(ref: str, owner: str) -> str:
        file, _, pointer = ref.partition("#")
        name = file.removesuffix(".schema.json") if file else owner
        if file and name not in seen:
            pending.append(name)
        if pointer.startswith("/$defs/"):
            return f"#/$defs/{name}__{pointer.removeprefix('/$defs/')}"
        return "#" if name == root_name else f"#/$defs/{name}"

    bundle: dict[str, Any] = {}
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        schema = json.loads((schemas / f"{name}.schema.json").read_text())
        for def_name, definition in schema.get("$defs", {}).items():
            defs[f"{name}__{def_name}"] = rewrite(definition, name)
        if name == root_name:
            bundle = rewrite(schema, name)
        else:
            defs[name] = rewrite(schema, name)
    bundle["$defs"] = defs
    target.write_text(json.dumps(bundle, indent=1))
    return target
