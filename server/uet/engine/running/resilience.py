"""Retries (through tenacity) and per-app circuit breakers (persisted in the run store).

Retry: an attempt is retried only when its failure is retryable for its app (a timeout when
``retry_on_timeout``, or an exit code listed in ``retryable_exit_codes``), up to
``max_attempts`` attempts in all, sleeping ``base × 2^(n-1) + uniform(0, base)`` seconds
(capped at ``max_delay``) after the n-th failed attempt: the first retry waits about
``base``, not ``2 × base``.

Circuit breaker: closed → open after ``failure_threshold`` consecutive failures → half-open
once ``recovery_timeout`` has passed, letting one trial attempt through → closed on its
success, open again on its failure. The breaker is asked before *every* attempt, so retries
stop while it is open. The transition functions are pure; :class:`BreakerBoard` holds the
current states of one run and reports every change so that it is written to the database
(state survives a restart; a trial cut short by a crash is simply allowed again).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

from uet.engine.adapters.base import AdapterResult, AttemptStatus
from uet.engine.planning.router_config import BreakerPolicy, RetryPolicy

if TYPE_CHECKING:  # imported when a run needs a retry loop: most tasks never do
    import tenacity

__all__ = [
    "Breaker",
    "BreakerBoard",
    "CircuitState",
    "RetryableFailure",
    "admit",
    "is_retryable",
    "load_breakers",
    "record_outcome",
    "retry_controller",
    "save_breaker",
]


class CircuitState(StrEnum):
    """State of an app's circuit."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Breaker(NamedTuple):
    """One app's breaker. ``trial_in_flight`` lives in memory only."""

    app_id: str
    state: CircuitState = CircuitState.CLOSED
    failure_count: int = 0
    opened_at: float | None = None
    trial_in_flight: bool = False


def admit(breaker: Breaker, policy: BreakerPolicy, now: float) -> tuple[bool, Breaker]:
    """Whether an attempt may call the app now, and the breaker after asking."""
    if breaker.state is CircuitState.CLOSED:
        return True, breaker
    if breaker.state is CircuitState.OPEN:
        opened_at = breaker.opened_at if breaker.opened_at is not None else now
        if now - opened_at < policy.recovery_timeout_seconds:
            return False, breaker
        return True, breaker._replace(state=CircuitState.HALF_OPEN, trial_in_flight=True)
    if breaker.trial_in_flight:
        return False, breaker
    return True, breaker._replace(trial_in_flight=True)


def record_outcome(breaker: Breaker, policy: BreakerPolicy, success: bool, now: float) -> Breaker:
    """The breaker after an admitted attempt succeeded or failed."""
    if success:
        return Breaker(breaker.app_id)
    failures = breaker.failure_count + 1
    if breaker.state is CircuitState.HALF_OPEN:
        return Breaker(breaker.app_id, CircuitState.OPEN, failures, now)
    if breaker.state is CircuitState.OPEN:
        return breaker._replace(failure_count=failures)
    if failures >= policy.failure_threshold:
        return Breaker(breaker.app_id, CircuitState.OPEN, failures, now)
    return breaker._replace(failure_count=failures)


def is_open(breaker: Breaker, policy: BreakerPolicy, now: float) -> bool:
    """Whether the circuit refuses calls now (open and not yet due for a trial)."""
    allowed, _ = admit(breaker, policy, now)
    return not allowed


BreakerListener = Callable[[Breaker, Breaker], None]


class BreakerBoard:
    """The breakers of one run (thread-safe); ``on_change(old, new)`` persists changes."""

    def __init__(
        self,
        breakers: Mapping[str, Breaker],
        policies: Mapping[str, BreakerPolicy],
        clock: Callable[[], float],
        on_change: BreakerListener | None = None,
    ) -> None:
        self._breakers = dict(breakers)
        self._policies = dict(policies)
        self._clock = clock
        self._on_change = on_change
        self._lock = threading.Lock()

    def get(self, app_id: str) -> Breaker:
        """The current breaker of ``app_id``."""
        with self._lock:
            return self._breakers.get(app_id) or Breaker(app_id)

    def is_open(self, app_id: str) -> bool:
        """Whether ``app_id``'s circuit refuses calls now."""
        with self._lock:
            breaker = self._breakers.get(app_id) or Breaker(app_id)
            return is_open(breaker, self._policy(app_id), self._clock())

    def admit(self, app_id: str) -> bool:
        """Ask before an attempt; a half-open breaker admits one trial at a time."""
        with self._lock:
            old = self._breakers.get(app_id) or Breaker(app_id)
            allowed, new = admit(old, self._policy(app_id), self._clock())
            self._breakers[app_id] = new
        self._changed(old, new)
        return allowed

    def record(self, app_id: str, success: bool) -> None:
        """Report the outcome of an admitted attempt."""
        with self._lock:
            old = self._breakers.get(app_id) or Breaker(app_id)
            new = record_outcome(old, self._policy(app_id), success, self._clock())
            self._breakers[app_id] = new
        self._changed(old, new)

    def release(self, app_id: str) -> None:
        """An admitted attempt ended without an outcome (canceled): free a half-open trial."""
        with self._lock:
            old = self._breakers.get(app_id)
            if old is not None and old.trial_in_flight:
                self._breakers[app_id] = old._replace(trial_in_flight=False)

    def _policy(self, app_id: str) -> BreakerPolicy:
        return self._policies.get(app_id) or BreakerPolicy()

    def _changed(self, old: Breaker, new: Breaker) -> None:
        persisted_old = (old.state, old.failure_count, old.opened_at)
        if self._on_change is not None and persisted_old != (
            new.state,
            new.failure_count,
            new.opened_at,
        ):
            self._on_change(old, new)


def load_breakers(connection: sqlite3.Connection) -> dict[str, Breaker]:
    """Every persisted breaker."""
    return {
        row[0]: Breaker(row[0], CircuitState(row[1]), int(row[2]), row[3])
        for row in connection.execute(
            "SELECT app_id, state, failure_count, opened_at FROM circuit_breakers"
        )
    }


def save_breaker(connection: sqlite3.Connection, breaker: Breaker, now: str) -> None:
    """Insert or update one breaker (inside the caller's transaction)."""
    connection.execute(
        "INSERT INTO circuit_breakers (app_id, state, failure_count, opened_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (app_id) DO UPDATE SET state = excluded.state,"
        " failure_count = excluded.failure_count, opened_at = excluded.opened_at,"
        " updated_at = excluded.updated_at",
        (breaker.app_id, breaker.state, breaker.failure_count, breaker.opened_at, now),
    )


class RetryableFailure(Exception):
    """Raised inside a tenacity attempt when the attempt's failure may be retried."""

    def __init__(self, result: AdapterResult) -> None:
        super().__init__(result.reason)
        self.result = result


def is_retryable(result: AdapterResult, policy: RetryPolicy) -> bool:
    """Whether ``result`` is a failure ``policy`` retries."""
    if result.status is AttemptStatus.TIMED_OUT:
        return policy.retry_on_timeout
    if result.status is AttemptStatus.FAILED and result.exit_code is not None:
        return result.exit_code in policy.retryable_exit_codes
    return False


def retry_controller(
    max_attempts: int,
    policy: RetryPolicy,
    sleep: Callable[[float], Any],
    before_sleep: Callable[[tenacity.RetryCallState], None] | None = None,
    retry_on: type[BaseException] = RetryableFailure,
) -> tenacity.Retrying:
    """A tenacity loop: ``max_attempts`` attempts, retrying ``retry_on`` exceptions only
    (a run's :class:`RetryableFailure`; ``uet.engine.ResilientExecutor`` has its own), with
    exponential backoff and jitter between attempts."""
    import tenacity

    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(max_attempts),
        wait=_exponential_jitter(policy.base_delay_seconds, policy.max_delay_seconds),
        retry=tenacity.retry_if_exception_type(retry_on),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )


def _exponential_jitter(base: float, cap: float) -> tenacity.wait.wait_base:
    import tenacity

    try:  # tenacity >= 9.1 names the factor ``multiplier``
        return tenacity.wait_exponential_jitter(multiplier=base, max=cap, jitter=base)
    except TypeError:  # older tenacity: ``initial``
        return tenacity.wait_exponential_jitter(initial=base, max=cap, jitter=base)
