"""Watching a started child to its end: its output, its exit, its timeout, cancellation.

The worker thread that started the child blocks in ``poll()`` on the child's output pipe
and the cancel token, with the nearest timer as the poll's deadline: it notices output,
cancellation and timeout without a helper thread or a polling loop. Output goes to the
attempt's size-capped log as it comes. The leader's exit is seen through a pidfd (Linux),
opened only for a child still running after :data:`LEADER_WATCH_DELAY_SECONDS`, one that
closed its output and goes on, or one that was signalled: most tasks end sooner, and their
end is seen when the pipe closes.

**Invariant:** the child's process group is signalled only while the leader is unreaped
(at worst a zombie), so its id cannot have been reused by another process. On timeout or
cancellation the group gets SIGTERM, then SIGKILL after the grace period (at once when the
leader has exited and nothing else is left in the group); when the leader exits normally but
other members still hold the output pipe, they get the same treatment. However the leader
ended, its group is swept with SIGKILL before the leader is reaped, and the members it had
(re-parented to the engine, the subreaper) are reaped: nothing of the group outlives the
attempt.

**Escapes:** a process that left the group (``setsid``) is out of reach of the group's
signals. Once the group has been killed, its output is read for at most
:data:`ESCAPE_GRACE_SECONDS` more: then the processes still holding the pipe, or marked with
the attempt's id, are killed with everything they started, reaped, and named in the
attempt's reason and log, and the attempt ends whatever is left.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import time
from dataclasses import dataclass

from uet.engine.adapters import processes
from uet.engine.adapters.base import AdapterRequest, AttemptStatus, OutputSink
from uet.engine.adapters.logs import CappedLog
from uet.engine.adapters.spawn import Child
from uet.engine.cancel import CancelToken

__all__ = [
    "ESCAPE_GRACE_SECONDS",
    "LEADER_WATCH_DELAY_SECONDS",
    "STRAGGLER_DRAIN_SECONDS",
    "Ending",
    "reap_swept_group",
    "signal_group",
    "supervise",
]

log = logging.getLogger(__name__)

# After the leader exits, how long other processes may keep the output pipe open before
# they are treated as stragglers and terminated.
STRAGGLER_DRAIN_SECONDS = 0.5
# After the group was killed, how long the output may stay open (held by processes that left
# the group) before those are searched for and killed and the output is given up.
ESCAPE_GRACE_SECONDS = 0.2
# While a signalled group's leader has exited and its output stays open, how often the group
# is looked at: once nothing is left in it, it is killed without waiting out the grace period.
_MEMBER_CHECK_SECONDS = 0.1
# Between the two looks for the processes holding a pipe.
_SECOND_LOOK_SECONDS = 0.02
# How long the members of a swept group are waited for, to be reaped.
_SWEEP_REAP_SECONDS = 1.0
# While its output pipe is open, a child's leader is watched through a pidfd only once it
# has run this long (or was signalled): most tasks end sooner and need no pidfd, whose
# system calls would cost more than the rest of watching them. Stragglers holding the pipe
# after the leader exited are noticed this much later.
LEADER_WATCH_DELAY_SECONDS = 0.05
# Looks for an exited leader after its pipe closed, before watching it through a pidfd.
_EXIT_LOOKS = 3
# Without pidfds, how often the leader is looked at once its output has closed.
_EXIT_CHECK_SECONDS = 0.02
_READ_CHUNK = 64 * 1024
_HAS_PIDFD = hasattr(os, "pidfd_open")
_POLL_IN = select.POLLIN | select.POLLHUP | select.POLLERR


@dataclass
class Ending:
    """Why supervision stopped the child, if it did, and what it had to kill."""

    termination: AttemptStatus | None = None
    signalled_at: float | None = None
    killed: bool = False
    killed_at: float | None = None
    # Processes that left the group, held its output and were killed (described).
    escaped: tuple[str, ...] = ()


@dataclass
class _Watch:
    """What supervision knows of a child: its deadline (``None``: no timeout), its output
    pipe, and its leader's exit (seen through ``pidfd``, opened at ``watch_leader_at``;
    ``None``: never, there are no pidfds)."""

    output_fd: int
    deadline: float | None
    watch_leader_at: float | None
    pidfd: int = -1
    pipe_open: bool = True
    leader_exited_at: float | None = None
    next_member_check: float = 0.0
    give_up_output: bool = False


def supervise(
    process: Child,
    request: AdapterRequest,
    cancel: CancelToken,
    sink: CappedLog,
    on_output: OutputSink | None,
) -> Ending:
    """Pump output until the leader has exited and the pipe is closed (or given up on),
    then sweep the group; the leader is left unreaped for the caller."""
    out_fd = process.output_fd
    poller = select.poll()
    poller.register(out_fd, _POLL_IN)
    poller.register(cancel.fileno(), _POLL_IN)
    ending = Ending()
    now = time.monotonic()
    timeout = request.timeout_seconds
    watch = _Watch(
        out_fd,
        deadline=None if timeout is None else now + timeout,
        watch_leader_at=now + LEADER_WATCH_DELAY_SECONDS if _HAS_PIDFD else None,
    )
    try:
        while watch.pipe_open or watch.leader_exited_at is None:
            if not watch.pipe_open and watch.pidfd < 0:
                # The pipe closed before the leader was watched: it has usually exited.
                if ending.signalled_at is None and _exited_soon(process):
                    watch.leader_exited_at = time.monotonic()
                    break
                if not _HAS_PIDFD:
                    break
                _watch_leader(process.pid, poller, watch)
            elif (
                watch.pidfd < 0
                and watch.watch_leader_at is not None
                and (ending.signalled_at is not None or now >= watch.watch_leader_at)
            ):
                _watch_leader(process.pid, poller, watch)
            for fd, _events in poller.poll(_next_wake_ms(request, ending, watch)):
                if fd == out_fd:
                    data = os.read(out_fd, _READ_CHUNK)
                    if data:
                        sink.write(data)
                        if on_output is not None:
                            on_output(data)
                    else:
                        watch.pipe_open = False
                        poller.unregister(out_fd)
                elif fd == watch.pidfd:
                    watch.leader_exited_at = time.monotonic()
                    poller.unregister(fd)
                elif fd == cancel.fileno():
                    poller.unregister(fd)
                    _terminate(process.pid, ending, AttemptStatus.CANCELED)
            now = time.monotonic()
            if (
                watch.deadline is not None
                or ending.signalled_at is not None
                or watch.leader_exited_at is not None
            ):
                _check_timers(process.pid, request, ending, watch, now)
                if watch.give_up_output and watch.pipe_open:
                    watch.pipe_open = False  # what escaped was killed: stop reading
                    poller.unregister(out_fd)
        if watch.leader_exited_at is None:
            _wait_without_pidfd(process, request, cancel, ending, watch.deadline)
        if not ending.killed:
            # The leader has exited but is not reaped yet, so the group id is still ours:
            # sweep whatever of the group is left.
            signal_group(process.pid, signal.SIGKILL)
            ending.killed = True
    finally:
        if watch.pidfd >= 0:
            os.close(watch.pidfd)
    return ending


def _exited_soon(process: Child) -> bool:
    """Whether the leader has exited (left unreaped), yielding the CPU between a few looks:
    its output pipe closes while it exits, a moment before it can be waited for, so the
    first look is often too early; a few more are still cheaper than watching it through a
    pidfd."""
    for _ in range(_EXIT_LOOKS - 1):
        if process.exited():
            return True
        os.sched_yield()
    return process.exited()


def _watch_leader(pid: int, poller: select.poll, watch: _Watch) -> None:
    """Open a pidfd on the (unreaped) leader ``pid``, so that its exit wakes the poll."""
    watch.pidfd = os.pidfd_open(pid)
    poller.register(watch.pidfd, _POLL_IN)


def reap_swept_group(pgid: int) -> None:
    """Reap the members of swept group ``pgid`` that were re-parented to the engine (its
    subreaper) when their parent died; usually there are none (one call). Only members of
    that group are waited for, never another child of the process."""
    deadline = None
    while True:
        try:
            found = os.waitid(os.P_PGID, pgid, os.WEXITED | os.WNOHANG)
        except ChildProcessError:
            return  # no child of ours is left in the group
        if found is not None:
            continue
        # Members still dying (SIGKILL is on its way): wait a little for them.
        now = time.monotonic()
        deadline = deadline or now + _SWEEP_REAP_SECONDS
        if now >= deadline:
            log.warning("members of process group %d did not end after SIGKILL", pgid)
            return
        time.sleep(0.005)


def signal_group(pgid: int, signum: int) -> bool:
    """Send ``signum`` to process group ``pgid``; returns whether the group existed."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    except PermissionError:
        log.warning("not allowed to signal process group %d", pgid)
        return False
    return True


def _check_timers(
    pgid: int, request: AdapterRequest, ending: Ending, watch: _Watch, now: float
) -> None:
    """Timeout, stragglers holding the pipe after the leader exited, the kill grace period
    and escapes; the leader is unreaped whenever this runs. Called only when a timer runs (a
    deadline, a signal sent, or an exited leader)."""
    deadline = watch.deadline
    if ending.termination is None and deadline is not None and now >= deadline:
        _terminate(pgid, ending, AttemptStatus.TIMED_OUT)
    exited_at = watch.leader_exited_at
    leader_gone_output_open = exited_at is not None and watch.pipe_open
    if (
        ending.signalled_at is None
        and exited_at is not None
        and watch.pipe_open
        and now - exited_at >= STRAGGLER_DRAIN_SECONDS
    ):
        log.debug("terminating stragglers of process group %d", pgid)
        _terminate(pgid, ending, None)
    if ending.signalled_at is not None and not ending.killed:
        grace_over = now - ending.signalled_at >= request.kill_grace_seconds
        if not grace_over and leader_gone_output_open and now >= watch.next_member_check:
            # Only the output is left open: if nothing of the group remains, what holds it
            # has escaped the group, and waiting out the grace period serves nobody.
            grace_over = not processes.group_members(pgid)
            watch.next_member_check = now + _MEMBER_CHECK_SECONDS
        if grace_over:
            signal_group(pgid, signal.SIGKILL)
            ending.killed = True
            ending.killed_at = now
    if (
        ending.killed_at is not None
        and leader_gone_output_open
        and now - ending.killed_at >= ESCAPE_GRACE_SECONDS
    ):
        ending.escaped = _kill_escapees(pgid, request, watch.output_fd)
        watch.give_up_output = True


def _kill_escapees(pgid: int, request: AdapterRequest, output_fd: int) -> tuple[str, ...]:
    """Kill (and reap) what keeps the output of group ``pgid`` open from outside the
    group, or carries the attempt's mark, with everything it started; describes them."""
    inode = os.fstat(output_fd).st_ino
    own = os.getpid()
    first = {process.pid for process in processes.pipe_holders(inode)}
    # A child the engine is starting for another task holds every descriptor of the engine
    # for a moment, until it execs: only what holds the pipe in two looks counts.
    time.sleep(_SECOND_LOOK_SECONDS)
    roots = [
        process
        for process in processes.pipe_holders(inode)
        if process.pid in first and process.pgid != pgid and process.pid != own
    ]
    marks = request.marks
    if marks is not None:
        known = {process.pid for process in roots}
        roots += [
            process
            for process in processes.marked(marks.run_id, marks.attempt_id)
            if process.pid not in known
        ]
    killed = processes.kill_and_reap(processes.with_descendants(roots))
    if killed:
        log.warning(
            "killed %d process(es) that left process group %d: %s",
            len(killed),
            pgid,
            ", ".join(processes.describe(process) for process in killed),
        )
    return tuple(processes.describe(process) for process in killed)


def _next_wake_ms(request: AdapterRequest, ending: Ending, watch: _Watch) -> int | None:
    """Milliseconds until the nearest timer (``None``: no timer runs, wait for events)."""
    now = time.monotonic()
    wakes: list[float] = []
    if ending.termination is None and watch.deadline is not None:
        wakes.append(watch.deadline - now)
    exited_at = watch.leader_exited_at
    if ending.signalled_at is not None and not ending.killed:
        wakes.append(ending.signalled_at + request.kill_grace_seconds - now)
        if exited_at is not None and watch.pipe_open:
            wakes.append(watch.next_member_check - now)
    if ending.signalled_at is None and exited_at is not None:
        wakes.append(exited_at + STRAGGLER_DRAIN_SECONDS - now)
    if ending.killed_at is not None and exited_at is not None and watch.pipe_open:
        wakes.append(ending.killed_at + ESCAPE_GRACE_SECONDS - now)
    if watch.pidfd < 0 and watch.watch_leader_at is not None:
        wakes.append(watch.watch_leader_at - now)
    if not wakes:
        return None
    return max(0, int(min(wakes) * 1000) + 1)


def _wait_without_pidfd(
    process: Child,
    request: AdapterRequest,
    cancel: CancelToken,
    ending: Ending,
    deadline: float | None,
) -> None:
    """Without pidfd (not Linux): the pipe is closed; wait for the leader to exit (left
    unreaped), still honouring the timeout and cancellation."""
    while not process.exited():
        if cancel.canceled and ending.termination is None:
            _terminate(process.pid, ending, AttemptStatus.CANCELED)
        if ending.termination is None and deadline is not None and time.monotonic() >= deadline:
            _terminate(process.pid, ending, AttemptStatus.TIMED_OUT)
        if (
            ending.signalled_at is not None
            and not ending.killed
            and time.monotonic() - ending.signalled_at >= request.kill_grace_seconds
        ):
            signal_group(process.pid, signal.SIGKILL)
            ending.killed = True
        time.sleep(_EXIT_CHECK_SECONDS)


def _terminate(pgid: int, ending: Ending, why: AttemptStatus | None) -> None:
    if ending.termination is None:
        ending.termination = why
    if ending.signalled_at is None:
        ending.signalled_at = time.monotonic()
        signal_group(pgid, signal.SIGTERM)
