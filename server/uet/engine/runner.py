"""Starting, resuming and following runs: the engine's entry points.

:func:`start_run` checks and plans the workstream in the caller's thread (so an invalid
workstream or an unroutable task raises :class:`~uet.engine.errors.SpecError` before
anything starts), records the run, and executes it on a background thread. The returned
:class:`RunHandle` lets the caller subscribe to progress events, cancel, and wait.
:func:`resume_run` picks up a run whose engine died (even ``kill -9``): it claims the run,
kills what its attempts left behind, closes them as interrupted, and continues with the
tasks that had not succeeded, so that no task is recorded as completed twice and none is
lost. Cancelling from another process is :func:`uet.engine.control.cancel_run`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from uet.engine.adapters.registry import build_registry
from uet.engine.cancel import CancelToken
from uet.engine.control import (
    HEARTBEAT_INTERVAL_SECONDS,
    Owner,
    claim_run,
    close_interrupted_attempts,
    heartbeat,
    kill_orphan_groups,
    owner_alive,
    pending_cancel_request,
)
from uet.engine.driver import drive
from uet.engine.errors import RunControlError
from uet.engine.ids import new_ulid
from uet.engine.plan import RunPlan, plan_from_document, plan_run
from uet.engine.progress import EventBus, ProgressSnapshot, ProgressTracker, Subscriber
from uet.engine.records import NewRun, find_run_id, insert_run
from uet.engine.resilience import Breaker, BreakerBoard, load_breakers
from uet.engine.router import AppStats
from uet.engine.scheduler import DynamicSchedule
from uet.engine.session import RunOptions, RunSession, load_app_stats
from uet.engine.spec import ErrorStrategy
from uet.engine.states import EventKind, RunState, StepState, TaskState
from uet.engine.store import append_event, connect, transaction
from uet.engine.workspace import Workspace, find_workspace
from uet.engine.writer import StoreWriter

__all__ = ["RunHandle", "RunResult", "resume_run", "start_run"]

log = logging.getLogger(__name__)

INTERRUPTED_REASON = "interrupted: the engine stopped while the attempt ran"


@dataclass(frozen=True, slots=True)
class RunResult:
    """How a run ended."""

    run_id: str
    state: RunState
    reason: str | None
    snapshot: ProgressSnapshot

    @property
    def succeeded(self) -> bool:
        """Whether the run succeeded."""
        return self.state is RunState.SUCCEEDED


class RunHandle:
    """A run executing on a background thread."""

    def __init__(self, session: RunSession, *, start: bool) -> None:
        self._session = session
        self._start = start
        self._result: RunResult | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._main, name=f"uet-run-{session.run_id}", daemon=True
        )

    @property
    def run_id(self) -> str:
        """The run's id (a ULID)."""
        return self._session.run_id

    @property
    def workspace(self) -> Workspace:
        """The workspace the run belongs to."""
        return self._session.plan.workspace

    @property
    def plan(self) -> RunPlan:
        """What the run executes."""
        return self._session.plan

    @property
    def done(self) -> bool:
        """Whether the run has ended."""
        return not self._thread.is_alive() and (self._result or self._error) is not None

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Receive the run's events from now on; returns the function that unsubscribes."""
        return self._session.bus.subscribe(subscriber)

    def snapshot(self) -> ProgressSnapshot:
        """The run's progress now."""
        return self._session.tracker.snapshot()

    def cancel(self, reason: str = "canceled by user") -> None:
        """Stop the run: running tasks are terminated, waiting ones never start."""
        session = self._session
        if self._thread.is_alive() and not session.cancel.canceled:
            session.user_canceled = True
            run_id = session.run_id
            session.writer.submit(
                lambda connection: connection.execute(
                    "UPDATE runs SET cancel_requested = 1, cancel_reason = ? WHERE run_id = ?",
                    (reason, run_id),
                )
            )
            session.cancel.cancel(reason)

    def wait(self, timeout: float | None = None) -> RunResult | None:
        """Wait for the end (``None`` after ``timeout`` seconds); re-raises engine errors."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            return None
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def _launch(self) -> RunHandle:
        self._thread.start()
        return self

    def _main(self) -> None:
        session = self._session
        try:
            state, reason = drive(session, start=self._start)
            self._result = RunResult(session.run_id, state, reason, session.tracker.snapshot())
        except BaseException as exc:
            log.exception("run %s stopped on an engine error", session.run_id)
            self._error = exc
            session.cancel.cancel("engine error")
        finally:
            try:
                session.writer.close()
            finally:
                session.cancel.close()


def start_run(
    workstream_path: Path,
    *,
    workspace: Workspace | None = None,
    options: RunOptions | None = None,
    subscribers: Iterable[Subscriber] = (),
) -> RunHandle:
    """Check, plan and start the workstream at ``workstream_path``.

    Raises :class:`~uet.engine.errors.SpecError` (nothing started) when the workstream or
    router config is invalid, has a dependency cycle, or has a task no app can run.
    """
    options = options or RunOptions()
    workspace = workspace or find_workspace(workstream_path)
    plan = plan_run(
        workspace,
        workstream_path,
        router_path=options.router_path,
        jobs=options.jobs,
        only_tasks=options.only_tasks,
    )
    owner = Owner.current()
    run_id = new_ulid()
    workstream = plan.workstream
    connection = connect(workspace.db_path)
    try:
        with transaction(connection):
            insert_run(
                connection,
                NewRun(
                    run_id=run_id,
                    project_id=workstream.project_id,
                    phase_id=workstream.phase_id,
                    workstream_id=workstream.workstream_id,
                    workstream_path=str(plan.document.get("workstream_path") or ""),
                    workspace=str(workspace.root),
                    plan=plan.document,
                    tasks=[(task.task_id, task.name) for task in workstream.tasks],
                    requested_by=options.requested_by,
                    trigger_type=options.trigger_type,
                ),
            )
            claim_run(connection, run_id, owner, None)
        breakers = load_breakers(connection)
        stats = load_app_stats(connection)
    finally:
        connection.close()
    session = _new_session(
        plan, run_id=run_id, options=options, owner=owner, breakers=breakers, stats=stats
    )
    for subscriber in subscribers:
        session.bus.subscribe(subscriber)
    return RunHandle(session, start=True)._launch()


def resume_run(
    run: str,
    *,
    workspace: Workspace | None = None,
    options: RunOptions | None = None,
    subscribers: Iterable[Subscriber] = (),
) -> RunHandle:
    """Continue run ``run`` (id or unique prefix) after its engine stopped.

    Raises :class:`~uet.engine.errors.RunControlError` when the run has finished or is
    still driven by a live engine.
    """
    options = options or RunOptions()
    workspace = workspace or find_workspace()
    owner = Owner.current()
    connection = connect(workspace.db_path)
    try:
        run_id = find_run_id(connection, run)
        row = connection.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        state = RunState(row["state"])
        if state not in (RunState.PENDING, RunState.RUNNING):
            raise RunControlError(f"run {run_id} has finished ({state}); nothing to resume")
        if owner_alive(row):
            raise RunControlError(
                f"run {run_id} is still being executed by process {row['owner_pid']}"
                f" on {row['owner_host']}"
            )
        document = json.loads(row["plan_json"])
        if options.jobs:
            document["jobs"] = options.jobs
        plan = plan_from_document(workspace, document)
        with transaction(connection):
            if not claim_run(connection, run_id, owner, row["owner_id"]):
                raise RunControlError(f"run {run_id} was resumed by another process")
            killed = kill_orphan_groups(connection, run_id)
            interrupted = close_interrupted_attempts(
                connection,
                run_id,
                step_state=StepState.ERROR,
                task_state=TaskState.PENDING,
                reason=INTERRUPTED_REASON,
            )
            append_event(
                connection,
                run_id,
                EventKind.RUN_RESUMED,
                {"interrupted_attempts": len(interrupted), "killed_groups": len(killed)},
            )
        restored = _restored_state(connection, run_id)
        cancel_reason = pending_cancel_request(connection, run_id)
        breakers = load_breakers(connection)
        stats = load_app_stats(connection)
    finally:
        connection.close()
    session = _new_session(
        plan,
        run_id=run_id,
        options=options,
        owner=owner,
        breakers=breakers,
        stats=stats,
        restored=restored,
    )
    for subscriber in subscribers:
        session.bus.subscribe(subscriber)
    if cancel_reason is not None:
        session.user_canceled = True
        session.cancel.cancel(cancel_reason)
    return RunHandle(session, start=state is RunState.PENDING)._launch()


@dataclass(frozen=True, slots=True)
class _Restored:
    task_states: dict[str, TaskState]
    attempt_numbers: dict[str, int]
    next_sequence: int


def _restored_state(connection: sqlite3.Connection, run_id: str) -> _Restored:
    task_states = {
        str(row[0]): TaskState(row[1])
        for row in connection.execute(
            "SELECT task_id, state FROM run_tasks WHERE run_id = ?", (run_id,)
        )
    }
    attempt_numbers = {
        str(row[0]): int(row[1])
        for row in connection.execute(
            "SELECT task_id, MAX(attempt) FROM step_attempts WHERE run_id = ? GROUP BY task_id",
            (run_id,),
        )
    }
    last_sequence = connection.execute(
        "SELECT COALESCE(MAX(sequence), 0) FROM step_attempts WHERE run_id = ?", (run_id,)
    ).fetchone()[0]
    return _Restored(task_states, attempt_numbers, int(last_sequence) + 1)


class _Ticker:
    """The writer's periodic work for one run: heartbeat, and cancel requests made by
    other processes (``uet cancel``) through the database."""

    def __init__(self, run_id: str, owner: Owner) -> None:
        self.run_id = run_id
        self.owner = owner
        self.session: RunSession | None = None
        self._last_beat = 0.0

    def __call__(self, connection: sqlite3.Connection) -> None:
        session = self.session
        if session is None:
            return
        reason = pending_cancel_request(connection, self.run_id)
        if reason is not None and not session.cancel.canceled:
            session.user_canceled = True
            session.cancel.cancel(reason)
        if time.monotonic() - self._last_beat >= HEARTBEAT_INTERVAL_SECONDS:
            heartbeat(connection, self.run_id, self.owner)
            self._last_beat = time.monotonic()

    def breaker_changed(self, old: Breaker, new: Breaker) -> None:
        if self.session is not None:
            self.session.record_breaker(old, new)


def _new_session(
    plan: RunPlan,
    *,
    run_id: str,
    options: RunOptions,
    owner: Owner,
    breakers: dict[str, Breaker],
    stats: dict[str, AppStats],
    restored: _Restored | None = None,
) -> RunSession:
    ticker = _Ticker(run_id, owner)
    writer = StoreWriter(plan.workspace.db_path, tick=ticker, name=f"uet-writer-{run_id}")
    writer.start()
    session = RunSession(
        run_id=run_id,
        plan=plan,
        options=options,
        owner=owner,
        writer=writer,
        cancel=CancelToken(),
        bus=EventBus(),
        tracker=ProgressTracker(run_id, len(plan.graph.order), plan.jobs),
        breakers=BreakerBoard(
            breakers,
            {app_id: app.breaker for app_id, app in plan.router.apps.items()},
            clock=options.clock or time.time,
            on_change=ticker.breaker_changed,
        ),
        registry=build_registry(plan.router),
        schedule=DynamicSchedule(plan.graph),
        stats=stats,
        attempt_numbers=dict(restored.attempt_numbers) if restored else {},
        next_sequence=restored.next_sequence if restored else 1,
        app_slots={
            app_id: threading.BoundedSemaphore(app.max_parallel)
            for app_id, app in plan.router.apps.items()
            if app.max_parallel is not None
        },
    )
    ticker.session = session
    if restored is not None:
        _restore_schedule(session, restored)
    return session


def _restore_schedule(session: RunSession, restored: _Restored) -> None:
    states = restored.task_states
    succeeded = [task for task, state in states.items() if state is TaskState.SUCCEEDED]
    failed = [task for task, state in states.items() if state is TaskState.FAILED]
    others = [
        task for task, state in states.items() if state in (TaskState.SKIPPED, TaskState.CANCELED)
    ]
    skipped = session.schedule.restore(succeeded, failed, others)
    session.failed_tasks.extend(failed)
    session.tracker.restore(
        succeeded=len(succeeded),
        failed=len(failed),
        skipped=sum(1 for task in others if states[task] is TaskState.SKIPPED) + len(skipped),
        canceled=sum(1 for task in others if states[task] is TaskState.CANCELED),
    )
    for task_id, reason in skipped:
        session.record_task(task_id, TaskState.SKIPPED, reason)
    if failed and session.plan.workstream.error_strategy is ErrorStrategy.FAIL_FAST:
        session.cancel.cancel(f"fail_fast: task {failed[0]!r} failed before the interruption")
