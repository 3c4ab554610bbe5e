"""``ProgressTracker``: completion, elapsed time and an estimate of the time left, for
programs that run tasks themselves.

It offers the original UET's tracker methods (``start``, ``start_task``, ``update_task_progress``,
``complete_task``, ``get_snapshot``) over the engine's own tracker
(:class:`uet.engine.running.progress.ProgressTracker`, whose snapshots travel with
``uet run``'s events): outcomes are counted and the time left is estimated the same way,
from the durations of finished tasks. On top, a running task may report how far it got,
which counts towards :attr:`TrackerSnapshot.completion_percent`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from uet.engine.running.progress import ProgressTracker as OutcomeCounter

__all__ = ["ProgressTracker", "TrackerSnapshot"]


@dataclass(frozen=True, slots=True)
class TrackerSnapshot:
    """Where the tracked work stands at one moment.

    ``pending_tasks`` counts the tasks without an outcome, running ones included.
    ``completion_percent`` counts finished tasks (whatever their outcome) plus the reported
    share of running ones. The estimates are ``None`` until a task finished with a duration;
    ``elapsed_seconds`` and ``started_at`` are ``None`` before :meth:`ProgressTracker.start`.
    """

    run_id: str
    total_tasks: int
    completed_tasks: int
    failed_tasks: int
    skipped_tasks: int
    pending_tasks: int
    running_tasks: tuple[str, ...]
    completion_percent: float
    started_at: datetime | None
    elapsed_seconds: float | None
    estimated_remaining_seconds: float | None
    estimated_completion: datetime | None


class ProgressTracker:
    """Tracks ``total_tasks`` tasks of one run (thread-safe).

    ``parallelism`` is how many tasks run at once (the estimate divides the work left by
    it); ``clock`` measures elapsed time and task durations (``time.monotonic``: inject
    another to test).
    """

    def __init__(
        self,
        run_id: str,
        total_tasks: int,
        *,
        parallelism: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if total_tasks < 0:
            raise ValueError("total_tasks must not be negative")
        self.run_id = run_id
        self.total_tasks = total_tasks
        self._parallelism = parallelism
        self._clock = clock
        self._lock = threading.Lock()
        self._counter: OutcomeCounter | None = None
        self._started_at: datetime | None = None
        # Running tasks -> the percent they reported; the last one started comes last.
        self._shares: dict[str, float] = {}
        self._finished: set[str] = set()

    def start(self) -> None:
        """Start the clock of the run (the first :meth:`start_task` does it otherwise)."""
        with self._lock:
            self._started()

    def start_task(self, task_id: str) -> None:
        """A task began (a task started again keeps its first start time)."""
        with self._lock:
            if task_id in self._finished:
                raise ValueError(f"task {task_id!r} has an outcome already")
            self._started().started(task_id)
            self._shares[task_id] = self._shares.pop(task_id, 0.0)

    def update_task_progress(self, percent: float, task_id: str | None = None) -> None:
        """How far a running task got, 0 to 100 (clamped); by default the task started
        last. Raises ``ValueError`` when no such task is running."""
        with self._lock:
            target = task_id if task_id is not None else next(reversed(self._shares), None)
            if target is None or target not in self._shares:
                raise ValueError(f"task {target!r} is not running" if target else "no task runs")
            self._shares[target] = min(100.0, max(0.0, percent))

    def complete_task(self, task_id: str, duration: float | None = None) -> None:
        """A task succeeded. ``duration`` (seconds) is for callers that timed it; by default
        it is the time since :meth:`start_task`."""
        self._finish(task_id, "succeeded", duration)

    def fail_task(self, task_id: str, duration: float | None = None) -> None:
        """A task failed (it counts as done, and its duration feeds the estimate)."""
        self._finish(task_id, "failed", duration)

    def skip_task(self, task_id: str) -> None:
        """A task will not run (a dependency failed): it counts as done."""
        self._finish(task_id, "skipped", None)

    def get_snapshot(self) -> TrackerSnapshot:
        """The progress now."""
        with self._lock:
            counter = self._counter or OutcomeCounter(self.run_id, self.total_tasks, 1)
            counts = counter.snapshot()
            started_at = self._started_at
            shares = sum(self._shares.values()) / 100.0
        if self.total_tasks:
            percent = min(100.0, 100.0 * (counts.done + shares) / self.total_tasks)
        else:
            percent = 100.0
        eta = counts.eta_seconds
        return TrackerSnapshot(
            run_id=self.run_id,
            total_tasks=self.total_tasks,
            completed_tasks=counts.succeeded,
            failed_tasks=counts.failed,
            skipped_tasks=counts.skipped,
            pending_tasks=max(0, self.total_tasks - counts.done),
            running_tasks=counts.running,
            completion_percent=percent,
            started_at=started_at,
            elapsed_seconds=counts.elapsed_seconds if started_at is not None else None,
            estimated_remaining_seconds=eta,
            estimated_completion=None if eta is None else datetime.now(UTC) + timedelta(0, eta),
        )

    def _started(self) -> OutcomeCounter:
        """The engine's counter, made (and the run's clock started) on first use."""
        if self._counter is None:
            self._counter = OutcomeCounter(
                self.run_id, self.total_tasks, self._parallelism, self._clock
            )
            self._started_at = datetime.now(UTC)
        return self._counter

    def _finish(self, task_id: str, outcome: str, duration: float | None) -> None:
        with self._lock:
            if task_id in self._finished:
                raise ValueError(f"task {task_id!r} has an outcome already")
            self._finished.add(task_id)
            self._started().finished(task_id, outcome, duration)
            self._shares.pop(task_id, None)
