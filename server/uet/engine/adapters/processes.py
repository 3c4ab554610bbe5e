"""The processes of a run as the operating system sees them: marks, escapes and clean-up.

Every child of a run is marked: it gets ``UET_RUN_ID`` and ``UET_ATTEMPT_ID`` in its
environment (inherited by everything it starts, unless a program clears its environment),
so that :func:`marked` finds the processes of a run or of one attempt even after they left
the attempt's process group (``setsid``, ``setpgid``) or their engine died.

The engine is the *child subreaper* of its tasks' descendants (:func:`become_subreaper`,
Linux ``PR_SET_CHILD_SUBREAPER``): a process whose parent exits is re-parented to the engine
instead of to PID 1, so an escaped process stays within the engine's reach and the engine
reaps it once it is killed (:func:`kill_and_reap`).

Everything here reads ``/proc`` (Linux). Elsewhere the searches find nothing and the
engine falls back to what process groups alone give.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

__all__ = [
    "ATTEMPT_VARIABLE",
    "RUN_VARIABLE",
    "Process",
    "become_subreaper",
    "boot_ticks",
    "describe",
    "group_members",
    "kill_and_reap",
    "marked",
    "pipe_holders",
    "prctl",
]

RUN_VARIABLE = "UET_RUN_ID"
ATTEMPT_VARIABLE = "UET_ATTEMPT_ID"

# prctl(2) option (linux/prctl.h).
PR_SET_CHILD_SUBREAPER = 36

_PROC = Path("/proc")
# How long kill_and_reap waits for killed children of the engine to be reapable.
_REAP_SECONDS = 1.0


class Process(NamedTuple):
    """One process from ``/proc/<pid>/stat`` (``started``: clock ticks after boot)."""

    pid: int
    ppid: int
    pgid: int
    state: str
    name: str
    started: int = 0

    @property
    def alive(self) -> bool:
        """Whether it runs (a zombie has ended and only waits to be reaped)."""
        return self.state not in ("Z", "X")


def _load_prctl() -> Callable[..., int] | None:
    if not hasattr(os, "pidfd_open") and not _PROC.joinpath("self").exists():
        return None  # not Linux
    try:
        # The C library the interpreter is linked with: no name to look up.
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.prctl
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    function.restype = ctypes.c_int
    prctl_function: Callable[..., int] = function
    return prctl_function


_prctl = _load_prctl()


def prctl(option: int, value: int) -> bool:
    """Call ``prctl(option, value)``; returns whether the OS has it and it worked."""
    if _prctl is None:
        return False
    return _prctl(option, value, 0, 0) == 0


_subreaper = [False]


def become_subreaper() -> bool:
    """Make this process the subreaper of its descendants (once); whether it is one."""
    if not _subreaper[0]:
        _subreaper[0] = prctl(PR_SET_CHILD_SUBREAPER, 1)
    return _subreaper[0]


def processes() -> Iterator[Process]:
    """Every process whose ``stat`` can be read now."""
    try:
        entries = list(_PROC.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name.isdigit():
            process = read(int(entry.name))
            if process is not None:
                yield process


def read(pid: int) -> Process | None:
    """Process ``pid``, or ``None`` when it does not exist (or ``/proc`` is missing)."""
    try:
        text = (_PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    head, _, tail = text.rpartition(b")")
    fields = tail.split()
    if len(fields) < 20:
        return None
    name = head.partition(b"(")[2].decode("utf-8", "replace")
    return Process(pid, int(fields[1]), int(fields[2]), fields[0].decode(), name, int(fields[19]))


def boot_ticks() -> int:
    """Now, in the clock ticks after boot that :attr:`Process.started` counts."""
    return int(time.clock_gettime(time.CLOCK_BOOTTIME) * os.sysconf("SC_CLK_TCK"))


def describe(process: Process) -> str:
    """``pid 123 (sleep)``: how a process is named in records and logs."""
    return f"pid {process.pid} ({process.name})"


def group_members(pgid: int) -> list[Process]:
    """The live processes of process group ``pgid``."""
    return [process for process in processes() if process.pgid == pgid and process.alive]


def marked(
    run_id: str, attempt_id: str | None = None, started_by: int | None = None
) -> list[Process]:
    """The live processes marked as belonging to run ``run_id`` (and, given, to attempt
    ``attempt_id``; and, given, started by ``started_by`` in :func:`boot_ticks`), this
    process excepted."""
    needles = [f"{RUN_VARIABLE}={run_id}".encode()]
    if attempt_id is not None:
        needles.append(f"{ATTEMPT_VARIABLE}={attempt_id}".encode())
    found = []
    own = os.getpid()
    for process in processes():
        if process.pid == own or not process.alive:
            continue
        if started_by is not None and process.started > started_by:
            continue
        try:
            entries = (_PROC / str(process.pid) / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if all(needle in entries for needle in needles):
            found.append(process)
    return found


def pipe_holders(inode: int) -> list[Process]:
    """The live processes holding a descriptor of the pipe whose inode is ``inode``."""
    target = f"pipe:[{inode}]"
    found = []
    for process in processes():
        if not process.alive:
            continue
        directory = _PROC / str(process.pid) / "fd"
        try:
            descriptors = list(directory.iterdir())
        except OSError:
            continue
        for descriptor in descriptors:
            with contextlib.suppress(OSError):
                if str(descriptor.readlink()) == target:
                    found.append(process)
                    break
    return found


def with_descendants(roots: Iterable[Process]) -> list[Process]:
    """``roots`` and every live process descending from one of them."""
    chosen = {process.pid: process for process in roots}
    if not chosen:
        return []
    children: dict[int, list[Process]] = {}
    for process in processes():
        if process.alive:
            children.setdefault(process.ppid, []).append(process)
    pending = list(chosen)
    while pending:
        for child in children.get(pending.pop(), ()):
            if child.pid not in chosen:
                chosen[child.pid] = child
                pending.append(child.pid)
    return list(chosen.values())


def kill_and_reap(targets: Iterable[Process]) -> list[Process]:
    """SIGKILL ``targets`` and reap those that are (or become) children of this process;
    returns the ones that were signalled."""
    killed = []
    for process in targets:
        try:
            os.kill(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue
        killed.append(process)
    deadline = time.monotonic() + _REAP_SECONDS
    waiting = [process.pid for process in killed]
    while waiting and time.monotonic() < deadline:
        still = []
        for pid in waiting:
            try:
                reaped, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                # Not a child of ours yet: its parent, killed too, hands it over as it exits.
                if read(pid) is not None:
                    still.append(pid)
                continue
            if reaped == 0:
                still.append(pid)
        waiting = still
        if waiting:
            time.sleep(0.01)
    return killed
