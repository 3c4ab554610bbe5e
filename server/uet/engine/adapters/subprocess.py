"""The subprocess adapter: runs an argument vector as a child process.

Each child starts in its own process group with stdin from ``/dev/null`` and stdout+stderr
on one pipe (:mod:`uet.engine.adapters.spawn`), which the calling (worker) thread reads into
a size-capped log. The thread
blocks in ``poll()`` on the pipe and the cancel token, plus a pidfd of the child (Linux)
once it has run for :data:`LEADER_WATCH_DELAY_SECONDS`, with the timeout as the poll
deadline, so it needs no helper thread and notices exit, output, cancellation and timeout
without polling loops. A short task, which is most of them, costs the engine one poll, one
read and the reaping of the child.

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
from collections.abc import Mapping

from uet.engine.adapters import processes
from uet.engine.adapters.base import (
    AdapterRequest,
    AdapterResult,
    AttemptStatus,
    OutputSink,
    SpawnHook,
)
from uet.engine.adapters.logs import CappedLog
from uet.engine.adapters.spawn import Child, spawn
from uet.engine.cancel import CancelToken

__all__ = [
    "ESCAPE_GRACE_SECONDS",
    "STRAGGLER_DRAIN_SECONDS",
    "SubprocessAdapter",
    "signal_group",
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
# has run this long (or was signalled): most tasks end sooner, and need no pidfd then.
# Stragglers holding the pipe after the leader exited are noticed this much later.
LEADER_WATCH_DELAY_SECONDS = 0.05
# Looks for an exited leader after its pipe closed, before waiting on a pidfd instead.
_REAP_TRIES = 3
_READ_CHUNK = 64 * 1024
_HAS_PIDFD = hasattr(os, "pidfd_open")
_POLL_IN = select.POLLIN | select.POLLHUP | select.POLLERR


class SubprocessAdapter:
    """Runs requests as child processes; ``base_env`` is the environment a request's
    ``env`` extends (default: the engine's own environment, which children inherit as it
    is when they have no extra variables). Immutable once built; one instance serves every
    worker thread."""

    __slots__ = ("_base_env",)

    def __init__(self, base_env: Mapping[str, str] | None = None) -> None:
        self._base_env = base_env

    @property
    def base_env(self) -> Mapping[str, str] | None:
        """The environment requests extend (``None``: the engine's own)."""
        return self._base_env

    def execute(
        self,
        request: AdapterRequest,
        cancel: CancelToken,
        on_output: OutputSink | None = None,
        on_spawn: SpawnHook | None = None,
    ) -> AdapterResult:
        """Run ``request`` to its end, its timeout, or cancellation."""
        started = time.monotonic()
        if cancel.canceled:
            return AdapterResult(AttemptStatus.CANCELED, None, 0.0, _cancel_reason(cancel))
        base_env = self._base_env
        env = None if base_env is None else dict(base_env)
        if request.env:
            env = {**(base_env if base_env is not None else os.environ), **request.env}
        try:
            child = spawn(request.argv, request.cwd, env, request.priority, request.marks)
        except OSError as exc:
            return AdapterResult(
                AttemptStatus.SPAWN_FAILED,
                None,
                _elapsed_ms(started),
                f"cannot start {request.argv[0]!r}: {exc.strerror or exc}",
            )
        sink = CappedLog(request.log_path, request.log_max_bytes)
        try:
            if on_spawn is not None:
                on_spawn(child.pid)
            ending = _supervise(child, request, cancel, sink, on_output)
            if ending.escaped:
                sink.write(_escape_note(ending.escaped).encode() + b"\n")
        except BaseException:
            child.abandon()  # an engine bug or an interrupt: the group must not outlive it
            raise
        finally:
            sink.close()
            child.close_output()
        return_code = child.wait()
        _reap_swept_group(child.pid)
        status, reason = _classify(request, return_code, ending, cancel)
        if ending.escaped:
            reason = f"{reason}; {_escape_note(ending.escaped)}"
        return AdapterResult(
            status,
            return_code,
            _elapsed_ms(started),
            reason,
            sink.path if sink.created else None,
            sink.total_bytes,
            sink.truncated,
            child.pid,
            ending.escaped,
        )


class _Ending:
    """Why supervision stopped the child, if it did, and what it had to kill."""

    __slots__ = ("escaped", "killed", "killed_at", "signalled_at", "termination")

    def __init__(self) -> None:
        self.termination: AttemptStatus | None = None
        self.signalled_at: float | None = None
        self.killed = False
        self.killed_at: float | None = None
        # Processes that left the group, held its output and were killed (described).
        self.escaped: tuple[str, ...] = ()


def _supervise(
    process: Child,
    request: AdapterRequest,
    cancel: CancelToken,
    sink: CappedLog,
    on_output: OutputSink | None,
) -> _Ending:
    """Pump output until the leader has exited and the pipe is closed (or given up on),
    then sweep the group; the leader is left unreaped for the caller.

    A short task costs one ``poll()`` and one ``read()``: the pipe and the cancel token are
    watched and, when the pipe closes, the leader is looked at (not reaped) to see if it
    has exited. A pidfd, whose poll wakes when the leader exits, is opened only for a child
    still running after :data:`LEADER_WATCH_DELAY_SECONDS`, one that closed the pipe and
    goes on, or one that was signalled.
    """
    out_fd = process.output_fd
    poller = select.poll()
    poller.register(out_fd, _POLL_IN)
    poller.register(cancel.fileno(), _POLL_IN)
    ending = _Ending()
    now = time.monotonic()
    watch = _Watch(
        out_fd,
        deadline=None if request.timeout_seconds is None else now + request.timeout_seconds,
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
            wait_ms = _next_wake_ms(request, ending, watch)
            for fd, _events in poller.poll(wait_ms):
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
    its output pipe closes while it exits, a moment before it can be waited for, and about
    half the time that moment is not over yet. Much cheaper than sleeping in ``poll()`` on a
    pidfd."""
    for _ in range(_REAP_TRIES - 1):
        if process.exited():
            return True
        os.sched_yield()
    return process.exited()


def _reap_swept_group(pgid: int) -> None:
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


class _Watch:
    """What supervision knows of a child: its deadline (``None``: no timeout), its pipe, and
    its leader's exit (through a pidfd opened at ``watch_leader_at``; ``None``: never, there
    are no pidfds)."""

    __slots__ = (
        "deadline",
        "give_up_output",
        "leader_exited_at",
        "next_member_check",
        "output_fd",
        "pidfd",
        "pipe_open",
        "watch_leader_at",
    )

    def __init__(
        self, output_fd: int, deadline: float | None, watch_leader_at: float | None
    ) -> None:
        self.output_fd = output_fd
        self.deadline = deadline
        self.watch_leader_at = watch_leader_at
        self.pipe_open = True
        self.pidfd = -1
        self.leader_exited_at: float | None = None
        self.next_member_check = 0.0
        self.give_up_output = False


def _watch_leader(pid: int, poller: select.poll, watch: _Watch) -> None:
    """Open a pidfd on the (unreaped) leader ``pid``, so that its exit wakes the poll."""
    watch.pidfd = os.pidfd_open(pid)
    poller.register(watch.pidfd, _POLL_IN)


def _check_timers(
    pgid: int, request: AdapterRequest, ending: _Ending, watch: _Watch, now: float
) -> None:
    """Timeout, stragglers holding the pipe after the leader exited, the kill grace period
    and escapes; the leader is unreaped whenever this runs. Called only when a timer runs (a
    deadline, a signal sent, or an exited leader): most tasks have none."""
    deadline = watch.deadline
    if ending.termination is None and deadline is not None and now >= deadline:
        _terminate(pgid, ending, AttemptStatus.TIMED_OUT)
    leader_gone_output_open = watch.leader_exited_at is not None and watch.pipe_open
    if (
        ending.signalled_at is None
        and leader_gone_output_open
        and now - watch.leader_exited_at >= STRAGGLER_DRAIN_SECONDS  # type: ignore[operator]
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


def _next_wake_ms(request: AdapterRequest, ending: _Ending, watch: _Watch) -> int | None:
    now = time.monotonic()
    deadline = watch.deadline
    if deadline is None and ending.signalled_at is None and watch.leader_exited_at is None:
        # Most tasks: no timer runs, the leader may be watched later.
        if watch.pidfd >= 0 or watch.watch_leader_at is None:
            return None
        return max(0, int((watch.watch_leader_at - now) * 1000) + 1)
    wakes: list[float] = []
    if ending.termination is None and deadline is not None:
        wakes.append(deadline - now)
    if ending.signalled_at is not None and not ending.killed:
        wakes.append(ending.signalled_at + request.kill_grace_seconds - now)
        if watch.leader_exited_at is not None and watch.pipe_open:
            wakes.append(watch.next_member_check - now)
    if ending.signalled_at is None and watch.leader_exited_at is not None:
        wakes.append(watch.leader_exited_at + STRAGGLER_DRAIN_SECONDS - now)
    if ending.killed_at is not None and watch.leader_exited_at is not None and watch.pipe_open:
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
    ending: _Ending,
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
        time.sleep(0.02)


def _terminate(pgid: int, ending: _Ending, why: AttemptStatus | None) -> None:
    if ending.termination is None:
        ending.termination = why
    if ending.signalled_at is None:
        ending.signalled_at = time.monotonic()
        signal_group(pgid, signal.SIGTERM)


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


_COMPLETED = (AttemptStatus.COMPLETED, "exit code 0")


def _classify(
    request: AdapterRequest, return_code: int, ending: _Ending, cancel: CancelToken
) -> tuple[AttemptStatus, str]:
    if return_code == 0 and ending.termination is None:
        return _COMPLETED  # most attempts
    if ending.termination is AttemptStatus.CANCELED:
        return AttemptStatus.CANCELED, _cancel_reason(cancel)
    if ending.termination is AttemptStatus.TIMED_OUT:
        return AttemptStatus.TIMED_OUT, f"timed out after {request.timeout_seconds:g} s"
    if return_code == 0:
        return AttemptStatus.COMPLETED, "exit code 0"
    if return_code < 0:
        try:
            name = signal.Signals(-return_code).name
        except ValueError:
            name = f"signal {-return_code}"
        return AttemptStatus.FAILED, f"killed by {name}"
    return AttemptStatus.FAILED, f"exit code {return_code}"


def _escape_note(escaped: tuple[str, ...]) -> str:
    return f"killed {len(escaped)} process(es) that left its process group: {', '.join(escaped)}"


def _cancel_reason(cancel: CancelToken) -> str:
    return f"canceled: {cancel.reason}" if cancel.reason else "canceled"


def _elapsed_ms(started: float) -> float:
    """Milliseconds since ``started``, to the microsecond."""
    return int((time.monotonic() - started) * 1_000_000) / 1000
