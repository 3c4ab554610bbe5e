"""The tags of one source file: what it defines and which names it uses.

tree-sitter parses the file and the language's tags query (``queries/<language>-tags.scm``)
names the nodes: ``@name.definition.<kind>`` is a definition's identifier and
``@definition.<kind>`` the whole definition around it (its first line is the signature the
map shows); ``@name.reference.<kind>`` is a use of a name. Parsing never fails: a file with
syntax errors yields the tags tree-sitter could still recognise, flagged ``parse_errors``,
and bytes that are not text decode with replacement characters.
"""

from __future__ import annotations

from tree_sitter import Node, QueryCursor

from uet.context.languages import parser_for, tags_query
from uet.context.model import Definition, FileTags

__all__ = ["MAX_SIGNATURE_CHARS", "file_tags"]

# A signature line longer than this is cut: the map shows where a definition is, not all
# of a generated one-liner.
MAX_SIGNATURE_CHARS = 200
_DEFINITION_NAME = "name.definition."
_REFERENCE_NAME = "name.reference."
# Enough bytes for MAX_SIGNATURE_CHARS characters of UTF-8 and the whitespace after them.
_MAX_SIGNATURE_BYTES = 4 * MAX_SIGNATURE_CHARS + 64


def file_tags(path: str, source: bytes, language: str) -> FileTags:
    """The definitions and references of ``source`` (the bytes of ``path``, in ``language``).

    When two patterns capture the same identifier as a definition, the one written first in
    the query wins (queries list the specific kind, a method, before the general one, a
    function). An identifier captured as a definition is never also a reference.
    """
    tree = parser_for(language).parse(source)
    root = tree.root_node
    definitions: dict[tuple[int, int], tuple[int, Definition]] = {}
    references: dict[tuple[int, int], str] = {}
    for pattern, captures in QueryCursor(tags_query(language)).matches(root):
        for capture, nodes in captures.items():
            if capture.startswith(_DEFINITION_NAME):
                kind = capture[len(_DEFINITION_NAME) :]
                for node in nodes:
                    key = (node.start_byte, node.end_byte)
                    known = definitions.get(key)
                    if known is None or pattern < known[0]:
                        definitions[key] = (pattern, _definition(node, kind, source))
            elif capture.startswith(_REFERENCE_NAME):
                for node in nodes:
                    references.setdefault((node.start_byte, node.end_byte), _text(node))
    for key in definitions:
        references.pop(key, None)
    ordered = sorted(definitions.items())
    return FileTags(
        path=path,
        language=language,
        definitions=tuple(definition for _, (_, definition) in ordered),
        references=tuple(name for _, name in sorted(references.items()) if name),
        parse_errors=root.has_error,
    )


def _text(node: Node) -> str:
    raw = node.text
    return raw.decode("utf-8", errors="replace") if raw is not None else ""


def _definition(name: Node, kind: str, source: bytes) -> Definition:
    """A definition whose line and signature are the line of its name: the definition's
    first line past the annotations and decorators that some grammars (Java's, TypeScript's)
    count as part of it."""
    line_start = source.rfind(b"\n", 0, name.start_byte) + 1
    line_end = source.find(b"\n", line_start, line_start + _MAX_SIGNATURE_BYTES)
    if line_end < 0:
        line_end = line_start + _MAX_SIGNATURE_BYTES
    text = source[line_start:line_end].decode("utf-8", errors="replace")
    signature = text.rstrip()[:MAX_SIGNATURE_CHARS].rstrip()
    return Definition(name=_text(name), kind=kind, line=name.start_point.row, signature=signature)
