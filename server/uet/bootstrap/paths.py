"""Workspace-relative path rules shared by discovery, profiles, the generator and the writer.

A workspace-relative path is a non-empty POSIX path without ``.``/``..`` segments, without
a leading ``/``, drive letter or backslash, and without NUL. Checking the *text* here is
the first line of defence; ``uet.bootstrap.writer`` then checks the *resolved* path on disk
(symbolic links) before every write.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

__all__ = ["is_within", "relative_posix", "unsafe_relative_reason"]

_DRIVE = re.compile(r"^[A-Za-z]:")


def unsafe_relative_reason(path: str) -> str | None:
    """Why ``path`` is not an acceptable workspace-relative path, or ``None`` when it is."""
    if not path:
        return "the path is empty"
    if "\x00" in path:
        return "the path contains a NUL character"
    if "\\" in path:
        return "the path contains a backslash; use '/' separators"
    if path.startswith("/") or _DRIVE.match(path):
        return "absolute paths are not allowed"
    parts = path.split("/")
    if any(part == ".." for part in parts):
        return "'..' segments are not allowed"
    if any(part in ("", ".") for part in parts[:-1]) or parts[-1] in ("", "."):
        return "empty or '.' segments are not allowed"
    return None


def is_within(path: Path, root: Path) -> bool:
    """True when the already-resolved ``path`` is ``root`` or lies below it."""
    return path == root or root in path.parents


def relative_posix(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` with ``/`` separators (both must be absolute)."""
    return PurePosixPath(Path(os.path.relpath(path, root)).as_posix()).as_posix()
