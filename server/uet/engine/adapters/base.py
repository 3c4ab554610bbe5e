"""The adapter interface: how one attempt of a task is executed.

An adapter turns an :class:`AdapterRequest` (what to run, where, for how long, where its
output goes) into an :class:`AdapterResult`, streaming output chunks to an optional sink and
stopping early when the cancel token fires. Adapters never touch the run store: recording is
the engine's job, so an adapter can be tested (and replaced) on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple, Protocol

from uet.engine.adapters.spawn import CpuPriority, Marks
from uet.engine.cancel import CancelToken

__all__ = [
    "DEFAULT_KILL_GRACE_SECONDS",
    "DEFAULT_LOG_MAX_BYTES",
    "Adapter",
    "AdapterRequest",
    "AdapterResult",
    "AttemptStatus",
    "OutputSink",
    "SpawnHook",
]

DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_KILL_GRACE_SECONDS = 3.0

OutputSink = Callable[[bytes], None]
SpawnHook = Callable[[int], None]
# The default ``env`` of a request: no extra variables (read-only, shared by every request).
_NO_ENV: Mapping[str, str] = MappingProxyType({})


class AttemptStatus(StrEnum):
    """How an attempt ended."""

    COMPLETED = "completed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELED = "canceled"
    SPAWN_FAILED = "spawn_failed"


class AdapterRequest(NamedTuple):
    """One attempt to run: an argument vector (never a shell string unless ``shell``)."""

    argv: tuple[str, ...]
    cwd: Path
    # Where output goes (created on the first byte).
    log_path: Path
    env: Mapping[str, str] = _NO_ENV
    timeout_seconds: float | None = None
    log_max_bytes: int = DEFAULT_LOG_MAX_BYTES
    kill_grace_seconds: float = DEFAULT_KILL_GRACE_SECONDS
    # CPU priority of the child's process tree; never applied to the engine.
    priority: CpuPriority = CpuPriority.NORMAL
    # The run and attempt the child is marked with, and the run's process-group record.
    marks: Marks | None = None


class AdapterResult(NamedTuple):
    """The outcome of one attempt. ``log_path`` is ``None`` when there was no output."""

    status: AttemptStatus
    exit_code: int | None
    duration_ms: float
    reason: str
    log_path: Path | None = None
    output_bytes: int = 0
    truncated: bool = False
    process_group: int | None = None
    # Processes that left the group and were killed when the attempt ended (described).
    escaped: tuple[str, ...] = ()

    @property
    def succeeded(self) -> bool:
        """Whether the attempt completed (exit code 0)."""
        return self.status is AttemptStatus.COMPLETED


class Adapter(Protocol):
    """Executes attempts. Implementations must be safe to call from several threads."""

    def execute(
        self,
        request: AdapterRequest,
        cancel: CancelToken,
        on_output: OutputSink | None = None,
        on_spawn: SpawnHook | None = None,
    ) -> AdapterResult:
        """Run ``request`` to its end (or timeout, or cancellation) and report how it went."""
        ...
