"""Which language a source file is in, and that language's tree-sitter parser and tags query.

A language is known by the suffix of its file name. Its grammar comes from the tree-sitter
organisation's wheel (compiled, offline) and is imported only when a file of that language
is first parsed, so listing a repository or using one language loads nothing else. The
parser and the compiled tags query (``queries/<language>-tags.scm``, our own) are built once
per process (a parser per thread): compiling a query is much dearer than running it.
"""

from __future__ import annotations

import functools
import importlib
import threading
from pathlib import Path
from typing import Final, NamedTuple

from tree_sitter import Language, Parser, Query

__all__ = [
    "LANGUAGES",
    "SUFFIXES",
    "language_for",
    "parser_for",
    "tags_query",
    "tree_sitter_language",
]

QUERIES_DIR: Final = Path(__file__).with_name("queries")
_THREAD = threading.local()


class _Grammar(NamedTuple):
    module: str  # the grammar wheel's module
    function: str  # its function returning the language pointer


_GRAMMARS: Final[dict[str, _Grammar]] = {
    "python": _Grammar("tree_sitter_python", "language"),
    "javascript": _Grammar("tree_sitter_javascript", "language"),
    "typescript": _Grammar("tree_sitter_typescript", "language_typescript"),
    "tsx": _Grammar("tree_sitter_typescript", "language_tsx"),
    "go": _Grammar("tree_sitter_go", "language"),
    "rust": _Grammar("tree_sitter_rust", "language"),
    "java": _Grammar("tree_sitter_java", "language"),
    "c": _Grammar("tree_sitter_c", "language"),
    "cpp": _Grammar("tree_sitter_cpp", "language"),
    "ruby": _Grammar("tree_sitter_ruby", "language"),
}

# The query files of languages whose grammar extends another's: JavaScript's patterns apply
# to TypeScript except where the two spell a node differently, C's apply to C++.
_QUERY_PARTS: Final[dict[str, tuple[str, ...]]] = {
    "javascript": ("javascript", "ecmascript", "jsx"),
    "typescript": ("typescript", "ecmascript"),
    "tsx": ("typescript", "ecmascript", "jsx"),
    "cpp": ("cpp", "c"),
}

LANGUAGES: Final = frozenset(_GRAMMARS)

# Lower-cased file suffix -> language. ``.h`` is C: a C++ header usually says so (``.hpp``),
# and C's grammar reads the declarations of most C++ headers' C subset anyway.
SUFFIXES: Final[dict[str, str]] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".rb": "ruby",
}


def language_for(path: str) -> str | None:
    """The language of a file by its name's suffix, or ``None`` when it is not one we parse."""
    name = path.rpartition("/")[2]
    dot = name.rfind(".")
    if dot <= 0:
        return None  # no suffix, or a dot file such as ``.gitignore``
    return SUFFIXES.get(name[dot:].lower())


@functools.cache
def tree_sitter_language(language: str) -> Language:
    """The compiled grammar of ``language`` (one of ``LANGUAGES``), imported on first use."""
    grammar = _GRAMMARS[language]
    module = importlib.import_module(grammar.module)
    return Language(getattr(module, grammar.function)())


def parser_for(language: str) -> Parser:
    """This thread's parser for ``language``: a parser is reusable but runs one parse at a
    time, so threads (the language server's workers) each get their own."""
    parsers: dict[str, Parser] | None = getattr(_THREAD, "parsers", None)
    if parsers is None:
        parsers = _THREAD.parsers = {}
    parser = parsers.get(language)
    if parser is None:
        parser = parsers[language] = Parser(tree_sitter_language(language))
    return parser


@functools.cache
def tags_query(language: str) -> Query:
    """The compiled tags query of ``language``: its ``queries/<part>-tags.scm`` files (one
    for most languages; TypeScript's, TSX's and C++'s add the patterns of the grammar their
    grammar extends)."""
    text = "\n".join(
        (QUERIES_DIR / f"{part}-tags.scm").read_text(encoding="utf-8")
        for part in _QUERY_PARTS.get(language, (language,))
    )
    return Query(tree_sitter_language(language), text)
