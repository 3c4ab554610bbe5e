"""Reads artifact files into positional trees: bytes → text → documents + problems.

Every artifact read in uet-lsp goes through here (an architecture invariant), so size
limits, binary detection, encoding errors and parser guards apply everywhere the same way.
Nothing here raises on user input: problems are returned as diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from uet.artifacts.diagnostics import Diagnostic, Severity
from uet.artifacts.json_parser import parse_json
from uet.artifacts.positions import LineIndex, Span
from uet.artifacts.tree import Document
from uet.artifacts.yaml_parser import parse_yaml

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "JSON_SUFFIXES",
    "YAML_SUFFIXES",
    "Language",
    "ParsedFile",
    "detect_language",
    "load_bytes",
    "load_path",
    "load_text",
]

Language = Literal["json", "yaml"]
DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024
JSON_SUFFIXES = frozenset({".json", ".jsonc", ".json5"})
YAML_SUFFIXES = frozenset({".yaml", ".yml"})
_BINARY_SNIFF_BYTES = 8192


@dataclass(slots=True, eq=False)
class ParsedFile:
    """One file: its text, its documents (YAML may hold several) and loading problems."""

    path: str
    text: str
    language: Language
    documents: list[Document]
    problems: list[Diagnostic]
    _line_index: LineIndex | None = field(default=None, repr=False)

    @property
    def line_index(self) -> LineIndex:
        """Line/column conversions for ``text`` (built on first use)."""
        if self._line_index is None:
            self._line_index = LineIndex(self.text)
        return self._line_index

    @property
    def value(self) -> object:
        """The plain value of the first document, or ``None``."""
        if not self.documents or self.documents[0].root is None:
            return None
        return self.documents[0].root.value


def detect_language(path: str, text: str = "") -> Language:
    """JSON or YAML by suffix; otherwise by content (JSON starts with ``{`` or ``[``)."""
    suffix = Path(path).suffix.lower()
    if suffix in JSON_SUFFIXES:
        return "json"
    if suffix in YAML_SUFFIXES:
        return "yaml"
    return "json" if text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[") else "yaml"


def load_text(text: str, path: str = "", language: Language | None = None) -> ParsedFile:
    """Parse already-decoded ``text`` (e.g. an editor buffer)."""
    language = language or detect_language(path, text)
    if language == "json":
        result = parse_json(text, path)
        documents = [result.document] if result.document is not None else []
        return ParsedFile(path, text, "json", documents, result.problems)
    yaml_result = parse_yaml(text, path)
    return ParsedFile(path, text, "yaml", yaml_result.documents, yaml_result.problems)


def load_bytes(
    data: bytes,
    path: str = "",
    language: Language | None = None,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> ParsedFile:
    """Decode and parse file contents, refusing oversized, binary and non-UTF-8 input."""
    language = language or detect_language(path)
    if len(data) > max_bytes:
        return _refused(
            path,
            language,
            "UET103",
            f"file is {len(data):,} bytes, over the {max_bytes:,}-byte limit "
            "(setting uet.maxFileSize); it is not validated",
        )
    if b"\x00" in data[:_BINARY_SNIFF_BYTES]:
        return _refused(path, language, "UET104", "binary file (contains NUL bytes); not validated")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8", "replace")
        offset = len(good)
        return ParsedFile(
            path,
            good,
            language,
            [],
            [
                Diagnostic(
                    Span(offset, offset),
                    Severity.ERROR,
                    "UET104",
                    f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at byte offset "
                    f"{exc.start}); save it as UTF-8",
                )
            ],
        )
    if text.startswith("\ufeff"):
        text = " " + text[1:]  # keep offsets stable; a BOM is not content
    return load_text(text, path, language)


def load_path(
    path: Path, language: Language | None = None, max_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> ParsedFile:
    """Read and parse a file; unreadable files come back as one diagnostic."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return _refused(
                name,
                language or detect_language(name),
                "UET103",
                f"file is {size:,} bytes, over the {max_bytes:,}-byte limit "
                "(setting uet.maxFileSize); it is not validated",
            )
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return _refused(name, language or detect_language(name), "UET109", f"cannot read: {reason}")
    return load_bytes(data, name, language, max_bytes)


def _refused(path: str, language: Language, code: str, message: str) -> ParsedFile:
    return ParsedFile(
        path, "", language, [], [Diagnostic(Span(0, 0), Severity.ERROR, code, message)]
    )
