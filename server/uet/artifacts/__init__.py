"""UET artifact model: schema registry, positional loader, validation and cross-artifact checks.

Plain Python: never imports pygls or lsprotocol. Everything else (bootstrap, engine, lsp,
cli) reads artifacts through this package. Public API:

- ``check_file(path, schema=None)`` / ``check_text(text, path, schema=None)`` → ``FileReport``
  (``.value``, ``.schema``, ``.diagnostics``, ``.ok``, ``.format_lines()``);
- ``load_text`` / ``load_bytes`` / ``load_path`` → ``ParsedFile`` (positional trees, loading
  problems); a long parse polls an optional ``cancelled`` check and raises
  ``CheckCancelled`` when it answers true;
- ``bundled_registry()`` → ``SchemaRegistry``;
- ``WorkspaceIndex`` → cross-artifact diagnostics, kept up to date incrementally.

Names are loaded on first use (PEP 562): importing one submodule, say the registry, does
not pull in YAML, pathspec and the checker with it (the CLI and the server start faster).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from uet.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from uet.artifacts.association import Association, AssociationSettings, associate
    from uet.artifacts.checking import (
        CheckSettings,
        FileReport,
        check_file,
        check_parsed,
        check_text,
    )
    from uet.artifacts.diagnostics import CODES, Diagnostic, Related, Severity
    from uet.artifacts.guards import CheckCancelled
    from uet.artifacts.loader import ParsedFile, load_bytes, load_path, load_text
    from uet.artifacts.positions import LineCol, LineIndex, Span
    from uet.artifacts.registry import SchemaRegistry, bundled_registry
    from uet.artifacts.tree import Document, Member, Node, NodeKind

_SOURCES = {
    "Association": "uet.artifacts.association",
    "AssociationSettings": "uet.artifacts.association",
    "CODES": "uet.artifacts.diagnostics",
    "CheckCancelled": "uet.artifacts.guards",
    "CheckSettings": "uet.artifacts.checking",
    "Diagnostic": "uet.artifacts.diagnostics",
    "Document": "uet.artifacts.tree",
    "FileReport": "uet.artifacts.checking",
    "LineCol": "uet.artifacts.positions",
    "LineIndex": "uet.artifacts.positions",
    "Member": "uet.artifacts.tree",
    "Node": "uet.artifacts.tree",
    "NodeKind": "uet.artifacts.tree",
    "ParsedFile": "uet.artifacts.loader",
    "Related": "uet.artifacts.diagnostics",
    "SchemaRegistry": "uet.artifacts.registry",
    "Severity": "uet.artifacts.diagnostics",
    "Span": "uet.artifacts.positions",
    "associate": "uet.artifacts.association",
    "bundled_registry": "uet.artifacts.registry",
    "check_file": "uet.artifacts.checking",
    "check_parsed": "uet.artifacts.checking",
    "check_text": "uet.artifacts.checking",
    "load_bytes": "uet.artifacts.loader",
    "load_path": "uet.artifacts.loader",
    "load_text": "uet.artifacts.loader",
}


__getattr__, __dir__ = lazy_exports(__name__, _SOURCES, globals())


__all__ = [
    "CODES",
    "Association",
    "AssociationSettings",
    "CheckCancelled",
    "CheckSettings",
    "Diagnostic",
    "Document",
    "FileReport",
    "LineCol",
    "LineIndex",
    "Member",
    "Node",
    "NodeKind",
    "ParsedFile",
    "Related",
    "SchemaRegistry",
    "Severity",
    "Span",
    "associate",
    "bundled_registry",
    "check_file",
    "check_parsed",
    "check_text",
    "load_bytes",
    "load_path",
    "load_text",
]
