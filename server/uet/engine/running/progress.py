"""Progress of a run, and the events subscribers (CLI bar, language server) receive.

The engine publishes a closed set of :class:`EngineEventKind` events. A
:class:`ProgressTracker` turns task starts and outcomes into :class:`ProgressSnapshot`s
(done/total, %, running tasks, elapsed, ETA from observed durations) that travel with the
events. Subscribers are called synchronously on the engine's threads and must return
quickly (hand work to their own thread or loop); one that raises is logged and kept.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import NamedTuple

__all__ = [
    "EngineEvent",
    "EngineEventKind",
    "EventBus",
    "KindFilter",
    "ProgressSnapshot",
    "ProgressTracker",
    "Subscriber",
]

log = logging.getLogger(__name__)


class EngineEventKind(StrEnum):
    """What happened in a run (in-process events; the run store keeps run_events)."""

    RUN_STARTED = "run_started"
    TASK_STARTED = "task_started"
    TASK_OUTPUT = "task_output"
    TASK_FINISHED = "task_finished"
    TASK_SKIPPED = "task_skipped"
    RETRY_SCHEDULED = "retry_scheduled"
    RUN_FINISHED = "run_finished"


class ProgressSnapshot(NamedTuple):
    """Where a run stands at one moment."""

    run_id: str
    total: int
    succeeded: int
    failed: int
    skipped: int
    canceled: int
    running: tuple[str, ...]
    elapsed_seconds: float
    eta_seconds: float | None

    @property
    def done(self) -> int:
        """Tasks with an outcome."""
        return self.succeeded + self.failed + self.skipped + self.canceled

    @property
    def percent(self) -> float:
        """Completion in percent (100 for an empty run)."""
        return 100.0 if self.total == 0 else 100.0 * self.done / self.total


class EngineEvent(NamedTuple):
    """One event of a run. ``snapshot`` is the progress right after it happened."""

    kind: EngineEventKind
    run_id: str
    snapshot: ProgressSnapshot
    task_id: str | None = None
    state: str | None = None
    detail: str | None = None
    attempt: int | None = None
    output: bytes | None = None


Subscriber = Callable[[EngineEvent], None]


class KindFilter:
    """A subscriber that takes only events of ``kinds`` (:class:`EngineEventKind` values):
    the engine does not build the other events for it (a run publishes one or two per task,
    and one per output chunk)."""

    def __init__(self, kinds: frozenset[str], subscriber: Subscriber) -> None:
        self.kinds = kinds
        self.subscriber = subscriber

    def __call__(self, event: EngineEvent) -> None:
        if event.kind in self.kinds:
            self.subscriber(event)


_ALL_KINDS: frozenset[str] = frozenset(EngineEventKind)


class EventBus:
    """Subscribers of one run (thread-safe). A :class:`KindFilter` subscribes to its kinds,
    anything else to every kind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: tuple[Subscriber, ...] = ()
        # Who gets each kind (kinds nobody wants are absent).
        self._routes: dict[str, tuple[Subscriber, ...]] = {}

    @property
    def active(self) -> bool:
        """Whether anyone listens."""
        return bool(self._subscribers)

    def wants(self, kind: EngineEventKind) -> bool:
        """Whether anyone listens to events of ``kind`` (lets the engine skip building
        them)."""
        return kind in self._routes

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add ``subscriber``; returns the function that removes it."""
        with self._lock:
            self._set((*self._subscribers, subscriber))

        def unsubscribe() -> None:
            with self._lock:
                self._set(tuple(s for s in self._subscribers if s is not subscriber))

        return unsubscribe

    def publish(self, event: EngineEvent) -> None:
        """Deliver ``event`` to its subscribers; a failing subscriber is logged."""
        for subscriber in self._routes.get(event.kind, ()):
            try:
                subscriber(event)
            except Exception:  # one barrier per subscriber: never break the run
                log.exception("progress subscriber %r failed on %s", subscriber, event.kind)

    def _set(self, subscribers: tuple[Subscriber, ...]) -> None:
        """Replace the subscribers and their routes (caller holds the lock); readers see
        either the old routes or the new ones, never a mix."""
        routes: dict[str, tuple[Subscriber, ...]] = {}
        for subscriber in subscribers:
            kinds = subscriber.kinds if isinstance(subscriber, KindFilter) else _ALL_KINDS
            target = subscriber.subscriber if isinstance(subscriber, KindFilter) else subscriber
            for kind in kinds:
                routes[kind] = (*routes.get(kind, ()), target)
        self._subscribers = subscribers
        self._routes = routes


class ProgressTracker:
    """Counts task outcomes and estimates the time left (thread-safe)."""

    def __init__(
        self,
        run_id: str,
        total: int,
        parallelism: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._run_id = run_id
        self._total = total
        self._parallelism = max(1, parallelism)
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self._running: dict[str, float] = {}
        self._counts = {"succeeded": 0, "failed": 0, "skipped": 0, "canceled": 0}
        self._duration_total = 0.0
        self._durations = 0

    def restore(self, succeeded: int, failed: int, skipped: int, canceled: int) -> None:
        """Count outcomes recorded before this process started (resume)."""
        with self._lock:
            self._counts.update(
                succeeded=succeeded, failed=failed, skipped=skipped, canceled=canceled
            )

    def started(self, task_id: str) -> None:
        """A task began running (again, for a retry: its start time is kept)."""
        with self._lock:
            self._running.setdefault(task_id, self._clock())

    def finished(self, task_id: str, outcome: str, duration: float | None = None) -> None:
        """A task got its outcome (``succeeded``, ``failed``, ``skipped``, ``canceled``).

        ``duration`` (seconds) is for callers that timed the task themselves; by default it
        is the time since :meth:`started`.
        """
        with self._lock:
            began = self._running.pop(task_id, None)
            if duration is None and began is not None:
                duration = self._clock() - began
            if duration is not None and outcome in ("succeeded", "failed"):
                self._duration_total += duration
                self._durations += 1
            self._counts[outcome] += 1

    def snapshot(self) -> ProgressSnapshot:
        """The progress now."""
        with self._lock:
            now = self._clock()
            counts = self._counts
            succeeded, failed = counts["succeeded"], counts["failed"]
            skipped, canceled = counts["skipped"], counts["canceled"]
            eta = None
            if self._durations:
                left = self._total - (succeeded + failed + skipped + canceled)
                mean = self._duration_total / self._durations
                eta = mean * left / min(self._parallelism, max(left, 1))
            return ProgressSnapshot(
                run_id=self._run_id,
                total=self._total,
                succeeded=succeeded,
                failed=failed,
                skipped=skipped,
                canceled=canceled,
                running=tuple(self._running),
                elapsed_seconds=now - self._started,
                eta_seconds=eta,
            )
