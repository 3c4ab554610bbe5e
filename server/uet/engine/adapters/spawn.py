"""Starting child processes: each in its own process group, marked, recorded and at the
CPU priority asked for.

Every child gets its own process group, stdin from ``/dev/null``, stdout and stderr on one
pipe (its read end is returned to the caller), default SIGPIPE/SIGXFSZ handling and no
inherited descriptors beyond those three. Children start through a plain
``subprocess.Popen`` without ``preexec_fn``, so that CPython can start them with ``vfork``
and ``exec`` with the GIL released instead of a full ``fork`` of the threaded engine.
Everything else is done from the engine:

- the environment marks the child with the run and attempt ids (:mod:`.processes`),
  inherited by everything it starts, so the processes of a run are found (``/proc``) from
  the moment the command runs, by the run's reaper, ``uet resume`` or ``uet cancel``;
- as soon as ``Popen`` returns, the child's pid (its process group's id), the time and the
  attempt id are appended to the run's process-group record, a file descriptor the engine
  opened for the run (in the kernel once written: a dead engine cannot lose it; a machine
  crash takes the processes with it, so no fsync is needed). When the record cannot be
  written, the child is killed at once;
- a priority below normal is set right after the child starts (:class:`CpuPriority`): the
  nice value of its whole process group and, for ``IDLE``, the scheduling policy of the
  child, both inherited by what it starts later. The engine's own threads are never touched.

What ties children to the engine's life is the run's reaper (:mod:`uet.engine.running.reaper`),
not a per-child parent-death signal. The engine becomes the child subreaper of its
descendants on the first start (:func:`~uet.engine.adapters.processes.become_subreaper`).

A program named without a directory is looked up in the tool folders of ``cwd`` (the
workspace's virtual environment, ``node_modules/.bin``), then on ``PATH``, remembered
(:mod:`.programs`); when starting the remembered file fails, it is looked up again at once.
The child's ``PATH`` starts with those tool folders and ``VIRTUAL_ENV`` names the nearest
virtual environment, so what the program itself starts by name is the project's too.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

from uet.engine.adapters import processes, programs

__all__ = ["Child", "CpuPriority", "Marks", "kill_every_group", "spawn"]

log = logging.getLogger(__name__)

_MAX_NICE = 19
_LOW_NICE_INCREMENT = 10


class CpuPriority(StrEnum):
    """The CPU priority of a child process tree, relative to the engine.

    ``LOW``: nice value raised by 10. ``IDLE``: nice 19 and, where the OS has it, the
    ``SCHED_IDLE`` policy: the child gets the CPU only when nothing else wants it, and any
    other process that wakes up (an editor, the language server) preempts it at once. Nice
    values alone only share the CPU by weight, which left the language server noticeably
    slower while a run used every core (``benchmarks/lsp_during_run.py --run-priority``).
    """

    NORMAL = "normal"
    LOW = "low"
    IDLE = "idle"


_devnull_lock = threading.Lock()
_devnull: list[int] = []  # one read-only /dev/null descriptor for every child's stdin


class Marks(NamedTuple):
    """What a child is marked with: its run and attempt, and the run's process-group record
    (a descriptor opened for appending, or -1 for none)."""

    run_id: str
    attempt_id: str
    record_fd: int = -1


class Child:
    """A started child: its ``Popen``, pid and the read end of its output pipe. The pid stays
    the child's (and its process group's id) until :meth:`poll` or :meth:`wait` reaps it."""

    def __init__(self, process: subprocess.Popen[bytes], output_fd: int) -> None:
        self._process = process
        self.pid = process.pid
        self.output_fd = output_fd

    def poll(self) -> int | None:
        """The exit code if the child has ended (reaping it), else ``None``."""
        code = self._process.poll()
        if code is not None:
            _forget(self)
        return code

    def exited(self) -> bool:
        """Whether the child has ended, without reaping it (its group id stays ours)."""
        if self._process.returncode is not None:
            return True
        try:
            return os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            return True

    def wait(self) -> int:
        """Reap the child (blocking) and return its exit code (``-N`` for signal N)."""
        code = self._process.wait()
        _forget(self)
        return code

    def close_output(self) -> None:
        """Close the read end of the output pipe."""
        os.close(self.output_fd)

    @property
    def reaped(self) -> bool:
        """Whether the child was reaped (its pid and group id may be someone else's now)."""
        return self._process.returncode is not None

    def kill_group(self) -> None:
        """SIGKILL the child's process group, unless the child was reaped already (then the
        id may be someone else's)."""
        if not self.reaped:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)

    def abandon(self) -> None:
        """Kill the child's process group and reap the child, unless it was reaped already."""
        if self.reaped:
            return
        self.kill_group()
        self.wait()


# The children started and not reaped yet (what kill_every_group stops).
_live_lock = threading.Lock()
_live: set[Child] = set()


def _forget(child: Child) -> None:
    with _live_lock:
        _live.discard(child)


def kill_every_group() -> int:
    """SIGKILL the process group of every child started and not reaped yet: the last resort
    of a process about to end while runs still execute. Returns how many were signalled."""
    with _live_lock:
        children = list(_live)
    for child in children:
        child.kill_group()
    return len(children)


def spawn(
    argv: tuple[str, ...],
    cwd: Path,
    env: Mapping[str, str] | None,
    priority: CpuPriority = CpuPriority.NORMAL,
    marks: Marks | None = None,
) -> Child:
    """Start ``argv`` in ``cwd`` with environment ``env`` (``None``: inherit the engine's),
    marked with ``marks`` and recorded in their process-group record; raises ``OSError``
    when it cannot be started (or recorded: then it was killed).

    A ``priority`` below normal is applied right after the child starts (see the module
    docstring): the child runs its first instructions at the engine's priority, and the
    renicing of its whole group covers what it forked in that moment.
    """
    processes.become_subreaper()
    env = programs.project_environment(cwd, env)  # the workspace's tool folders first on PATH
    search_path = (os.environ if env is None else env).get("PATH", os.defpath)
    executable = programs.executable(argv[0], search_path, cwd)
    child_env = env if marks is None else _marked(env, marks)
    try:
        child = _start(argv, executable, cwd, child_env)
    except OSError:
        if executable is None:
            raise
        # The remembered file moved or changed: look the program up afresh, once.
        programs.forget()
        child = _start(argv, programs.executable(argv[0], search_path, cwd), cwd, child_env)
    if marks is not None and marks.record_fd >= 0:
        _record(child, marks)
    if priority is CpuPriority.LOW:
        _renice_group(child.pid, _LOW_NICE_INCREMENT)
    elif priority is CpuPriority.IDLE:
        _renice_group(child.pid, _MAX_NICE)
        _schedule_idle(child.pid)
    return child


def _marked(env: Mapping[str, str] | None, marks: Marks) -> Mapping[str, str] | dict[bytes, bytes]:
    """``env`` (``None``: the engine's) with the marks of ``marks``."""
    if env is not None:
        return {
            **env,
            processes.RUN_VARIABLE: marks.run_id,
            processes.ATTEMPT_VARIABLE: marks.attempt_id,
        }
    marked = _run_environment(marks.run_id).copy()
    marked[os.fsencode(processes.ATTEMPT_VARIABLE)] = os.fsencode(marks.attempt_id)
    return marked


@functools.lru_cache(maxsize=8)
def _run_environment(run_id: str) -> dict[bytes, bytes]:
    """The engine's environment marked with run ``run_id``, as it was when the run's first
    child started. Made once per run and as bytes, which ``Popen`` passes on as they are:
    copying and encoding ``os.environ`` for every child would cost the run more than the
    rest of starting it."""
    return {**os.environb, os.fsencode(processes.RUN_VARIABLE): os.fsencode(run_id)}


def _start(
    argv: tuple[str, ...],
    executable: str | None,
    cwd: Path,
    env: Mapping[str, str] | Mapping[bytes, bytes] | None,
) -> Child:
    """The started child, with the read end of its output pipe."""
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
        child = Child(process, read_fd)
        with _live_lock:
            _live.add(child)
        return child
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)


def _record(child: Child, marks: Marks) -> None:
    """Append the child's process group to the run's record (one ``write``, atomic with
    ``O_APPEND``); a child that cannot be recorded is killed, reaped and reported."""
    line = f"{child.pid} {time.time():.3f} {marks.attempt_id}\n".encode()
    try:
        os.write(marks.record_fd, line)
    except OSError as exc:
        child.abandon()
        child.close_output()
        raise OSError(exc.errno, f"cannot record its process group: {exc.strerror}") from exc


def _devnull_fd() -> int:
    """A read-only ``/dev/null`` descriptor (not inherited; each child gets it as stdin)."""
    if not _devnull:
        with _devnull_lock:
            if not _devnull:
                _devnull.append(os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC))
    return _devnull[0]


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
