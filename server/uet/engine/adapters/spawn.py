"""Starting child processes, cheaply and without stalling the engine's other threads.

Every child gets its own process group, stdin from ``/dev/null``, stdout and stderr on one
pipe (its read end is returned to the caller), default SIGPIPE/SIGXFSZ handling and no
inherited descriptors beyond those three. A ``priority`` below normal lowers the child's
CPU priority (see :func:`spawn`).

Why ``subprocess.Popen`` and not ``os.posix_spawn``: both vfork and exec, but
``os.posix_spawn`` holds the GIL until the child has exec'd, so while one worker starts a
child every other engine thread (the other workers, the store writer) stops; on a loaded
machine the exec can take a millisecond. ``Popen`` drops the GIL around its vfork
(gh-104372: CPython 3.12, and 3.11 from 3.11.6 on). Measured on the overhead benchmark
(2 jobs, thousands of ``true`` tasks) that is worth more than the extra Python ``Popen``
runs per child. That extra is kept small: no environment is converted unless the task
adds variables (``None`` lets the child inherit the engine's), stdin and the output pipe
are descriptors made here, so ``Popen`` wraps none of them in file objects, and a program
named without a directory is looked up on ``PATH`` once per process (``Popen`` would build
every candidate path on every call); when starting the remembered file fails, the program
is looked up again at once.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path

__all__ = ["Child", "CpuPriority", "spawn"]

log = logging.getLogger(__name__)

_MAX_NICE = 19
_LOW_NICE_INCREMENT = 10


class CpuPriority(StrEnum):
    """The CPU priority of a child process tree, relative to the engine.

    ``LOW``: nice value raised by 10. ``IDLE``: nice 19 and, where the OS has it, the
    ``SCHED_IDLE`` policy: the child gets the CPU only when nothing else wants it, and any
    other process that wakes up (an editor, the language server) preempts it at once. Nice
    values alone only share the CPU by weight; measured on the language server while a run
    used both cores of a 2-core machine, nice 10 or 19 left its p95 latency at 1.4-2.6x idle,
    ``SCHED_IDLE`` at 1.0-1.25x.
    """

    NORMAL = "normal"
    LOW = "low"
    IDLE = "idle"


_devnull_lock = threading.Lock()
_devnull: list[int] = []  # one read-only /dev/null descriptor for every child's stdin
_lookup_lock = threading.Lock()
_lookups: dict[tuple[str, str], str] = {}  # (program, PATH) -> absolute executable


class Child:
    """A started child: its pid and the read end of its output pipe."""

    def __init__(self, process: subprocess.Popen[bytes], output_fd: int) -> None:
        self.pid = process.pid
        self.output_fd = output_fd
        self._process = process

    def poll(self) -> int | None:
        """The exit code if the child has ended (reaping it), else ``None``."""
        return self._process.poll()

    def wait(self) -> int:
        """Reap the child (blocking) and return its exit code (``-N`` for signal N)."""
        return self._process.wait()

    def close_output(self) -> None:
        """Close the read end of the output pipe."""
        os.close(self.output_fd)


def spawn(
    argv: tuple[str, ...],
    cwd: Path,
    env: Mapping[str, str] | None,
    priority: CpuPriority = CpuPriority.NORMAL,
) -> Child:
    """Start ``argv`` in ``cwd`` with environment ``env`` (``None``: inherit the engine's);
    raises ``OSError`` when it cannot be started.

    A ``priority`` below normal is applied right after the child starts: the nice value of
    its whole process group, and for ``IDLE`` the scheduling policy of the child (inherited
    by everything it starts later); the engine's own threads are never touched. Setting it
    before ``exec`` would take a ``preexec_fn``, which forces fork + exec and is unsafe in a
    threaded process, so the child runs its first instructions at the engine's priority;
    renicing the whole group also covers anything it forked in that window.
    """
    search_path = (os.environ if env is None else env).get("PATH", os.defpath)
    executable = _executable(argv[0], search_path)
    try:
        process, output_fd = _start(argv, executable, cwd, env)
    except OSError:
        if executable is None:
            raise
        # The remembered file moved or changed: look the program up afresh, once.
        with _lookup_lock:
            _lookups.pop((argv[0], search_path), None)
        process, output_fd = _start(argv, _executable(argv[0], search_path), cwd, env)
    if priority is CpuPriority.LOW:
        _renice_group(process.pid, _LOW_NICE_INCREMENT)
    elif priority is CpuPriority.IDLE:
        _renice_group(process.pid, _MAX_NICE)
        _schedule_idle(process.pid)
    return Child(process, output_fd)


def _start(
    argv: tuple[str, ...], executable: str | None, cwd: Path, env: Mapping[str, str] | None
) -> tuple[subprocess.Popen[bytes], int]:
    """The started process and the read end of its output pipe."""
    read_fd, write_fd = os.pipe()
    try:
        process = subprocess.Popen(
            argv,
            executable=executable,
            stdin=_devnull_fd(),
            stdout=write_fd,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            process_group=0,
            close_fds=True,
        )
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    return process, read_fd


def _devnull_fd() -> int:
    """A read-only ``/dev/null`` descriptor (not inherited; each child gets it as stdin)."""
    if not _devnull:
        with _devnull_lock:
            if not _devnull:
                _devnull.append(os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC))
    return _devnull[0]


def _executable(program: str, search_path: str) -> str | None:
    """``program`` found on ``search_path`` (cached), or ``None`` to let ``Popen`` look it
    up: a program with a directory part, one not found (``Popen`` then raises the usual
    error), or one found through a relative ``PATH`` entry (which means the child's cwd)."""
    if os.sep in program:
        return None
    key = (program, search_path)
    found = _lookups.get(key)
    if found is not None:
        return found
    found = shutil.which(program, path=search_path)
    if found is None or not Path(found).is_absolute():
        return None
    with _lookup_lock:
        _lookups[key] = found
    return found


def _renice_group(pgid: int, increment: int) -> None:
    """Raise the nice value of process group ``pgid`` (a child we have not reaped, so the
    id is still ours) to the engine's own plus ``increment``."""
    target = min(_MAX_NICE, os.getpriority(os.PRIO_PROCESS, 0) + increment)
    try:
        os.setpriority(os.PRIO_PGRP, pgid, target)
    except ProcessLookupError:
        pass  # every member has exited already: nothing left to slow down
    except PermissionError:
        log.warning("not allowed to renice process group %d", pgid)


def _schedule_idle(pid: int) -> None:
    """Put process ``pid`` (a child we have not reaped) under ``SCHED_IDLE`` where the OS
    has it; lowering one's own children's policy needs no privilege on Linux."""
    policy = getattr(os, "SCHED_IDLE", None)
    if policy is None:
        return  # nice 19 is the closest this platform offers
    try:
        os.sched_setscheduler(pid, policy, os.sched_param(0))
    except ProcessLookupError:
        pass  # it has exited already
    except OSError as exc:  # e.g. a sandbox that forbids scheduler calls
        log.warning("cannot give process %d the idle CPU priority: %s", pid, exc)
