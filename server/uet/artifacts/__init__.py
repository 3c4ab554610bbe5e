"""UET artifact model: schema registry, positional loader, validation and cross-artifact checks.

Plain Python: never imports pygls or lsprotocol. Everything else (bootstrap, engine, lsp,
cli) reads artifacts through this package. Public API:

- ``check_file(path, schema=None)`` / ``check_text(text, path, schema=None)`` → ``FileReport``
  (``.value``, ``.schema``, ``.diagnostics``, ``.ok``, ``.format_lines()``);
- ``load_text`` / ``load_path`` → ``ParsedFile`` (positional trees, loading problems);
- ``bundled_registry()`` → ``SchemaRegistry``;
- ``WorkspaceIndex`` → cross-artifact diagnostics, kept up to date incrementally.
"""

from uet.artifacts.association import Association, AssociationSettings, associate
from uet.artifacts.checking import CheckSettings, FileReport, check_file, check_parsed, check_text
from uet.artifacts.diagnostics import CODES, Diagnostic, Related, Severity
from uet.artifacts.loader import ParsedFile, load_bytes, load_path, load_text
from uet.artifacts.positions import LineCol, LineIndex, Span
from uet.artifacts.registry import SchemaRegistry, bundled_registry
from uet.artifacts.tree import Document, Member, Node, NodeKind

__all__ = [
    "CODES",
    "Association",
    "AssociationSettings",
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
