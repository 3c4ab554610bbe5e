"""Which file ``exec`` runs for a task's program, as ``Popen`` would find it.

A program named without a directory is looked up on ``PATH`` once per process and
remembered (most tasks of a run start the same few programs); the lookup is
``shutil.which``'s own, written here so that a run does not import ``shutil`` and the
compression modules it brings for this alone.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence

__all__ = ["candidates", "encoded", "executable", "forget", "which"]

_lookup_lock = threading.Lock()
_lookups: dict[tuple[str, str], str] = {}  # (program, PATH) -> absolute executable
_encodings: dict[str, tuple[bytes]] = {}  # absolute executable -> (its bytes,)


def encoded(path: str) -> tuple[bytes]:
    """The absolute ``path`` of an executable as the one file ``exec`` tries (cached: every
    task of a run usually starts the same few programs)."""
    found = _encodings.get(path)
    if found is None:
        found = _encodings[path] = (os.fsencode(path),)
    return found


def executable(program: str, search_path: str) -> str | None:
    """``program`` found on ``search_path`` (cached), or ``None`` to let ``exec`` look it
    up: a program with a directory part, one not found (starting it then fails with the
    usual error), or one found through a relative ``PATH`` entry (which means the child's
    cwd)."""
    if os.sep in program:
        return None
    key = (program, search_path)
    found = _lookups.get(key)
    if found is not None:
        return found
    found = which(program, search_path)
    if found is None or not os.path.isabs(found):  # noqa: PTH117 - a str, as exec takes
        return None
    with _lookup_lock:
        _lookups[key] = found
    return found


def which(program: str, search_path: str) -> str | None:
    """The first executable file named ``program`` in the folders of ``search_path``, as
    ``shutil.which`` finds it on POSIX (whose module, with its compression imports, a run
    would otherwise load for this alone)."""
    seen: set[str] = set()
    for folder in search_path.split(os.pathsep):
        if folder in seen:
            continue
        seen.add(folder)
        candidate = os.path.join(folder, program)  # noqa: PTH118
        if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):  # noqa: PTH112
            return candidate
    return None


def forget(program: str, search_path: str) -> None:
    """Drop the remembered file of ``program`` on ``search_path`` (it moved or changed)."""
    with _lookup_lock:
        _lookups.pop((program, search_path), None)


def candidates(program: str, env: Mapping[str, str] | None) -> Sequence[bytes]:
    """The files ``exec`` tries, in order (as ``os.execvpe`` and ``Popen`` do)."""
    # os.path, not pathlib: these are bytes, as exec takes them.
    name = os.fsencode(program)
    if os.path.dirname(name):  # noqa: PTH120
        return (name,)
    return tuple(
        os.path.join(os.fsencode(folder), name)  # noqa: PTH118
        for folder in os.get_exec_path(env)
    )
