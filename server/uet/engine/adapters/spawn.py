"""Starting child processes, cheaply and without stalling the engine's other threads.

Every child gets its own process group, stdin from ``/dev/null``, stdout and stderr on one
pipe (its read end is returned to the caller), default SIGPIPE/SIGXFSZ handling and no
inherited descriptors beyond those three. A ``priority`` below normal lowers the child's
CPU priority (see :func:`spawn`).

How: CPython's own primitive, ``_posixsubprocess.fork_exec`` (vfork + exec, the GIL
dropped around the vfork from CPython 3.11.6 on, gh-104372), which ``subprocess.Popen``
wraps. On the CPython versions whose signature of it is known (:data:`_FORK_EXEC_VERSIONS`,
the one ``multiprocessing.util.spawnv_passfds`` calls there too) the engine calls it
directly: ``Popen``'s Python layer around it costs about as much engine CPU per child as
the call itself (measured: 0.09 ms against 0.05 ms per ``true`` on one thread), and the
engine pays it for every task. Elsewhere ``Popen`` is used, with the same arguments.
Either way an exec failure comes back as ``OSError`` (errno and file name as ``Popen``
gives them) through the error pipe that closes on exec. Not ``os.posix_spawn``: it holds
the GIL until the child has exec'd, so every other engine thread would stop meanwhile.

No environment is converted unless the task adds variables (``None`` lets the child inherit
the engine's), stdin and the output pipe are plain descriptors, and a program named without
a directory is looked up on ``PATH`` once per process (:mod:`.programs`); when starting the
remembered file fails, the program is looked up again at once.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from uet.engine.adapters import programs
from uet.lazylog import get_logger

if TYPE_CHECKING:  # imported where used: a run that starts children directly needs neither
    import subprocess

__all__ = ["Child", "CpuPriority", "spawn"]

log = get_logger(__name__)

_MAX_NICE = 19
_LOW_NICE_INCREMENT = 10
# CPython versions whose _posixsubprocess.fork_exec takes the 23 arguments passed here.
_FORK_EXEC_VERSIONS = ((3, 11), (3, 12), (3, 13))
# How much of a failed child's error report is read (as subprocess does).
_ERROR_REPORT_BYTES = 50_000


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


def _known_fork_exec() -> Callable[..., int] | None:
    """CPython's ``fork_exec`` where its signature is known, else ``None`` (use Popen)."""
    if sys.implementation.name != "cpython" or sys.version_info[:2] not in _FORK_EXEC_VERSIONS:
        return None
    try:
        from _posixsubprocess import fork_exec
    except ImportError:  # pragma: no cover - every CPython on POSIX has it
        return None
    return fork_exec


# The direct primitive, or None when children start through subprocess.Popen. A module
# attribute so that the tests can run the Popen path on any Python.
fork_exec: Callable[..., int] | None = _known_fork_exec()

_devnull_lock = threading.Lock()
_devnull: list[int] = []  # one read-only /dev/null descriptor for every child's stdin


class Child:
    """A started child: its pid and the read end of its output pipe. The pid stays the
    child's (and its process group's id) until :meth:`poll` or :meth:`wait` reaps it."""

    def __init__(
        self, pid: int, output_fd: int, process: subprocess.Popen[bytes] | None = None
    ) -> None:
        self.pid = pid
        self.output_fd = output_fd
        self._process = process
        self._return_code: int | None = None

    def poll(self) -> int | None:
        """The exit code if the child has ended (reaping it), else ``None``."""
        if self._process is not None:
            return self._process.poll()
        if self._return_code is None:
            self._return_code = _reap(self.pid, os.WNOHANG)
        return self._return_code

    def wait(self) -> int:
        """Reap the child (blocking) and return its exit code (``-N`` for signal N)."""
        if self._process is not None:
            return self._process.wait()
        if self._return_code is None:
            self._return_code = _reap(self.pid, 0)
        assert self._return_code is not None
        return self._return_code

    def close_output(self) -> None:
        """Close the read end of the output pipe."""
        os.close(self.output_fd)

    @property
    def reaped(self) -> bool:
        """Whether the child was reaped (its pid and group id may be someone else's now)."""
        if self._process is not None:
            return self._process.returncode is not None
        return self._return_code is not None

    def abandon(self) -> None:
        """Kill the child's process group and reap the child, unless it was reaped already."""
        if self.reaped:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self.wait()


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
    executable = programs.executable(argv[0], search_path)
    try:
        child = _start(argv, executable, cwd, env)
    except OSError:
        if executable is None:
            raise
        # The remembered file moved or changed: look the program up afresh, once.
        programs.forget(argv[0], search_path)
        child = _start(argv, programs.executable(argv[0], search_path), cwd, env)
    if priority is CpuPriority.LOW:
        _renice_group(child.pid, _LOW_NICE_INCREMENT)
    elif priority is CpuPriority.IDLE:
        _renice_group(child.pid, _MAX_NICE)
        _schedule_idle(child.pid)
    return child


def _start(
    argv: tuple[str, ...], executable: str | None, cwd: Path, env: Mapping[str, str] | None
) -> Child:
    """The started child, with the read end of its output pipe."""
    global fork_exec  # noqa: PLW0603 - switched off once for the whole process
    read_fd, write_fd = os.pipe()
    try:
        primitive = fork_exec
        if primitive is not None:
            try:
                pid = _fork_exec(primitive, argv, executable, cwd=cwd, env=env, output_fd=write_fd)
            except TypeError:  # its arguments differ on this build: nothing was started
                log.warning("starting children through subprocess.Popen on this Python")
                fork_exec = None
            else:
                return Child(pid, read_fd)
        import subprocess

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
        return Child(process.pid, read_fd, process)
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)


def _fork_exec(
    primitive: Callable[..., int],
    argv: tuple[str, ...],
    executable: str | None,
    *,
    cwd: Path,
    env: Mapping[str, str] | None,
    output_fd: int,
) -> int:
    """Start the child with ``primitive`` exactly as ``Popen`` would with our arguments;
    returns its pid, or raises the ``OSError`` that stopped it before ``exec``."""
    program = argv[0] if executable is None else executable
    directory = str(cwd)
    sys.audit("subprocess.Popen", program, list(argv), directory, env)
    env_list = None if env is None else _environment(env)
    error_read, error_write = _error_pipe()
    try:
        try:
            pid = primitive(
                argv,
                # A remembered executable is an absolute path: the only file to try.
                programs.candidates(argv[0], env)
                if executable is None
                else programs.encoded(executable),
                True,  # close_fds
                (error_write,),  # pass_fds
                directory,
                env_list,
                _devnull_fd(),  # p2cread
                -1,  # p2cwrite
                -1,  # c2pread
                output_fd,  # c2pwrite
                -1,  # errread
                output_fd,  # errwrite
                error_read,
                error_write,
                True,  # restore_signals
                False,  # call_setsid
                0,  # pgid_to_set: a new process group led by the child
                None,  # gid
                None,  # extra_groups
                None,  # uid
                -1,  # child_umask
                None,  # preexec_fn
                # Popen's switch, honoured when someone imported subprocess and turned it off.
                getattr(sys.modules.get("subprocess"), "_USE_VFORK", True),
            )
        finally:
            os.close(error_write)
        report = _read_report(error_read)
    finally:
        os.close(error_read)
    if report:
        _reap(pid, 0)
        raise _exec_error(report, program, directory)
    return pid


def _environment(env: Mapping[str, str]) -> list[bytes]:
    entries = []
    for key, value in env.items():
        name = os.fsencode(key)
        if b"=" in name:
            raise ValueError("illegal environment variable name")
        entries.append(name + b"=" + os.fsencode(value))
    return entries


def _error_pipe() -> tuple[int, int]:
    """The pipe a child reports a failure before ``exec`` on; its write end above 2."""
    read_fd, write_fd = os.pipe()
    low: list[int] = []
    while write_fd < 3:  # an engine started with stdio closed
        low.append(write_fd)
        write_fd = os.dup(write_fd)
    for fd in low:
        os.close(fd)
    return read_fd, write_fd


def _read_report(fd: int) -> bytes:
    """What the child wrote on the error pipe before it closed: nothing when it exec'd."""
    first = os.read(fd, _ERROR_REPORT_BYTES)
    if not first:
        return first  # the common case: one read
    report = bytearray(first)
    while len(report) <= _ERROR_REPORT_BYTES and (chunk := os.read(fd, _ERROR_REPORT_BYTES)):
        report += chunk
    return bytes(report)


def _exec_error(report: bytes, program: str, directory: str) -> BaseException:
    """The exception a child's error report (``name:hex errno:message``) stands for, as
    ``Popen`` raises it."""
    try:
        name, hex_errno, raw_message = report.split(b":", 2)
        message = raw_message.decode()
        number = int(hex_errno, 16)
    except ValueError:
        import subprocess

        return subprocess.SubprocessError(f"bad exception data from child: {report!r}")
    found = getattr(builtins, name.decode("ascii", "replace"), None)
    if not (isinstance(found, type) and issubclass(found, BaseException)):
        import subprocess

        found = subprocess.SubprocessError
    if not (issubclass(found, OSError) and hex_errno):
        return found(message)
    filename = program
    if message == "noexec":  # the child failed before exec, which means in chdir(cwd)
        filename, message = directory, ""
    return found(number, os.strerror(number) if number else message, filename)


def _reap(pid: int, flags: int) -> int | None:
    """Reap ``pid`` (``flags``: 0 or ``WNOHANG``); its exit code, ``None`` if running."""
    try:
        reaped, status = os.waitpid(pid, flags)
    except ChildProcessError:
        # SIGCHLD is ignored (or someone else reaped it): the status is gone, as Popen says.
        return 0
    if reaped == 0:
        return None
    return os.waitstatus_to_exitcode(status)


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
