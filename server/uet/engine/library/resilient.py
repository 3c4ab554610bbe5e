"""``ResilientExecutor``: retries with backoff and a circuit breaker per tool, around any
Python call.

It offers the original UET's executor methods (``register_tool``, ``execute``,
``get_tool_state``) over the engine's own resilience (:mod:`uet.engine.running.resilience`):
the same tenacity loop with exponential backoff and jitter, and the same breaker states
(closed → open after ``failure_threshold`` consecutive failures → half-open after
``recovery_timeout``, one trial call at a time). As in a run, the breaker is asked before
every attempt, so retries stop as soon as a tool's circuit opens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple, ParamSpec, TypeVar

from uet.engine.errors import EngineError
from uet.engine.planning.router_config import (
    DEFAULT_BREAKER,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RETRY,
    BreakerPolicy,
    RetryPolicy,
)
from uet.engine.running.resilience import BreakerBoard, CircuitState, retry_controller

__all__ = ["CircuitBreakerOpen", "ResilientExecutor", "RetryExhausted", "ToolState"]

P = ParamSpec("P")
T = TypeVar("T")


class CircuitBreakerOpen(EngineError):
    """The tool's circuit is open: the call was not made. ``retry_in_seconds`` is the time
    until a trial call is let through (``0`` while a trial is under way)."""

    def __init__(self, tool: str, retry_in_seconds: float) -> None:
        self.tool = tool
        self.retry_in_seconds = retry_in_seconds
        super().__init__(
            f"the circuit of {tool!r} is open: calls are refused for {retry_in_seconds:.0f} s"
        )


class RetryExhausted(EngineError):
    """Every attempt failed; ``last_error`` is the last attempt's exception."""

    def __init__(self, tool: str, attempts: int, last_error: BaseException) -> None:
        self.tool = tool
        self.attempts = attempts
        self.last_error = last_error
        plural = "" if attempts == 1 else "s"
        super().__init__(
            f"{tool!r} failed after {attempts} attempt{plural}; last error: "
            f"{type(last_error).__name__}: {last_error}"
        )


class ToolState(NamedTuple):
    """A tool's circuit and settings. ``retry_in_seconds``: see :class:`CircuitBreakerOpen`
    (``None`` unless the circuit is open)."""

    tool: str
    state: CircuitState
    failure_count: int
    failure_threshold: int
    recovery_timeout: float
    max_attempts: int
    retry_in_seconds: float | None


class _Tool(NamedTuple):
    board: BreakerBoard
    breaker: BreakerPolicy
    retry: RetryPolicy
    max_attempts: int
    retry_on: tuple[type[Exception], ...] = (Exception,)


class _AttemptFailed(Exception):
    """An attempt raised an exception the tool's calls are retried on."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class ResilientExecutor:
    """Calls functions on behalf of named tools, with retries and a circuit per tool.

    ``clock`` (seconds, for the breakers) and ``sleep`` (between attempts) are injectable
    for tests; by default ``time.monotonic`` and ``time.sleep``.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tools: dict[str, _Tool] = {}

    def register_tool(
        self,
        tool: str,
        *,
        failure_threshold: int = DEFAULT_BREAKER.failure_threshold,
        recovery_timeout: float = DEFAULT_BREAKER.recovery_timeout_seconds,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        base_delay: float = DEFAULT_RETRY.base_delay_seconds,
        max_delay: float = DEFAULT_RETRY.max_delay_seconds,
        retry_on: tuple[type[Exception], ...] = (Exception,),
        max_retries: int | None = None,
    ) -> None:
        """Set up (or reset) ``tool``.

        ``max_attempts`` calls at most per :meth:`execute`, the first included
        (``max_retries`` is the original UET's name for the same number); ``base_delay`` and
        ``max_delay`` shape the backoff: about ``base_delay × 2^(n-1)`` seconds after the
        n-th failure, plus up to ``base_delay`` of jitter. Only exceptions of ``retry_on``
        types are retried; every exception counts as a failure for the circuit.
        """
        attempts = max_attempts if max_retries is None else max_retries
        if attempts < 1 or failure_threshold < 1:
            raise ValueError("max_attempts and failure_threshold must be at least 1")
        if min(recovery_timeout, base_delay, max_delay) < 0:
            raise ValueError("recovery_timeout, base_delay and max_delay must not be negative")
        breaker = BreakerPolicy(failure_threshold, float(recovery_timeout))
        retry = RetryPolicy(attempts, float(base_delay), float(max_delay))
        entry = _Tool(self._board(tool, breaker), breaker, retry, attempts, retry_on)
        with self._lock:
            self._tools[tool] = entry

    def execute(self, tool: str, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)``, retried on failure; ``tool`` is registered with the
        defaults when it was not.

        Raises :class:`RetryExhausted` when every attempt failed,
        :class:`CircuitBreakerOpen` when the circuit refused an attempt (the first or a
        retry), and a non-retried exception as it is.
        """
        entry = self._entry(tool)
        controller = retry_controller(
            entry.max_attempts, entry.retry, self._sleep, retry_on=_AttemptFailed
        )
        attempts = 0
        try:
            for attempt in controller:
                with attempt:
                    attempts += 1
                    return self._attempt(tool, entry, fn, *args, **kwargs)
        except _AttemptFailed as failed:
            raise RetryExhausted(tool, attempts, failed.error) from failed.error
        raise AssertionError("tenacity stopped without an outcome")  # pragma: no cover

    def get_tool_state(self, tool: str) -> ToolState | None:
        """The circuit of ``tool`` now, or ``None`` when it was never registered."""
        with self._lock:
            entry = self._tools.get(tool)
        if entry is None:
            return None
        breaker = entry.board.get(tool)
        retry_in = None
        if breaker.state is CircuitState.OPEN and breaker.opened_at is not None:
            waited = self._clock() - breaker.opened_at
            retry_in = max(0.0, entry.breaker.recovery_timeout_seconds - waited)
        return ToolState(
            tool=tool,
            state=breaker.state,
            failure_count=breaker.failure_count,
            failure_threshold=entry.breaker.failure_threshold,
            recovery_timeout=entry.breaker.recovery_timeout_seconds,
            max_attempts=entry.max_attempts,
            retry_in_seconds=retry_in,
        )

    def reset_tool(self, tool: str) -> None:
        """Close the circuit of ``tool`` and forget its failures (keeps its settings)."""
        with self._lock:
            entry = self._tools[tool]
            self._tools[tool] = entry._replace(board=self._board(tool, entry.breaker))

    def _entry(self, tool: str) -> _Tool:
        """The settings of ``tool``, the defaults' when it was never registered."""
        with self._lock:
            entry = self._tools.get(tool)
        if entry is None:
            breaker, retry = BreakerPolicy(), RetryPolicy(max_attempts=DEFAULT_MAX_ATTEMPTS)
            default = _Tool(self._board(tool, breaker), breaker, retry, DEFAULT_MAX_ATTEMPTS)
            with self._lock:  # two first calls at once share one breaker
                entry = self._tools.setdefault(tool, default)
        return entry

    def _board(self, tool: str, policy: BreakerPolicy) -> BreakerBoard:
        return BreakerBoard({}, {tool: policy}, self._clock)

    def _attempt(
        self, tool: str, entry: _Tool, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """One call through the breaker."""
        board = entry.board
        if not board.admit(tool):
            state = self.get_tool_state(tool)
            retry_in = state.retry_in_seconds if state is not None else None
            raise CircuitBreakerOpen(tool, retry_in or 0.0)
        try:
            value = fn(*args, **kwargs)
        except entry.retry_on as exc:
            board.record(tool, success=False)
            raise _AttemptFailed(exc) from exc
        except Exception:
            board.record(tool, success=False)
            raise
        except BaseException:
            board.release(tool)  # interrupted: no outcome, free a half-open trial
            raise
        board.record(tool, success=True)
        return value
