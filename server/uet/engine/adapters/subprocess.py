"""The subprocess adapter: runs an argument vector as a child process.

Each child starts in its own process group with stdin from ``/dev/null`` and stdout+stderr
on one pipe (:mod:`uet.engine.adapters.spawn`); the calling (worker) thread then watches it
to its end (:mod:`uet.engine.adapters.supervision`), reaps it and reports how it ended.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Mapping

from uet.engine.adapters.base import (
    AdapterRequest,
    AdapterResult,
    AttemptStatus,
    OutputSink,
    SpawnHook,
)
from uet.engine.adapters.logs import CappedLog
from uet.engine.adapters.spawn import spawn
from uet.engine.adapters.supervision import Ending, reap_swept_group, supervise
from uet.engine.cancel import CancelToken

__all__ = ["SubprocessAdapter"]


class SubprocessAdapter:
    """Runs requests as child processes; ``base_env`` is the environment a request's
    ``env`` extends (default: the engine's own environment, which children inherit as it
    is when they have no extra variables). Immutable once built; one instance serves every
    worker thread."""

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
            ending = supervise(child, request, cancel, sink, on_output)
            if ending.escaped:
                sink.write(_escape_note(ending.escaped).encode() + b"\n")
        except BaseException:
            child.abandon()  # an engine bug or an interrupt: the group must not outlive it
            raise
        finally:
            sink.close()
            child.close_output()
        return_code = child.wait()
        reap_swept_group(child.pid)
        status, reason = _classify(request, return_code, ending, cancel)
        if ending.escaped:
            reason = f"{reason}; {_escape_note(ending.escaped)}"
        return AdapterResult(
            status=status,
            exit_code=return_code,
            duration_ms=_elapsed_ms(started),
            reason=reason,
            log_path=sink.path if sink.created else None,
            output_bytes=sink.total_bytes,
            truncated=sink.truncated,
            process_group=child.pid,
            escaped=ending.escaped,
        )


def _classify(
    request: AdapterRequest, return_code: int, ending: Ending, cancel: CancelToken
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


def _escape_note(escaped: tuple[str, ...]) -> str:
    return f"killed {len(escaped)} process(es) that left its process group: {', '.join(escaped)}"


def _cancel_reason(cancel: CancelToken) -> str:
    return f"canceled: {cancel.reason}" if cancel.reason else "canceled"


def _elapsed_ms(started: float) -> float:
    """Milliseconds since ``started``, rounded down to whole microseconds."""
    return int((time.monotonic() - started) * 1_000_000) / 1000
