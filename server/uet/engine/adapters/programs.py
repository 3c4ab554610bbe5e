"""Which file ``exec`` runs for a task's program: the workspace's own first, then ``PATH``.

A program named without a directory is looked up first in the tool folders of the task's
working directory and the folders above it up to the repository root (its virtual
environment, ``node_modules/.bin``: :mod:`uet.bootstrap.toolchain`, the rules the scan
reports with), then on ``PATH``, as ``Popen`` would. So a generated task naming ``pytest``
runs the project's own pytest even when another virtual environment (uet's) is active, and
the committed workstream still names the program plainly: it works on every machine.

Both lookups are ``shutil.which``'s. The ``PATH`` lookup is remembered (most tasks of a run
start the same few programs) until starting a remembered file fails; the tool folders of a
directory are remembered until the directory changes (a ``.venv`` created there), and a
program in them is looked up on every task, so a tool installed into the project's
environment later is used by the next task.

The child gets the project's environment too (:func:`project_environment`): the same tool
folders first on its ``PATH`` and ``VIRTUAL_ENV`` naming the nearest virtual environment, as
activating it would. So what the program starts by name (``make test`` running a bare
``pytest``, ``npm run lint`` running ``eslint``) is the project's own as well.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Mapping
from pathlib import Path

from uet.bootstrap.toolchain import workspace_tool_folders

__all__ = ["executable", "forget", "project_environment", "project_executable"]

_folders_lock = threading.Lock()
# working directory -> (its mtime, the tool folders that apply there, each with the
# virtual environment it belongs to or None)
_folders: dict[str, tuple[int, tuple[tuple[str, str | None], ...]]] = {}


def executable(program: str, search_path: str, cwd: str | Path | None = None) -> str | None:
    """``program`` found in the tool folders of ``cwd`` (the task's working directory), else
    on ``search_path``, or ``None`` to let ``exec`` look it up: a program with a directory
    part, one not found (starting it then fails with the usual error), or one found through
    a relative ``PATH`` entry (which means the child's cwd)."""
    if os.sep in program:
        return None
    if cwd is not None:
        own = project_executable(program, cwd)
        if own is not None:
            return own
    found = _on_path(program, search_path)
    return found if found is not None and os.path.isabs(found) else None  # noqa: PTH117


@functools.lru_cache(maxsize=256)
def _on_path(program: str, search_path: str) -> str | None:
    return shutil.which(program, path=search_path) if search_path else None


def forget() -> None:
    """Forget the files found on ``PATH`` (one moved or changed: look them up again)."""
    _on_path.cache_clear()


def project_executable(program: str, cwd: str | Path) -> str | None:
    """``program`` in the tool folders that apply in ``cwd`` (nearest first), or ``None``."""
    folders = _tool_folders(os.fspath(cwd))
    if not folders:
        return None
    return shutil.which(program, path=os.pathsep.join(folder for folder, _ in folders))


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
        stamp = os.stat(cwd).st_mtime_ns  # noqa: PTH116 - cwd is a str
    except OSError:
        return ()
    known = _folders.get(cwd)
    if known is not None and known[0] == stamp:
        return known[1]
    found = tuple(
        (str(folder.path), None if folder.environment is None else str(folder.environment))
        for folder in workspace_tool_folders(Path(cwd))
    )
    with _folders_lock:
        _folders[cwd] = (stamp, found)
    return found
