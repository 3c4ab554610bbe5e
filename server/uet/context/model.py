"""The records the repository map is made of: the tags of one file, and what a map shows.

Tags are what tree-sitter's tag queries find in a source file: definitions (a function, a
class, a method, a type, a constant ...) and references (a call, a type use, an import of
a name). They are plain, immutable and JSON-friendly, so they can be cached on disk
(``uet.context.cache``), shipped between processes and ranked without the parse trees.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["CACHE_VERSION", "Definition", "FileTags", "MapEntry"]

# Bumped whenever what a file's tags contain changes (a query, a field, a skip rule):
# a cache written by another version is rebuilt, never read.
CACHE_VERSION = 1


class Definition(NamedTuple):
    """One definition: its identifier, what it is, and where its signature line is."""

    name: str
    kind: str  # the capture's kind: function, method, class, interface, type, module, constant ...
    line: int  # 0-based line of the definition's first line
    signature: str  # that line, stripped of trailing whitespace, bounded in length


class FileTags(NamedTuple):
    """Everything the map needs of one file (workspace-relative POSIX ``path``)."""

    path: str
    language: str
    definitions: tuple[Definition, ...]
    references: tuple[str, ...]  # one entry per reference occurrence (repeats count)
    parse_errors: bool = False  # tree-sitter found ERROR nodes: the tags are what it kept


class MapEntry(NamedTuple):
    """One ranked definition of the rendered map."""

    path: str
    definition: Definition
    rank: float
