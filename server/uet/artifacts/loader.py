"""Reads artifact files into positional trees: bytes → text → documents + problems.

Every artifact read in uet-lsp goes through here (an architecture invariant), so one
bounded way of reading applies everywhere: what a path is (only regular files are read,
opened without blocking, so a FIFO or a device named by a user cannot hang a read), size,
encoding (UTF-8, or UTF-16/32 announced by a byte order mark, as editors decode them),
binary content, and the parsers' bounds (depth, integer size, alias expansion, lone
surrogates: ``uet.artifacts.guards``). Nothing here raises on user input: problems are
returned as diagnostics. The one exception is ``CheckCancelled``, raised when the
caller's own ``cancelled`` check asks a long parse to stop.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from uet.artifacts.diagnostics import Diagnostic, Severity
from uet.artifacts.guards import CancelCheck
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
    "describe_file_kind",
    "describe_path_problem",
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
_READ_CHUNK = 1 << 20
# Byte order marks, longest first (a UTF-32 LE mark starts like a UTF-16 LE one).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


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


def load_text(
    text: str,
    path: str = "",
    language: Language | None = None,
    *,
    cancelled: CancelCheck | None = None,
) -> ParsedFile:
    """Parse already-decoded ``text`` (e.g. an editor buffer). ``cancelled`` is polled
    during long parses, which then raise ``CheckCancelled``."""
    language = language or detect_language(path, text)
    if language == "json":
        result = parse_json(text, path, cancelled)
        documents = [result.document] if result.document is not None else []
        return ParsedFile(path, text, "json", documents, result.problems)
    yaml_result = parse_yaml(text, path, cancelled)
    return ParsedFile(path, text, "yaml", yaml_result.documents, yaml_result.problems)


def load_bytes(
    data: bytes,
    path: str = "",
    language: Language | None = None,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
    *,
    cancelled: CancelCheck | None = None,
) -> ParsedFile:
    """Decode and parse file contents, refusing oversized, binary and undecodable input.

    Text is UTF-8 unless a byte order mark says UTF-16 or UTF-32; the mark is dropped, as
    editors do, so positions are those of the text an editor shows. Surrogates
    encoded in UTF-8 (as an editor buffer with a broken UTF-16 pair gives) are kept as
    lone surrogates, which the parsers report where they are."""
    language = language or detect_language(path)
    if len(data) > max_bytes:
        return _too_big(path, language, len(data), max_bytes)
    encoding, label = next(
        ((name, label) for bom, name, label in _BOMS if data.startswith(bom)), ("utf-8", "UTF-8")
    )
    if label == "UTF-8" and b"\x00" in data[:_BINARY_SNIFF_BYTES]:
        return _refused(path, language, "UET104", "binary file (contains NUL bytes); not validated")
    try:
        text = data.decode(encoding, "surrogatepass" if label == "UTF-8" else "strict")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode(encoding, "replace")
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
                    f"file is not valid {label} (byte 0x{data[exc.start]:02x} at byte offset "
                    f"{exc.start}: {exc.reason}); save it as UTF-8",
                )
            ],
        )
    if text.startswith("\ufeff"):
        text = text[1:]  # a BOM is not content: positions are those an editor shows
    return load_text(text, path, language, cancelled=cancelled)


def load_path(
    path: Path,
    language: Language | None = None,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
    *,
    cancelled: CancelCheck | None = None,
) -> ParsedFile:
    """Read and parse a file; a path that cannot be read as a regular file comes back as
    one diagnostic saying what it is (never a blocking open or an endless read)."""
    name = str(path)
    language = language or detect_language(name)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        code, message = _open_problem(path, exc)
        return _refused(name, language, code, message)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return _refused(
                name,
                language,
                "UET111",
                f"not a regular file: {describe_file_kind(info.st_mode)}; it is not read",
            )
        if info.st_size > max_bytes:
            return _too_big(name, language, info.st_size, max_bytes)
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:  # the file may grow while it is read
            chunk = os.read(fd, min(_READ_CHUNK, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        return _refused(name, language, "UET109", f"cannot read: {_reason(exc)}")
    finally:
        os.close(fd)
    return load_bytes(b"".join(chunks), name, language, max_bytes, cancelled=cancelled)


def describe_file_kind(mode: int) -> str:
    """What a file of ``mode`` is, for a message (``a FIFO (named pipe)``, ...)."""
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISREG, "a regular file"),
    )
    return next((name for test, name in kinds if test(mode)), "a special file")


def describe_path_problem(path: Path, exc: OSError) -> str:
    """Why ``path`` cannot be opened, in words that say what is there: a symbolic link
    loop, a broken symbolic link, a socket, a missing file, ..."""
    return _open_problem(path, exc)[1]


def _open_problem(path: Path, exc: OSError) -> tuple[str, str]:
    if exc.errno == errno.ELOOP:
        return "UET109", "cannot read: symbolic link loop (the link leads back to itself)"
    try:
        info = path.stat()
    except OSError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        return "UET111", f"not a regular file: {describe_file_kind(info.st_mode)}; it is not read"
    if exc.errno == errno.ENOENT and path.is_symlink():
        return "UET109", "cannot read: broken symbolic link (its target does not exist)"
    return "UET109", f"cannot read: {_reason(exc)}"


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


def _too_big(path: str, language: Language, size: int, max_bytes: int) -> ParsedFile:
    return _refused(
        path,
        language,
        "UET103",
        f"file is {size:,} bytes, over the {max_bytes:,}-byte limit "
        "(setting uet.maxFileSize); it is not validated",
    )


def _refused(path: str, language: Language, code: str, message: str) -> ParsedFile:
    return ParsedFile(
        path, "", language, [], [Diagnostic(Span(0, 0), Severity.ERROR, code, message)]
    )
