"""The subprocess adapter: runs an argument vector as a child process.

Each child starts in its own process group with stdin from ``/dev/null`` and stdout+stderr
on one pipe (:mod:`uet.engine.adapters.spawn`), which the calling (worker) thread reads into
a size-capped log. The thread
blocks in ``poll()`` on three descriptors: the pipe, a pidfd of the child (Linux) and the
cancel token, with the timeout as the poll deadline, so it needs no helper thread and
notices exit, output, cancellation and timeout without polling loops.

**Invariant:** the child's process group is signalled only while the leader is unreaped
(at worst a zombie), so its id cannot have been reused by another process. On timeout or
cancellation the group gets SIGTERM, then SIGKILL after the grace period; when the leader
exits normally but other members still hold the output pipe, they get the same treatment.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass

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

__all__ = ["STRAGGLER_DRAIN_SECONDS", "SubprocessAdapter", "signal_group"]

log = logging.getLogger(__name__)

# After the leader exits, how long other processes may keep the output pipe open before
# they are treated as stragglers and terminated.
STRAGGLER_DRAIN_SECONDS = 0.5
_READ_CHUNK = 64 * 1024
_HAS_PIDFD = hasattr(os, "pidfd_open")
_POLL_IN = select.POLLIN | select.POLLHUP | select.POLLERR


@dataclass(frozen=True, slots=True)
class SubprocessAdapter:
    """Runs requests as child processes; ``base_env`` is the environment a request's
    ``env`` extends (default: the engine's own environment, which children inherit as it
    is when they have no extra variables)."""

    base_env: Mapping[str, str] | None = None

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
        env = None if self.base_env is None else dict(self.base_env)
        if request.env:
            env = {**(self.base_env if self.base_env is not None else os.environ), **request.env}
        try:
            child = spawn(request.argv, request.cwd, env, request.priority)
        except OSError as exc:
            return AdapterResult(
                AttemptStatus.SPAWN_FAILED,
                None,
                _elapsed_ms(started),
                f"cannot start {request.argv[0]!r}: {exc.strerror or exc}",
            )
        if on_spawn is not None:
            on_spawn(child.pid)
        sink = CappedLog(request.log_path, request.log_max_bytes)
        try:
            ending = _supervise(child, request, cancel, sink, on_output)
        finally:
            sink.close()
            child.close_output()
        return_code = child.wait()
        return _result(
            request,
            pid=child.pid,
            return_code=return_code,
            ending=ending,
            sink=sink,
            started=started,
            cancel=cancel,
        )


@dataclass(slots=True)
class _Ending:
    """Why supervision stopped the child, if it did."""

    termination: AttemptStatus | None = None
    signalled_at: float | None = None
    killed: bool = False


def _supervise(
    process: Child,
    request: AdapterRequest,
    cancel: CancelToken,
    sink: CappedLog,
    on_output: OutputSink | None,
) -> _Ending:
    """Pump output until the leader has exited and the pipe is closed (or given up on)."""
    out_fd = process.output_fd
    pidfd = os.pidfd_open(process.pid) if _HAS_PIDFD else -1
    poller = select.poll()
    poller.register(out_fd, _POLL_IN)
    poller.register(cancel.fileno(), _POLL_IN)
    if pidfd >= 0:
        poller.register(pidfd, _POLL_IN)
    ending = _Ending()
    deadline = (
        None if request.timeout_seconds is None else (time.monotonic() + request.timeout_seconds)
    )
    pipe_open = True
    leader_exited_at: float | None = None
    watching_cancel = True
    try:
        while pipe_open or (leader_exited_at is None and pidfd >= 0):
            wait_ms = _next_wake_ms(request, ending, deadline, leader_exited_at)
            for fd, _events in poller.poll(wait_ms):
                if fd == out_fd:
                    data = os.read(out_fd, _READ_CHUNK)
                    if data:
                        sink.write(data)
                        if on_output is not None:
                            on_output(data)
                    else:
                        pipe_open = False
                        poller.unregister(out_fd)
                elif fd == pidfd:
                    leader_exited_at = time.monotonic()
                    poller.unregister(pidfd)
                elif fd == cancel.fileno() and watching_cancel:
                    watching_cancel = False
                    poller.unregister(fd)
                    _terminate(process.pid, ending, AttemptStatus.CANCELED)
            now = time.monotonic()
            if ending.termination is None and deadline is not None and now >= deadline:
                _terminate(process.pid, ending, AttemptStatus.TIMED_OUT)
            if (
                ending.signalled_at is None
                and leader_exited_at is not None
                and pipe_open
                and now - leader_exited_at >= STRAGGLER_DRAIN_SECONDS
            ):
                log.debug("terminating stragglers of process group %d", process.pid)
                _terminate(process.pid, ending, None)
            if (
                ending.signalled_at is not None
                and not ending.killed
                and now - ending.signalled_at >= request.kill_grace_seconds
            ):
                signal_group(process.pid, signal.SIGKILL)
                ending.killed = True
        if pidfd < 0 and ending.termination is None:
            _wait_without_pidfd(process, request, cancel, ending, deadline)
        if ending.signalled_at is not None and not ending.killed:
            # The leader is not reaped yet, so the group id is still ours: sweep it.
            signal_group(process.pid, signal.SIGKILL)
            ending.killed = True
    finally:
        if pidfd >= 0:
            os.close(pidfd)
    return ending


def _next_wake_ms(
    request: AdapterRequest,
    ending: _Ending,
    deadline: float | None,
    leader_exited_at: float | None,
) -> int | None:
    now = time.monotonic()
    wakes: list[float] = []
    if ending.termination is None and deadline is not None:
        wakes.append(deadline - now)
    if ending.signalled_at is not None and not ending.killed:
        wakes.append(ending.signalled_at + request.kill_grace_seconds - now)
    if ending.signalled_at is None and leader_exited_at is not None:
        wakes.append(leader_exited_at + STRAGGLER_DRAIN_SECONDS - now)
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
    """Without pidfd (not Linux): the pipe is closed; wait for the leader, still honouring
    the timeout and cancellation."""
    while process.poll() is None:
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


def _result(
    request: AdapterRequest,
    *,
    pid: int,
    return_code: int,
    ending: _Ending,
    sink: CappedLog,
    started: float,
    cancel: CancelToken,
) -> AdapterResult:
    status, reason = _classify(request, return_code, ending, cancel)
    return AdapterResult(
        status=status,
        exit_code=return_code,
        duration_ms=_elapsed_ms(started),
        reason=reason,
        log_path=request.log_path if sink.created else None,
        output_bytes=sink.total_bytes,
        truncated=sink.truncated,
        process_group=pid,
    )


def _classify(
    request: AdapterRequest, return_code: int, ending: _Ending, cancel: CancelToken
) -> tuple[AttemptStatus, str]:
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


def _cancel_reason(cancel: CancelToken) -> str:
    return f"canceled: {cancel.reason}" if cancel.reason else "canceled"


def _elapsed_ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000.0, 3)
