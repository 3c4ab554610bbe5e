"""Starting child processes: each in its own process group, recorded before it runs, and
tied to the engine's life.

Every child gets its own process group, stdin from ``/dev/null``, stdout and stderr on one
pipe (its read end is returned to the caller), default SIGPIPE/SIGXFSZ handling and no
inherited descriptors beyond those three. Between fork and exec (``Popen``'s
``preexec_fn``, :func:`_preparation`) the child

- asks for SIGKILL when the engine thread that started it ends (``PR_SET_PDEATHSIG``, tied
  to the forking *thread*: the worker thread that starts a child supervises it until it is
  reaped, so the signal only fires when the engine itself dies), and exits at once if the
  engine is already gone;
- marks its environment with the run and attempt ids (:mod:`.processes`), inherited by
  everything it starts;
- takes the CPU priority asked for (:class:`CpuPriority`), inherited likewise;
- appends its pid (its process group's id), the time and the attempt id to the run's
  process-group record, a file descriptor the engine opened for the run: the record is in
  the kernel before the command can run, so ``uet resume`` always knows which groups to
  stop, whenever the engine died (a machine crash takes the processes with it, so no fsync
  is needed). When the record cannot be written, the child never runs its command.

``preexec_fn`` makes ``Popen`` fork instead of vfork; the function only calls ``prctl``,
``putenv``, ``nice`` and ``write``, which are safe in the child of a threaded process. The
engine becomes the child subreaper of its descendants on the first start
(:func:`~uet.engine.adapters.processes.become_subreaper`).

A program named without a directory is looked up in the tool folders of ``cwd`` (the
workspace's virtual environment, ``node_modules/.bin``), then on ``PATH`` once per process
(:mod:`.programs`); when starting the remembered file fails, it is looked up again at once.
The child's ``PATH`` starts with those tool folders and ``VIRTUAL_ENV`` names the nearest
virtual environment, so what the program itself starts by name is the project's too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

from uet.engine.adapters import processes, programs
from uet.lazylog import get_logger

__all__ = ["Child", "CpuPriority", "Marks", "kill_every_group", "spawn"]

log = get_logger(__name__)

_MAX_NICE = 19
_LOW_NICE_INCREMENT = 10
# The exit status of a child whose engine died before it could run its command.
_ORPHANED_STATUS = 125


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


class Marks(NamedTuple):
    """What a child is marked with: its run and attempt, and the run's process-group record
    (a descriptor opened for appending, or -1 for none)."""

    run_id: str
    attempt_id: str
    record_fd: int = -1


class Child:
    """A started child: its ``Popen``, pid and the read end of its output pipe. The pid stays
    the child's (and its process group's id) until :meth:`poll` or :meth:`wait` reaps it."""

    __slots__ = ("__weakref__", "_process", "output_fd", "pid")

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
    marked with ``marks``; raises ``OSError`` when it cannot be started (or recorded).

    A ``priority`` below normal is set in the child before it execs (its nice value, and
    for ``IDLE`` the ``SCHED_IDLE`` policy), so everything it starts inherits it; the
    engine's own threads are never touched.
    """
    processes.become_subreaper()
    env = programs.project_environment(cwd, env)  # the workspace's tool folders first on PATH
    if marks is not None and env is not None:
        env = {
            **env,
            processes.RUN_VARIABLE: marks.run_id,
            processes.ATTEMPT_VARIABLE: marks.attempt_id,
        }
    search_path = (os.environ if env is None else env).get("PATH", os.defpath)
    executable = programs.executable(argv[0], search_path, cwd)
    prepare = _preparation(priority, marks, env is None)
    try:
        child = _start(argv, executable, cwd, env, prepare)
    except OSError:
        if executable is None:
            raise
        # The remembered file moved or changed: look the program up afresh, once.
        programs.forget(argv[0], search_path)
        child = _start(argv, programs.executable(argv[0], search_path, cwd), cwd, env, prepare)
    return child


def _start(
    argv: tuple[str, ...],
    executable: str | None,
    cwd: Path,
    env: Mapping[str, str] | None,
    prepare: Callable[[], None],
) -> Child:
    """The started child, with the read end of its output pipe."""
    read_fd, write_fd = os.pipe()
    try:
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
                preexec_fn=prepare,  # noqa: PLW1509 - only async-signal-tolerant calls
            )
        except subprocess.SubprocessError as exc:  # the preparation failed: nothing ran
            raise OSError(f"cannot prepare the child: {exc}") from exc
        child = Child(process, read_fd)
        with _live_lock:
            _live.add(child)
        return child
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)


def _preparation(
    priority: CpuPriority, marks: Marks | None, mark_environment: bool
) -> Callable[[], None]:
    """What the child does between fork and exec (see the module docstring)."""
    engine = os.getpid()
    prctl = processes.prctl
    death_signal = processes.PR_SET_PDEATHSIG
    marked = marks if mark_environment else None
    record_fd = -1 if marks is None else marks.record_fd
    label = "" if marks is None else marks.attempt_id
    idle = getattr(os, "SCHED_IDLE", None) if priority is CpuPriority.IDLE else None
    increment = 0
    if priority is CpuPriority.LOW:
        increment = _LOW_NICE_INCREMENT
    elif priority is CpuPriority.IDLE:
        increment = _MAX_NICE

    def prepare() -> None:
        prctl(death_signal, signal.SIGKILL)
        if os.getppid() != engine:
            os._exit(_ORPHANED_STATUS)  # the engine died before the signal was asked for
        if marked is not None:
            os.putenv(processes.RUN_VARIABLE, marked.run_id)
            os.putenv(processes.ATTEMPT_VARIABLE, marked.attempt_id)
        if increment:
            with contextlib.suppress(OSError):
                os.nice(increment)
        if idle is not None:
            with contextlib.suppress(OSError):  # e.g. a sandbox that forbids it
                os.sched_setscheduler(0, idle, os.sched_param(0))
        if record_fd >= 0:
            os.write(record_fd, f"{os.getpid()} {time.time():.3f} {label}\n".encode())

    return prepare


def _devnull_fd() -> int:
    """A read-only ``/dev/null`` descriptor (not inherited; each child gets it as stdin)."""
    if not _devnull:
        with _devnull_lock:
            if not _devnull:
                _devnull.append(os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC))
    return _devnull[0]
