"""The only code in ``uet.bootstrap`` that writes to disk: confined, atomic writes (and the
removal of generated files a profile switch replaced, under the same confinement).

**Invariant:** every write goes through ``write_text``, which

1. refuses a path that is not workspace-relative (``..``, absolute, backslash, NUL);
2. resolves every existing parent folder and refuses one that is a symbolic link leading
   outside the workspace, or a non-folder;
3. refuses a target that is a symbolic link (replacing it would silently cut the link) or
   not a regular file;
4. writes a temporary file in the target's folder, fsyncs it and renames it over the target
   (``os.replace``: readers see the old or the new file, never half of one).

``.uet/bootstrap.json`` (the manifest) records the SHA-256 of every file the generator wrote,
so a later run can tell a file the user changed (kept unless ``--force``) from one only the
generator touched (safe to regenerate).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from uet.bootstrap.errors import Problem, ProblemLevel, UnsafePathError
from uet.bootstrap.paths import is_within, unsafe_relative_reason

__all__ = [
    "MANIFEST_PATH",
    "STATE_GITIGNORE",
    "Manifest",
    "read_manifest",
    "remove_file",
    "resolve_for_write",
    "text_digest",
    "write_manifest",
    "write_state",
    "write_text",
]

STATE_DIR = ".uet"
MANIFEST_PATH = f"{STATE_DIR}/bootstrap.json"
STATE_GITIGNORE = f"{STATE_DIR}/.gitignore"
_MANIFEST_FORMAT = 1
_NEW_FILE_MODE = 0o644


@dataclass(frozen=True, slots=True)
class Manifest:
    """What the last bootstrap wrote: profile id and ``path -> sha256:<hex>``."""

    profile_id: str | None = None
    files: Mapping[str, str] = field(default_factory=dict)


def text_digest(data: str | bytes) -> str:
    """``sha256:<hex>`` of ``data`` (text is encoded as UTF-8, as it is written)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def resolve_for_write(root: Path, relative: str) -> Path:
    """The absolute path ``relative`` may be written at; ``UnsafePathError`` otherwise."""
    reason = unsafe_relative_reason(relative)
    if reason is not None:
        raise UnsafePathError(relative, reason)
    real_root = root.resolve(strict=True)
    parts = relative.split("/")
    current = real_root
    for index, part in enumerate(parts[:-1]):
        candidate = current / part
        shown = "/".join(parts[: index + 1])
        if candidate.is_symlink():
            target = candidate.resolve()
            if not is_within(target, real_root):
                raise UnsafePathError(
                    relative, f"{shown!r} is a symbolic link leading outside the workspace"
                )
            candidate = target
        if candidate.exists() and not candidate.is_dir():
            raise UnsafePathError(relative, f"{shown!r} exists and is not a folder")
        current = candidate
    final = current / parts[-1]
    if final.is_symlink():
        raise UnsafePathError(relative, "the target is a symbolic link; refusing to replace it")
    if final.exists() and not final.is_file():
        raise UnsafePathError(relative, "the target exists and is not a regular file")
    return final


def write_text(root: Path, relative: str, text: str) -> Path:
    """Atomically write ``text`` (UTF-8, newlines untouched) at ``root/relative``."""
    final = resolve_for_write(root, relative)
    final.parent.mkdir(parents=True, exist_ok=True)
    if not is_within(final.parent.resolve(), root.resolve()):
        raise UnsafePathError(relative, "its folder resolves outside the workspace")
    mode = _NEW_FILE_MODE
    with contextlib.suppress(FileNotFoundError):
        mode = final.stat().st_mode & 0o777
    descriptor, temporary = tempfile.mkstemp(
        dir=final.parent, prefix=f".{final.name}.", suffix=".uet-tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), mode)
        if final.is_symlink():
            raise UnsafePathError(relative, "the target became a symbolic link while writing")
        Path(temporary).replace(final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(temporary).unlink()
        raise
    _fsync_folder(final.parent)
    return final


def remove_file(root: Path, relative: str) -> bool:
    """Delete the regular file ``root/relative`` under the same confinement as ``write_text``
    (never through a link leading outside, never a link itself); ``False`` when absent."""
    final = resolve_for_write(root, relative)
    try:
        final.unlink()
    except FileNotFoundError:
        return False
    _fsync_folder(final.parent)
    return True


def write_state(root: Path, relative: str, text: str) -> Path:
    """Write an engine-state file under ``.uet/``; the folder gets a ``.gitignore`` holding
    ``*`` first, so git ignores it even before ``uet bootstrap`` edits the root one."""
    if not relative.startswith(f"{STATE_DIR}/"):
        raise UnsafePathError(relative, f"engine state belongs under {STATE_DIR}/")
    if not (root / STATE_GITIGNORE).exists():
        write_text(root, STATE_GITIGNORE, "# engine state of uet: never commit it\n*\n")
    return write_text(root, relative, text)


def read_manifest(root: Path) -> tuple[Manifest, tuple[Problem, ...]]:
    """The manifest of ``root`` (empty when absent; a broken one is a problem, not fatal)."""
    path = root / MANIFEST_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Manifest(), ()
    except (OSError, UnicodeDecodeError) as exc:
        return Manifest(), (Problem(ProblemLevel.WARNING, MANIFEST_PATH, f"not readable: {exc}"),)
    try:
        data = json.loads(text)
    except ValueError as exc:
        problem = Problem(ProblemLevel.WARNING, MANIFEST_PATH, f"not valid JSON ({exc}); ignored")
        return Manifest(), (problem,)
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        problem = Problem(ProblemLevel.WARNING, MANIFEST_PATH, "no 'files' object; ignored")
        return Manifest(), (problem,)
    profile_id = data.get("profile_id")
    return (
        Manifest(
            profile_id if isinstance(profile_id, str) else None,
            {str(key): str(value) for key, value in files.items()},
        ),
        (),
    )


def write_manifest(root: Path, manifest: Manifest) -> None:
    """Write ``manifest`` to ``.uet/bootstrap.json`` unless it already holds exactly that
    (sorted, so reruns are stable)."""
    document = {
        "format": _MANIFEST_FORMAT,
        "profile_id": manifest.profile_id,
        "files": dict(sorted(manifest.files.items())),
    }
    text = json.dumps(document, indent=2) + "\n"
    with contextlib.suppress(OSError, UnicodeDecodeError):
        if (root / MANIFEST_PATH).read_text(encoding="utf-8") == text:
            return  # unchanged: keep the file (and its mtime) as it is
    write_state(root, MANIFEST_PATH, text)


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (best effort: not every platform can fsync a folder)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(descriptor)
    finally:
        os.close(descriptor)
