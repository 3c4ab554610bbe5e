"""The source files of a repository worth mapping, and what was left out and why.

The files come from ``uet.artifacts.files.list_files``, the one workspace walker (it applies
``.gitignore``, never follows a symbolic link out of the root or into a folder, and skips
tool, dependency and build folders). Of those, a file is mapped when its suffix names a
language we parse, it is not too big, and the head of it (its first few KiB, the only part
read) is neither binary, minified nor generated: such files would fill the map with names
nobody edits, or take long to parse for nothing.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from uet.artifacts.files import (
    BUILD_OUTPUT_DIR_NAMES,
    SKIPPED_DIR_NAMES,
    ListingNote,
    ListingOptions,
    SkipCounts,
    list_files,
)
from uet.context.languages import language_for

__all__ = [
    "HEAD_BYTES",
    "MAX_FILE_BYTES",
    "SKIPPED_FOLDERS",
    "HeadSkipReason",
    "SkipReason",
    "SourceFile",
    "SourceListing",
    "SourceSkips",
    "head_skip_reason",
    "in_skipped_folder",
    "source_file",
    "source_files",
    "source_language",
]

MAX_FILE_BYTES: Final = 1_000_000
# Folders the map never enters: the walker's own list plus build output.
SKIPPED_FOLDERS: Final = SKIPPED_DIR_NAMES | BUILD_OUTPUT_DIR_NAMES
# How much of each file is read to judge it: enough for a licence header and a marker.
HEAD_BYTES: Final = 8192
# Minified code: the head's lines average more than this many bytes (only judged on heads
# of at least _MINIFIED_MIN_HEAD bytes, so a short one-line file is still parsed).
_MINIFIED_MEAN_LINE = 300
_MINIFIED_MIN_HEAD = 1024
# Generated code says so near its top: Go's "Code generated ... DO NOT EDIT.", protoc's
# "DO NOT EDIT!", Facebook's and others' "@generated".
_GENERATED_LINES = 5
_GENERATED_MARKER = re.compile(rb"@generated\b|DO NOT EDIT")
# A ``.h`` file is C unless its head shows C++: a namespace, a class or a template at the
# start of a line, or a standard header without a suffix (#include <vector>).
_CPP_IN_HEADER = re.compile(
    rb"^[ \t]*(?:namespace|class|template)\b|^[ \t]*#[ \t]*include[ \t]*<\w+>", re.MULTILINE
)

HeadSkipReason = Literal["binary", "minified", "generated"]
# The fields of SourceSkips.
SkipReason = Literal[HeadSkipReason, "unknown_language", "too_big", "unreadable"]


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file to parse: its root-relative POSIX path, size, mtime and language."""

    path: str
    size: int
    mtime_ns: int
    language: str


@dataclass(frozen=True, slots=True)
class SourceSkips:
    """Files the walker listed but the map leaves out, by reason."""

    unknown_language: int = 0
    binary: int = 0
    too_big: int = 0
    minified: int = 0
    generated: int = 0
    unreadable: int = 0  # vanished or unreadable between the listing and the head's read


@dataclass(frozen=True, slots=True)
class SourceListing:
    """The files to parse under ``root`` (its real path), sorted by path, with what the
    walker skipped (``walker_skips``: ignored, vendored, links ...) and what the map skipped
    (``skipped``)."""

    root: Path
    files: tuple[SourceFile, ...]
    skipped: SourceSkips
    walker_skips: SkipCounts
    truncated: bool = False
    notes: tuple[ListingNote, ...] = field(default=())


def source_files(
    root: Path,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    use_git: bool = True,
    max_files: int | None = None,
) -> SourceListing:
    """List the files under ``root`` to map (``use_git`` False forces the folder walk;
    ``max_files`` bounds the walker's listing, as for the workspace scan)."""
    options = ListingOptions(
        use_git=use_git,
        max_files=max_files,
        skipped_dir_names=SKIPPED_FOLDERS,
    )
    listing = list_files(root, options)
    prefix = str(listing.root) + os.sep
    files: list[SourceFile] = []
    skipped: Counter[str] = Counter()
    for entry in listing.files:
        judged = _judge(prefix + entry.path, entry.path, entry.size, max_bytes)
        if isinstance(judged, SourceFile):
            files.append(judged)
        else:
            skipped[judged] += 1
    return SourceListing(
        root=listing.root,
        files=tuple(files),
        skipped=SourceSkips(**skipped),
        walker_skips=listing.skipped,
        truncated=listing.truncated,
        notes=listing.notes,
    )


def in_skipped_folder(path: str) -> bool:
    """Whether the listing would never reach ``path`` (root-relative) because one of its
    folders is skipped by name (for an update of a few files without a new listing)."""
    return any(folder in SKIPPED_FOLDERS for folder in Path(path).parts[:-1])


def source_file(
    root: Path, path: str, *, max_bytes: int = MAX_FILE_BYTES
) -> SourceFile | SkipReason:
    """Judge one file as ``source_files`` does (``path`` is relative to ``root``): the file
    to parse, or why it is left out. For an update of a few files without a new listing;
    the caller has already decided the path is not ignored nor in a skipped folder."""
    try:
        size = (root / path).stat().st_size
    except OSError:
        return "unreadable"
    return _judge(str(root / path), path, size, max_bytes)


def _judge(absolute: str, path: str, size: int, max_bytes: int) -> SourceFile | SkipReason:
    """The checks in order of cost: the suffix, the listed size, then the head's bytes."""
    language = language_for(path)  # refined for headers once the head is read
    if language is None:
        return "unknown_language"
    if size > max_bytes:
        return "too_big"
    try:
        with Path(absolute).open("rb") as stream:
            status = os.fstat(stream.fileno())
            head = stream.read(HEAD_BYTES)
    except OSError:
        return "unreadable"
    if status.st_size > max_bytes:  # grew since it was listed
        return "too_big"
    reason = head_skip_reason(head)
    if reason is not None:
        return reason
    if language == "c":
        language = _c_or_cpp(path, head)
    return SourceFile(path, status.st_size, status.st_mtime_ns, language)


def head_skip_reason(head: bytes) -> HeadSkipReason | None:
    """Why a file whose first bytes are ``head`` should not be mapped, or ``None``.

    Binary: a NUL byte (as git judges). Minified: very long lines on average. Generated: a
    marker in its first lines."""
    if b"\x00" in head:
        return "binary"
    newlines = head.count(b"\n")
    if len(head) >= _MINIFIED_MIN_HEAD and len(head) / (newlines + 1) > _MINIFIED_MEAN_LINE:
        return "minified"
    top = head.split(b"\n", _GENERATED_LINES)[:_GENERATED_LINES]
    if any(_GENERATED_MARKER.search(line) for line in top):
        return "generated"
    return None


def source_language(path: str, head: bytes) -> str | None:
    """The language of the file ``path`` whose first bytes are ``head``: by its suffix, and
    for a ``.h`` header by what its head shows (C or C++)."""
    language = language_for(path)
    return _c_or_cpp(path, head) if language == "c" else language


def _c_or_cpp(path: str, head: bytes) -> str:
    """A C file's language: C, unless it is a ``.h`` header whose head shows C++."""
    if path.lower().endswith(".h") and _CPP_IN_HEADER.search(head):
        return "cpp"
    return "c"
