"""Starting child processes: ``posix_spawn`` when it can, ``subprocess.Popen`` otherwise.

Every child gets its own process group, stdin from ``/dev/null``, stdout and stderr on one
pipe (returned to the caller), default SIGPIPE/SIGXFSZ handling and an empty signal mask,
like ``Popen(..., process_group=0, restore_signals=True)``.

``posix_spawn`` (glibc: vfork + exec, no Python code between) costs about a third less of the
parent's CPU per child than ``Popen``, which matters when a run is thousands of short tasks.
It cannot change the working directory, so it is used only when the child runs in the
engine's current directory (the usual case: ``uet run`` from the workspace root); the
program is looked up on the child's ``PATH`` as ``Popen`` would, and the lookup is cached.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

__all__ = ["Child", "spawn"]

_FAST = sys.platform == "linux" and hasattr(os, "posix_spawn")
_DEFAULT_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ") if hasattr(signal, name)
)
_lookup_lock = threading.Lock()
_lookups: dict[tuple[str, str], str] = {}


class Child:
    """A started child: its pid and the read end of its output pipe."""

    def __init__(self, pid: int, output_fd: int, process: subprocess.Popen[bytes] | None) -> None:
        self.pid = pid
        self.output_fd = output_fd
        self._process = process
        self._returncode: int | None = None

    def poll(self) -> int | None:
        """The exit code if the child has ended (reaping it), else ``None``."""
        if self._process is not None:
            return self._process.poll()
        if self._returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self._returncode = os.waitstatus_to_exitcode(status)
        return self._returncode

    def wait(self) -> int:
        """Reap the child (blocking) and return its exit code (``-N`` for signal N)."""
        if self._process is not None:
            return self._process.wait()
        if self._returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self._returncode = os.waitstatus_to_exitcode(status)
        return self._returncode

    def close_output(self) -> None:
        """Close the read end of the output pipe."""
        if self._process is not None and self._process.stdout is not None:
            self._process.stdout.close()
        elif self._process is None:
            os.close(self.output_fd)


def spawn(argv: tuple[str, ...], cwd: Path, env: Mapping[str, str] | None) -> Child:
    """Start ``argv`` in ``cwd`` with environment ``env`` (``None``: inherit); raises
    ``OSError`` when it cannot be started."""
    if _FAST and os.fspath(cwd) == os.getcwd():  # noqa: PTH109 - a str compare per spawn
        return _posix_spawn(argv, env)
    process = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        env=env,
        process_group=0,
        close_fds=True,
    )
    assert process.stdout is not None
    return Child(process.pid, process.stdout.fileno(), process)


def _posix_spawn(argv: tuple[str, ...], env: Mapping[str, str] | None) -> Child:
    environment = os.environ if env is None else env
    executable = _executable(argv[0], environment.get("PATH", os.defpath))
    read_fd, write_fd = os.pipe()
    try:
        pid = os.posix_spawn(
            executable,
            argv,
            environment,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, write_fd, 1),
                (os.POSIX_SPAWN_DUP2, write_fd, 2),
            ],
            setpgroup=0,
            setsigdef=_DEFAULT_SIGNALS,
            setsigmask=(),
        )
    except OSError:
        os.close(read_fd)
        with _lookup_lock:
            _lookups.pop((argv[0], environment.get("PATH", os.defpath)), None)
        raise
    finally:
        os.close(write_fd)
    return Child(pid, read_fd, None)


def _executable(program: str, path: str) -> str:
    """``program`` resolved on ``path`` like ``execvp`` would (successes are cached)."""
    if os.sep in program:
        return program
    key = (program, path)
    with _lookup_lock:
        found = _lookups.get(key)
    if found is not None:
        return found
    found = shutil.which(program, path=path)
    if found is None:
        raise FileNotFoundError(2, "No such file or directory", program)
    with _lookup_lock:
        _lookups[key] = found
    return found
