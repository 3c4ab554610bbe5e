"""The tags of one source file: what it defines and which names it uses.

tree-sitter parses the file and the language's tags query (``queries/<language>-tags.scm``)
names the nodes: ``@name.definition.<kind>`` is a definition's identifier (its line is the
signature the map shows) and ``@definition.<kind>`` the whole definition around it;
``@name.reference.<kind>`` is a use of a name. Parsing never fails: a file with syntax
errors yields the tags tree-sitter could still recognise, flagged ``parse_errors``, and
bytes that are not text decode with replacement characters.
"""

from __future__ import annotations

from typing import Final

from tree_sitter import Node, QueryCursor

from uet.context.languages import parser_for, tags_query
from uet.context.model import Definition, FileTags

__all__ = ["KIND_PRECEDENCE", "MAX_SIGNATURE_CHARS", "file_tags"]

# A signature line longer than this is cut: the map shows where a definition is, not all
# of a generated one-liner.
MAX_SIGNATURE_CHARS = 200
# When patterns capture one identifier as definitions of several kinds, the specific kind
# wins: a function in a class body is a method, ``const f = () => ...`` a function rather
# than a constant, a Go struct type a class rather than a type. (Captures, unlike matches,
# do not say which pattern found a node; they are also half the query's time.)
KIND_PRECEDENCE: Final = (
    "method",
    "class",
    "interface",
    "function",
    "macro",
    "module",
    "field",
    "constant",
    "variable",
    "type",
)
_RANK: Final = {kind: rank for rank, kind in enumerate(KIND_PRECEDENCE)}
_DEFINITION_NAME = "name.definition."
_REFERENCE_NAME = "name.reference."
# Enough bytes for MAX_SIGNATURE_CHARS characters of UTF-8 and the whitespace after them.
_MAX_SIGNATURE_BYTES = 4 * MAX_SIGNATURE_CHARS + 64
# How far before its name a signature may start.
_NAME_LEAD = MAX_SIGNATURE_CHARS - 50


def file_tags(path: str, source: bytes, language: str) -> FileTags:
    """The definitions and references of ``source`` (the bytes of ``path``, in ``language``).

    Each identifier counts once (the first capture of a reference, the ``KIND_PRECEDENCE``
    of a definition's kinds), and an identifier captured as a definition is not also a
    reference. Both come in the order of the source.
    """
    root = parser_for(language).parse(source).root_node
    kinds: dict[int, tuple[Node, str]] = {}  # by the name's start byte
    references: dict[int, Node] = {}
    for capture, nodes in QueryCursor(tags_query(language)).captures(root).items():
        if capture.startswith(_REFERENCE_NAME):
            for node in nodes:
                references.setdefault(node.start_byte, node)
        elif capture.startswith(_DEFINITION_NAME):
            kind = capture[len(_DEFINITION_NAME) :]
            for node in nodes:
                known = kinds.get(node.start_byte)
                if known is None or _rank(kind) < _rank(known[1]):
                    kinds[node.start_byte] = (node, kind)
    for start in kinds:
        references.pop(start, None)
    definitions = (_definition(*kinds[start], source) for start in sorted(kinds))
    # A name tree-sitter made up to recover from an error (MISSING) is empty: no definition.
    names = (_text(references[start]) for start in sorted(references))
    return FileTags(
        path=path,
        language=language,
        definitions=tuple(definition for definition in definitions if definition.name),
        references=tuple(name for name in names if name),
        parse_errors=root.has_error,
    )


def _rank(kind: str) -> int:
    return _RANK.get(kind, len(_RANK))


def _text(node: Node) -> str:
    raw = node.text
    return raw.decode("utf-8", errors="replace") if raw is not None else ""


def _definition(name: Node, kind: str, source: bytes) -> Definition:
    """A definition whose line and signature are the line of its name: the definition's
    first line past the annotations and decorators that some grammars (Java's, TypeScript's)
    count as part of it."""
    # On a long line (minified code that passed as source) the signature starts near the
    # name, so that it shows it.
    line_start = max(source.rfind(b"\n", 0, name.start_byte) + 1, name.start_byte - _NAME_LEAD)
    line_end = source.find(b"\n", line_start, line_start + _MAX_SIGNATURE_BYTES)
    if line_end < 0:
        line_end = line_start + _MAX_SIGNATURE_BYTES
    text = source[line_start:line_end].decode("utf-8", errors="replace")
    signature = text.rstrip()[:MAX_SIGNATURE_CHARS].rstrip()
    return Definition(name=_text(name), kind=kind, line=name.start_point.row, signature=signature)
