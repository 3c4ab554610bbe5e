"""The live state of one executing run, shared by its threads, and how it is recorded.

A :class:`RunSession` bundles the plan, the writer, the cancel token, the progress tracker,
the event bus, the breakers, the routing statistics and the process-group record of one
run. Its ``record_*`` methods queue run-store writes (steps through
:mod:`uet.engine.running.step_writes`, state changes always through
:func:`~uet.engine.store.transitions.transition`); the scheduler state itself is guarded by
:attr:`RunSession.lock` in the driver.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from uet.engine.adapters import processes
from uet.engine.adapters.base import (
    DEFAULT_KILL_GRACE_SECONDS,
    DEFAULT_LOG_MAX_BYTES,
    AdapterRequest,
)
from uet.engine.adapters.registry import AdapterRegistry
from uet.engine.adapters.spawn import CpuPriority, Marks
from uet.engine.cancel import CancelToken
from uet.engine.planning.plan import Invocation, RunPlan
from uet.engine.planning.routing import AppStats, RoundRobin
from uet.engine.planning.scheduler import DynamicSchedule
from uet.engine.running.jobs import Executor
from uet.engine.running.ownership import Owner
from uet.engine.running.process_record import ProcessRecord
from uet.engine.running.progress import EngineEvent, EngineEventKind, EventBus, ProgressTracker
from uet.engine.running.resilience import Breaker, BreakerBoard, save_breaker
from uet.engine.running.slots import AppSlots
from uet.engine.running.step_writes import StepWrites
from uet.engine.store.database import append_event
from uet.engine.store.ids import utc_timestamp
from uet.engine.store.lifecycle import (
    EventKind,
    NewStep,
    StepChange,
    StepOutcome,
    StepState,
    TaskState,
)
from uet.engine.store.records import set_task_state
from uet.engine.store.writer import StoreWriter

__all__ = ["RunOptions", "RunSession", "load_app_stats"]

_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]")


class RunOptions(NamedTuple):
    """How to run: everything has a default. Callables are injection points for tests."""

    jobs: int | None = None
    router_path: Path | None = None
    log_max_bytes: int = DEFAULT_LOG_MAX_BYTES
    kill_grace_seconds: float = DEFAULT_KILL_GRACE_SECONDS
    requested_by: str | None = None
    trigger_type: str = "manual"
    # Run only these tasks and everything they depend on (``None``: the whole workstream).
    only_tasks: tuple[str, ...] | None = None
    # Sleep between retries; the default waits on the run's cancel token.
    sleep: Callable[[float], object] | None = None
    # Wall clock of the circuit breakers (wall time, so that it survives a restart).
    clock: Callable[[], float] | None = None
    # Builds the executor for ``jobs`` workers; default: a local thread pool.
    executor_factory: Callable[[int], Executor] | None = None
    # CPU priority of every child process tree (runs started from an editor pass ``IDLE``
    # by default, so that the editor stays responsive). The engine's own threads keep theirs.
    child_priority: CpuPriority = CpuPriority.NORMAL


def _no_executor(task_id: str) -> None:
    raise RuntimeError(f"task {task_id!r} was handed back before the executor started")


class RunSession:
    """Shared state of one executing run (compared by identity)."""

    def __init__(
        self,
        *,
        run_id: str,
        plan: RunPlan,
        options: RunOptions,
        owner: Owner,
        writer: StoreWriter,
        cancel: CancelToken,
        bus: EventBus,
        tracker: ProgressTracker,
        breakers: BreakerBoard,
        registry: AdapterRegistry,
        schedule: DynamicSchedule,
        stats: dict[str, AppStats] | None = None,
        attempt_numbers: dict[str, int] | None = None,
        next_sequence: int = 1,
        app_slots: AppSlots | None = None,
    ) -> None:
        self.run_id = run_id
        self.plan = plan
        self.options = options
        self.owner = owner
        self.writer = writer
        self.cancel = cancel
        self.bus = bus
        self.tracker = tracker
        self.breakers = breakers
        self.registry = registry
        self.schedule = schedule
        self.stats: dict[str, AppStats] = {} if stats is None else stats
        self.attempt_numbers: dict[str, int] = {} if attempt_numbers is None else attempt_numbers
        self.lock = threading.Lock()
        self.round_robin = RoundRobin()
        self.app_slots = AppSlots({}) if app_slots is None else app_slots
        # Hands a task (back) to the executor; set by the driver when the executor starts.
        self.resubmit: Callable[[str], None] = _no_executor
        self.user_canceled = False
        self.failed_tasks: list[str] = []
        self.finished = threading.Event()
        # Sequence numbers continue from ``next_sequence`` (a resumed run's numbering).
        self._sequence = itertools.count(next_sequence)
        self._counter_lock = threading.Lock()
        self.logs_dir = plan.workspace.logs_dir / run_id
        self.process_record = ProcessRecord(run_id, plan.workspace.db_path, self.logs_dir)
        self._steps = StepWrites(writer)

    def allocate_attempt(self, task_id: str) -> tuple[int, int]:
        """The next (attempt number of ``task_id``, sequence number in the run)."""
        with self._counter_lock:
            number = self.attempt_numbers.get(task_id, 0) + 1
            self.attempt_numbers[task_id] = number
            return number, next(self._sequence)

    def log_path(self, task_id: str, attempt: int, part: str | None = None) -> Path:
        """Where attempt ``attempt`` of ``task_id`` writes its output (``part``: a separate
        log of that attempt, such as a validator's)."""
        name = f"{_UNSAFE_FILE_CHARS.sub('_', task_id)}.{attempt}"
        if part is not None:
            name = f"{name}.{_UNSAFE_FILE_CHARS.sub('_', part)}"
        return self.logs_dir / f"{name}.log"

    def sweep_leftovers(self) -> None:
        """Kill whatever still carries the run's mark once every attempt has ended (a
        process that left its task's group and closed its output), and record what was
        killed: no process of a run outlives it."""
        leftovers = processes.marked(self.run_id)
        if not leftovers:
            return
        killed = processes.kill_and_reap(processes.with_descendants(leftovers))
        if killed:
            self.record_event(
                EventKind.NOTE,
                {
                    "note": "processes of the run left behind by its tasks were killed",
                    "processes": [processes.describe(process) for process in killed],
                },
            )

    def adapter_request(
        self, invocation: Invocation, log_path: Path, attempt_id: str = ""
    ) -> AdapterRequest:
        """What the adapter runs for ``invocation`` (a task's command or a validator of
        attempt ``attempt_id``), with the run's log cap, kill grace, child CPU priority and
        marks."""
        options = self.options
        return AdapterRequest(
            argv=invocation.argv,
            cwd=invocation.cwd,
            log_path=log_path,
            env=invocation.env,
            timeout_seconds=invocation.timeout_seconds,
            log_max_bytes=options.log_max_bytes,
            kill_grace_seconds=options.kill_grace_seconds,
            priority=options.child_priority,
            marks=Marks(self.run_id, attempt_id, self.process_record.fd),
        )

    def publish(
        self,
        kind: EngineEventKind,
        *,
        task_id: str | None = None,
        state: str | None = None,
        detail: str | None = None,
        attempt: int | None = None,
        output: bytes | None = None,
    ) -> None:
        """Publish an event with the current progress (skipped when nobody listens)."""
        if self.bus.wants(kind):
            snapshot = self.tracker.snapshot()
            self.bus.publish(
                EngineEvent(kind, self.run_id, snapshot, task_id, state, detail, attempt, output)
            )

    def record_attempt_created(self, step: NewStep) -> None:
        """Queue the creation of a pending attempt."""
        self._steps.created(step)

    def record_step(
        self,
        attempt_id: str,
        to: StepState,
        *,
        expected: StepState,
        task_id: str,
        reason: str | None = None,
        outcome: StepOutcome | None = None,
    ) -> None:
        """Queue the step transition ``expected → to`` of attempt ``attempt_id``."""
        self._steps.changed(
            StepChange(
                run_id=self.run_id,
                step_attempt_id=attempt_id,
                task_id=task_id,
                expected=expected,
                to=to,
                now=utc_timestamp(),
                reason=reason,
                outcome=outcome or StepOutcome(),
            )
        )

    def record_task(
        self,
        task_id: str,
        state: TaskState,
        reason: str,
        kind: EventKind = EventKind.TASK_SKIPPED,
    ) -> None:
        """Queue the outcome of a task that has no step transition to carry it."""
        now = utc_timestamp()
        run_id = self.run_id
        self.writer.submit(
            lambda connection: set_task_state(
                connection, run_id, task_id, state, reason, now=now, kind=kind
            )
        )

    def record_retry(self, task_id: str, attempt: int, delay: float, reason: str) -> None:
        """Queue a retry_scheduled event."""
        payload: dict[str, object] = {
            "task_id": task_id,
            "attempt": attempt,
            "delay_seconds": round(delay, 3),
            "reason": reason,
        }
        self.record_event(EventKind.RETRY_SCHEDULED, payload)

    def record_event(self, kind: EventKind, payload: dict[str, object]) -> None:
        """Queue one run_event of this run, stamped now."""
        now = utc_timestamp()
        run_id = self.run_id
        self.writer.submit(
            lambda connection: append_event(connection, run_id, kind, payload, ts=now)
        )

    def record_breaker(self, old: Breaker, new: Breaker) -> None:
        """Queue the persistence of a breaker change (and an event when its state moved)."""
        now = utc_timestamp()
        run_id = self.run_id

        def write(connection: sqlite3.Connection) -> None:
            save_breaker(connection, new, now)
            if old.state is not new.state:
                append_event(
                    connection,
                    run_id,
                    EventKind.CIRCUIT_STATE_CHANGED,
                    {
                        "app_id": new.app_id,
                        "from": old.state.value,
                        "to": new.state.value,
                        "failures": new.failure_count,
                    },
                    ts=now,
                )

        self.writer.submit(write)

    def record_stats(self, app_id: str, success: bool, duration_ms: float) -> None:
        """Fold one finished attempt into the routing statistics."""
        with self._counter_lock:
            previous = self.stats.get(app_id, AppStats())
            self.stats[app_id] = previous.with_outcome(success, duration_ms)


def load_app_stats(connection: sqlite3.Connection) -> dict[str, AppStats]:
    """Per-app outcome statistics of every finished attempt in the store."""
    rows = connection.execute(
        "SELECT tool_id, COUNT(*), SUM(state = 'completed'), AVG(duration_ms)"
        " FROM step_attempts WHERE state IN ('completed', 'error') GROUP BY tool_id"
    ).fetchall()
    return {str(row[0]): AppStats(int(row[1]), int(row[2] or 0), row[3]) for row in rows}
