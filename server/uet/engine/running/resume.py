"""Resuming a run whose engine stopped (even ``kill -9``).

:func:`resume_run` claims the orphaned run (a compare-and-set on its owner, so only one
process wins), stops every process the run left behind (the process groups in the store
and in the run's process-group record, where each child is written as it starts, and
every process marked with the run from its first instruction, which also finds a child
killed with its engine before it was recorded) and waits until they are gone, so that no
task runs twice at once, closes the unfinished attempts as interrupted, and continues with
the tasks that had not succeeded: the schedule replays the recorded outcomes (succeeded,
failed, skipped, canceled), attempt numbers and sequence numbers go on from the stored
ones, and the plan is the one stored with the run. No task is recorded as completed twice
(a unique index guards it) and none is lost.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import NamedTuple

from uet.engine.errors import RunControlError
from uet.engine.planning.plan import plan_from_document
from uet.engine.planning.spec import ErrorStrategy
from uet.engine.running.handle import RunHandle, new_session
from uet.engine.running.orphans import close_interrupted_attempts, kill_orphan_groups
from uet.engine.running.ownership import Owner, claim_run, owner_alive, pending_cancel_request
from uet.engine.running.progress import Subscriber
from uet.engine.running.resilience import load_breakers
from uet.engine.running.session import RunOptions, RunSession, load_app_stats
from uet.engine.store.database import append_event, connect, transaction
from uet.engine.store.lifecycle import EventKind, RunState, StepState, TaskState
from uet.engine.store.records import find_run_id
from uet.engine.workspace import Workspace, find_workspace

__all__ = ["INTERRUPTED_REASON", "resume_run"]

INTERRUPTED_REASON = "interrupted: the engine stopped while the attempt ran"


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
    workspace.make_state_dirs()
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
        (plan_json,) = connection.execute(
            "SELECT plan_json FROM run_plans WHERE run_id = ?", (run_id,)
        ).fetchone()
        document = json.loads(plan_json)
        if options.jobs:
            document["jobs"] = options.jobs
        plan = plan_from_document(workspace, document)
        with transaction(connection):
            if not claim_run(connection, run_id, owner, row["owner_id"]):
                raise RunControlError(f"run {run_id} was resumed by another process")
            killed = kill_orphan_groups(connection, run_id, workspace.logs_dir / run_id)
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
    session = new_session(
        plan,
        run_id=run_id,
        options=options,
        owner=owner,
        breakers=breakers,
        stats=stats,
        attempt_numbers=restored.attempt_numbers,
        next_sequence=restored.next_sequence,
    )
    _restore_schedule(session, restored)
    for subscriber in subscribers:
        session.bus.subscribe(subscriber)
    if cancel_reason is not None:
        session.user_canceled = True
        session.cancel.cancel(cancel_reason)
    return RunHandle(session, start=state is RunState.PENDING).launch()


class _Restored(NamedTuple):
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
