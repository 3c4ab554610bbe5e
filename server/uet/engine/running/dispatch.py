"""Driving a run: dispatching ready tasks to the executor, resolving their outcomes,
applying the error strategy, and closing the run.

Runs on the run's own thread (:func:`drive`) and on the executor's workers
(:func:`handle_job`). Outcomes update the schedule under the session lock; newly ready tasks
are submitted at once, so a task starts as soon as its own dependencies are done. A task
parked for a slot of its app (:mod:`uet.engine.running.slots`) has no outcome yet: its worker moves
on, and the task is submitted again when a slot is released (or canceled with the rest).

Error strategies: ``fail_fast`` cancels the rest (running tasks are stopped, waiting ones
never start) and the run fails; ``continue`` runs every task whose dependencies succeeded
and the run fails; ``escalate`` runs like ``continue`` and the run is quarantined.
"""

from __future__ import annotations

import logging
import sqlite3

from uet.engine.planning.spec import ErrorStrategy
from uet.engine.running.attempts import PARKED, TaskOutcome, run_task
from uet.engine.running.jobs import Executor, Job, ThreadPoolExecutor
from uet.engine.running.progress import EngineEventKind
from uet.engine.running.session import RunSession
from uet.engine.store.lifecycle import EventKind, RunState, TaskState
from uet.engine.store.transitions import transition

__all__ = ["FinalState", "drive", "handle_job"]

log = logging.getLogger(__name__)

FinalState = tuple[RunState, str | None]


def drive(session: RunSession, *, start: bool) -> FinalState:
    """Execute the run to its end and record its final state. ``start``: the run is still
    pending and moves to running first."""
    if start:
        session.writer.call(
            lambda connection: transition(connection, run_id=session.run_id, to=RunState.RUNNING)
        )
    session.publish(EngineEventKind.RUN_STARTED)
    factory = session.options.executor_factory or ThreadPoolExecutor
    executor = factory(session.plan.jobs)
    run_id = session.run_id
    session.resubmit = lambda task_id: executor.submit(Job(run_id, task_id))
    executor.start(lambda job: handle_job(session, executor, job))
    try:
        if session.cancel.canceled:
            _cancel_waiting(session)
        with session.lock:
            ready = session.schedule.take_ready()
            finished = session.schedule.finished
        for task_id in ready:
            executor.submit(Job(session.run_id, task_id))
        if finished:
            session.finished.set()
        session.finished.wait()
    finally:
        executor.shutdown()
    session.sweep_leftovers()
    return _finish_run(session)


def handle_job(session: RunSession, executor: Executor, job: Job) -> None:
    """Run one job on an executor worker and resolve its outcome (never raises)."""
    task_id = job.task_id
    try:
        if session.cancel.canceled:
            outcome = TaskOutcome(
                TaskState.CANCELED, f"canceled before it started: {session.cancel.reason}"
            )
            session.record_task(task_id, TaskState.CANCELED, outcome.reason)
        else:
            outcome = run_task(session, task_id)
            if outcome is PARKED:
                return
    except Exception as exc:  # the job barrier: a bug must not hang the run
        log.exception("task %s of run %s failed inside the engine", task_id, session.run_id)
        outcome = TaskOutcome(TaskState.FAILED, f"internal error: {exc}")
        session.record_task(task_id, TaskState.FAILED, outcome.reason, EventKind.NOTE)
    try:
        _resolve(session, executor, task_id, outcome)
    except Exception:  # pragma: no cover - last resort, keeps the run from hanging
        log.exception("resolving task %s of run %s failed", task_id, session.run_id)
        session.cancel.cancel("internal error")
        session.finished.set()


def _resolve(session: RunSession, executor: Executor, task_id: str, outcome: TaskOutcome) -> None:
    schedule = session.schedule
    skipped: list[tuple[str, str]] = []
    ready: list[str] = []
    fail_fast = False
    with session.lock:
        if outcome.state is TaskState.SUCCEEDED:
            schedule.succeed(task_id)
            if not session.cancel.canceled:
                ready = schedule.take_ready()
        elif outcome.state is TaskState.FAILED:
            skipped = schedule.fail(task_id)
            session.failed_tasks.append(task_id)
            strategy = session.plan.workstream.error_strategy
            fail_fast = strategy is ErrorStrategy.FAIL_FAST and not session.cancel.canceled
            if not session.cancel.canceled and not fail_fast:
                ready = schedule.take_ready()
        else:
            schedule.resolve_running(task_id)
        finished = schedule.finished
    session.tracker.finished(task_id, outcome.state)  # a TaskState is its value (StrEnum)
    session.publish(
        EngineEventKind.TASK_FINISHED, task_id=task_id, state=outcome.state, detail=outcome.reason
    )
    for skipped_id, reason in skipped:
        session.record_task(skipped_id, TaskState.SKIPPED, reason)
        session.tracker.finished(skipped_id, TaskState.SKIPPED.value)
        session.publish(
            EngineEventKind.TASK_SKIPPED, task_id=skipped_id, state=TaskState.SKIPPED, detail=reason
        )
    if fail_fast:
        session.cancel.cancel(f"fail_fast: task {task_id!r} failed")
    if session.cancel.canceled:
        _cancel_waiting(session)  # it resolves more tasks: look again
        with session.lock:
            finished = schedule.finished
    run_id = session.run_id
    for ready_id in ready:
        executor.submit(Job(run_id, ready_id))
    if finished:
        session.finished.set()


def _cancel_waiting(session: RunSession) -> None:
    """Give every task that has not started (waiting, ready or parked) the outcome
    canceled."""
    parked = session.app_slots.drain()
    with session.lock:
        for task_id in parked:
            session.schedule.resolve_running(task_id)
        canceled = parked + session.schedule.cancel_pending()
        finished = session.schedule.finished
    reason = f"canceled before it started: {session.cancel.reason}"
    for task_id in canceled:
        session.record_task(task_id, TaskState.CANCELED, reason)
        session.tracker.finished(task_id, TaskState.CANCELED.value)
        session.publish(
            EngineEventKind.TASK_SKIPPED, task_id=task_id, state=TaskState.CANCELED, detail=reason
        )
    if finished:
        session.finished.set()


def _final_state(session: RunSession) -> FinalState:
    failed = session.failed_tasks
    if session.user_canceled:
        return RunState.CANCELED, session.cancel.reason or "canceled"
    if failed:
        names = ", ".join(repr(task_id) for task_id in failed[:5])
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        reason = f"{len(failed)} task(s) failed: {names}{more}"
        if session.plan.workstream.error_strategy is ErrorStrategy.ESCALATE:
            return RunState.QUARANTINED, f"escalated: {reason}"
        return RunState.FAILED, reason
    if session.cancel.canceled:
        return RunState.CANCELED, session.cancel.reason or "canceled"
    return RunState.SUCCEEDED, f"all {session.schedule.total} task(s) succeeded"


def _finish_run(session: RunSession) -> FinalState:
    decided = _final_state(session)
    writer = session.writer

    def write(connection: sqlite3.Connection) -> FinalState:
        # Queued after every write of the run, so any of them that was lost is known here
        # (the writer applies operations in order): one round trip instead of a flush and
        # then the final transition.
        state, reason = decided
        if writer.failure is not None and state is RunState.SUCCEEDED:
            state, reason = RunState.FAILED, f"the run store lost a write: {writer.failure}"
        transition(connection, run_id=session.run_id, to=state, reason=reason)
        connection.execute(
            "UPDATE runs SET owner_pid = NULL, heartbeat_at = NULL WHERE run_id = ?",
            (session.run_id,),
        )
        return state, reason

    state, reason = writer.call(write)
    session.publish(EngineEventKind.RUN_FINISHED, state=state, detail=reason)
    return state, reason
