"""Which file ``exec`` runs for a task's program: the workspace's own first, then ``PATH``.

A program named without a directory is looked up first in the tool folders of the task's
working directory and the folders above it up to the repository root (its virtual
environment, ``node_modules/.bin``: :mod:`uet.bootstrap.toolchain`, the rules the scan
reports with), then on ``PATH``, as ``Popen`` would. So a generated task naming ``pytest``
runs the project's own pytest even when another virtual environment (uet's) is active, and
the committed workstream still names the program plainly: it works on every machine.

The ``PATH`` lookup is remembered once per process (most tasks of a run start the same few
programs); the tool folders of a directory are remembered until the directory changes (a
``.venv`` created there), and a program in them is checked on every lookup, so a tool
installed into the project's environment later is used by the next task. The lookup is
``shutil.which``'s own, written here so that a run does not import ``shutil`` and the
compression modules it brings for this alone.

The child gets the project's environment too (:func:`project_environment`): the same tool
folders first on its ``PATH`` and ``VIRTUAL_ENV`` naming the nearest virtual environment, as
activating it would. So what the program starts by name (``make test`` running a bare
``pytest``, ``npm run lint`` running ``eslint``) is the project's own as well.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from uet.bootstrap.toolchain import workspace_tool_folders

__all__ = [
    "candidates",
    "encoded",
    "executable",
    "forget",
    "project_environment",
    "project_executable",
    "which",
]

_lookup_lock = threading.Lock()
_lookups: dict[tuple[str, str], str] = {}  # (program, PATH) -> absolute executable
_encodings: dict[str, tuple[bytes]] = {}  # absolute executable -> (its bytes,)
# working directory -> (its mtime, the tool folders that apply there, each with the
# virtual environment it belongs to or None)
_folders: dict[str, tuple[int, tuple[tuple[str, str | None], ...]]] = {}


def encoded(path: str) -> tuple[bytes]:
    """The absolute ``path`` of an executable as the one file ``exec`` tries (cached: every
    task of a run usually starts the same few programs)."""
    found = _encodings.get(path)
    if found is None:
        found = _encodings[path] = (os.fsencode(path),)
    return found


def executable(program: str, search_path: str, cwd: str | Path | None = None) -> str | None:
    """``program`` found in the tool folders of ``cwd`` (the task's working directory), else
    on ``search_path`` (cached), or ``None`` to let ``exec`` look it up: a program with a
    directory part, one not found (starting it then fails with the usual error), or one
    found through a relative ``PATH`` entry (which means the child's cwd)."""
    if os.sep in program:
        return None
    if cwd is not None:
        own = project_executable(program, cwd)
        if own is not None:
            return own
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


def project_executable(program: str, cwd: str | Path) -> str | None:
    """``program`` in the tool folders that apply in ``cwd`` (nearest first), or ``None``."""
    for folder, _ in _tool_folders(os.fspath(cwd)):
        candidate = os.path.join(folder, program)  # noqa: PTH118
        if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):  # noqa: PTH112
            return candidate
    return None


def project_environment(cwd: str | Path, env: Mapping[str, str] | None) -> Mapping[str, str] | None:
    """The environment of a child running in ``cwd``: ``env`` (``None``: this process's) with
    the tool folders that apply in ``cwd`` first on ``PATH`` (nearest first, as programs are
    looked up) and ``VIRTUAL_ENV`` naming the nearest virtual environment (``PYTHONHOME``
    dropped), as activating it would; ``env`` itself when ``cwd`` has no tool folder."""
    folders = _tool_folders(os.fspath(cwd))
    if not folders:
        return env
    base = os.environ if env is None else env
    first = [folder for folder, _ in folders]
    rest = [entry for entry in base.get("PATH", os.defpath).split(os.pathsep) if entry not in first]
    result = {**base, "PATH": os.pathsep.join(first + rest)}
    environment = next((venv for _, venv in folders if venv is not None), None)
    if environment is not None:
        result["VIRTUAL_ENV"] = environment
        result.pop("PYTHONHOME", None)
    return result


def _tool_folders(cwd: str) -> tuple[tuple[str, str | None], ...]:
    """The tool folders of ``cwd`` with their virtual environments, looked for again when
    ``cwd`` changed since."""
    try:
        stamp = os.stat(cwd).st_mtime_ns  # noqa: PTH116 - a str, once per task
    except OSError:
        return ()
    known = _folders.get(cwd)
    if known is not None and known[0] == stamp:
        return known[1]
    found = tuple(
        (str(folder.path), None if folder.environment is None else str(folder.environment))
        for folder in workspace_tool_folders(Path(cwd))
    )
    with _lookup_lock:
        _folders[cwd] = (stamp, found)
    return found


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
