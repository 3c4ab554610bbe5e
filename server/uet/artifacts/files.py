"""Finds candidate artifact files in a folder, the way users expect a linter to.

Honours ``.gitignore`` (git itself when the folder is in a repository, otherwise nested
``.gitignore`` files through pathspec), always skips tool and dependency folders, never
follows a symlink out of the root, and only yields JSON/YAML files.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pathspec

from uet.artifacts.loader import JSON_SUFFIXES, YAML_SUFFIXES

__all__ = ["ALWAYS_SKIPPED_DIRS", "iter_artifact_candidates"]

ALWAYS_SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".uet",
        ".idea",
        ".vscode-test",
        "site-packages",
    }
)
_SUFFIXES = JSON_SUFFIXES | YAML_SUFFIXES
_GIT_TIMEOUT_SECONDS = 20


def iter_artifact_candidates(
    root: Path, excluded_globs: Sequence[str] = (), use_git: bool = True
) -> Iterator[Path]:
    """JSON/YAML files under ``root`` that are not ignored, sorted for stable output."""
    root = root.resolve()
    excluded = pathspec.PathSpec.from_lines("gitignore", excluded_globs) if excluded_globs else None
    listed = _git_listing(root) if use_git else None
    candidates = listed if listed is not None else _walk(root)
    for relative in sorted(candidates):
        if Path(relative).suffix.lower() not in _SUFFIXES:
            continue
        parts = relative.split("/")
        if any(part in ALWAYS_SKIPPED_DIRS for part in parts[:-1]):
            continue
        if excluded is not None and excluded.match_file(relative):
            continue
        path = root / relative
        if _inside(path, root) and path.is_file():
            yield path


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def _git_listing(root: Path) -> list[str] | None:
    """Tracked and untracked-but-not-ignored files, or ``None`` when git cannot say."""
    try:
        result = subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "ls-files",
                "--cached",
                "--others",
                "--exclude-standard",
                "-z",
            ],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=_GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    names = result.stdout.decode("utf-8", "surrogateescape").split("\0")
    return [name for name in names if name]


def _walk(root: Path) -> Iterable[str]:
    """``os.walk`` with nested ``.gitignore`` support; symlinked folders are not followed."""
    specs: list[tuple[str, pathspec.PathSpec[Any]]] = []
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        relative_folder = Path(folder).relative_to(root).as_posix()
        prefix = "" if relative_folder == "." else relative_folder + "/"
        if ".gitignore" in filenames:
            try:
                lines = (Path(folder) / ".gitignore").read_text("utf-8", "replace").splitlines()
                specs.append((prefix, pathspec.PathSpec.from_lines("gitignore", lines)))
            except OSError:
                pass  # an unreadable .gitignore ignores nothing, as git does
        kept = []
        for name in sorted(dirnames):
            if name in ALWAYS_SKIPPED_DIRS or _ignored(specs, prefix + name + "/"):
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in filenames:
            relative = prefix + name
            if not _ignored(specs, relative):
                yield relative


def _ignored(specs: list[tuple[str, pathspec.PathSpec[Any]]], relative: str) -> bool:
    for prefix, spec in specs:
        if relative.startswith(prefix) and spec.match_file(relative[len(prefix) :]):
            return True
    return False
