"""Performing state transitions: the one function that moves a run or a step attempt to a
new state (:func:`transition`) and its batch form for steps (:func:`apply_step_changes`).

The states and the table of legal transitions are defined in :mod:`uet.engine.store.lifecycle`.

**Invariant:** every run or step state change goes through :func:`transition` (or its batch
form for steps, :func:`apply_step_changes`, which ``transition`` itself uses), which checks
that it is legal, writes the new state and appends a run_event in the caller's transaction,
and raises :class:`~uet.engine.errors.IllegalTransitionError` otherwise.

Task states (``run_tasks.state``) are the outcome of each task, derived from its attempts
(plus skips and cancellations of tasks that never started); they are written in the same
transaction as the step transition that decides them. A task whose attempt is running is
still ``pending`` there (its attempt says ``running``), which saves a write per task.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from uet.engine.errors import IllegalTransitionError, RunNotFoundError, StoreError
from uet.engine.store.database import append_event, compact_json, insert_rows
from uet.engine.store.ids import new_ulid, utc_timestamp
from uet.engine.store.lifecycle import (
    TERMINAL_RUN_STATES,
    TERMINAL_STEP_STATES,
    EventKind,
    NewStep,
    RunState,
    StepChange,
    StepOutcome,
    StepState,
    TaskState,
    is_legal,
)

__all__ = ["apply_step_changes", "transition"]


# A run has ended (ended_at is set) in these states, even though failed may still move on.
_ENDED_RUN_STATES = TERMINAL_RUN_STATES | {RunState.FAILED}


def transition(
    connection: sqlite3.Connection,
    *,
    run_id: str,
    to: RunState | StepState,
    reason: str | None = None,
    step_attempt_id: str | None = None,
    outcome: StepOutcome | None = None,
    payload: Mapping[str, Any] | None = None,
    now: str | None = None,
) -> str:
    """Move a run (or, with ``step_attempt_id``, one of its step attempts) to ``to``.

    Must run inside the caller's transaction: the state, its timestamps and one run_event
    are written together. Returns the id of the event. The engine, which knows each step's
    current state, records step transitions in batches with :func:`apply_step_changes`.
    """
    if not connection.in_transaction:
        raise StoreError("state transitions must run inside a transaction")
    now = now or utc_timestamp()
    if step_attempt_id is None:
        if not isinstance(to, RunState):
            raise TypeError(f"a run transition needs a RunState, not {to!r}")
        return _run_transition(
            connection, run_id=run_id, to=to, reason=reason, payload=payload, now=now
        )
    if not isinstance(to, StepState):
        raise TypeError(f"a step transition needs a StepState, not {to!r}")
    current, task_id = _current_step(connection, run_id, step_attempt_id)
    change = StepChange(
        run_id=run_id,
        step_attempt_id=step_attempt_id,
        task_id=task_id,
        expected=current,
        to=to,
        reason=reason,
        outcome=outcome or StepOutcome(),
        payload=payload,
        now=now,
    )
    return apply_step_changes(connection, [change])[0]


def apply_step_changes(
    connection: sqlite3.Connection,
    changes: Sequence[StepChange],
    created: Sequence[NewStep] = (),
) -> list[str]:
    """Create the ``created`` attempts and apply step transitions in order (the batch form
    of :func:`transition`); returns the ids of the changes' events.

    Each change is checked against the transition table and applied only if the attempt is
    in its ``expected`` state; otherwise nothing of the batch is applied and
    :class:`IllegalTransitionError` names the first bad change. An attempt created in the
    batch is inserted as its changes in the batch leave it: a run writes most attempts
    once, created and finished together. Every change still gets its event (creating an
    attempt has none) and, when its outcome says, the task's new state.
    """
    if not connection.in_transaction:
        raise StoreError("state transitions must run inside a transaction")
    for change in changes:
        if not is_legal(change.expected, change.to):
            raise IllegalTransitionError("step", change.step_attempt_id, change.expected, change.to)
    new_rows, updates = _fold_changes(created, changes)
    connection.execute("SAVEPOINT step_changes")
    try:
        insert_rows(connection, _STEP_INSERT, [row.values() for row in new_rows])
        rows = [_step_row(change) for change in updates]
        if rows and connection.executemany(_STEP_UPDATE, rows).rowcount != len(rows):
            connection.execute("ROLLBACK TO step_changes")
            _raise_first_mismatch(connection, updates)
        _update_task_states(connection, changes)
        event_ids = [new_ulid() for _ in changes]
        insert_rows(
            connection,
            "INSERT INTO run_events (event_id, run_id, step_attempt_id, ts, kind, payload_json)",
            [
                (
                    event_id,
                    change.run_id,
                    change.step_attempt_id,
                    change.now,
                    EventKind.STEP_STATE_CHANGED,
                    compact_json(_step_event(change)),
                )
                for event_id, change in zip(event_ids, changes, strict=True)
            ],
        )
    finally:
        connection.execute("RELEASE step_changes")
    return event_ids


# Task ids per UPDATE of task outcomes (under SQLite's historical limit of 999 parameters).
_TASKS_PER_UPDATE = 900


def _update_task_states(connection: sqlite3.Connection, changes: Sequence[StepChange]) -> None:
    """Write the task outcomes ``changes`` decide: the last one of each task, as applying
    them in order would leave it, with one statement per outcome and reason (usually one
    per batch, where ``executemany`` would take the GIL again for every task)."""
    final: dict[tuple[str, str], tuple[TaskState, str | None]] = {}
    for change in changes:
        if change.outcome.task_state is not None:
            final[change.run_id, change.task_id] = (change.outcome.task_state, change.reason)
    groups: dict[tuple[str, TaskState, str | None], list[str]] = {}
    for (run_id, task_id), (state, reason) in final.items():
        groups.setdefault((run_id, state, reason), []).append(task_id)
    for (run_id, state, reason), task_ids in groups.items():
        for start in range(0, len(task_ids), _TASKS_PER_UPDATE):
            chunk = task_ids[start : start + _TASKS_PER_UPDATE]
            connection.execute(
                "UPDATE run_tasks SET state = ?, state_reason = ?"
                f" WHERE run_id = ? AND task_id IN ({', '.join('?' * len(chunk))})",
                (state, reason, run_id, *chunk),
            )


_STEP_INSERT = (
    "INSERT INTO step_attempts (step_attempt_id, run_id, task_id, sequence, attempt, tool_id,"
    " started_at, execution_request_id, execution_request_json, state, state_reason,"
    " ended_at, exit_code, duration_ms, logs_path, process_group)"
)


@dataclass
class _NewRow:
    """A created attempt's row (:data:`_STEP_INSERT`) with its changes in the batch applied."""

    step: NewStep
    state: StepState = StepState.PENDING
    reason: str | None = None
    ended_at: str | None = None
    exit_code: int | None = None
    duration_ms: float | None = None
    logs_path: str | None = None
    process_group: int | None = None

    def apply(self, change: StepChange) -> None:
        """Apply ``change`` as :data:`_STEP_UPDATE` would."""
        if self.state is not change.expected:
            raise IllegalTransitionError("step", change.step_attempt_id, self.state, change.to)
        self.state, self.reason = change.to, change.reason
        if change.to in TERMINAL_STEP_STATES:
            self.ended_at = change.now
        outcome = change.outcome
        if outcome.exit_code is not None:
            self.exit_code = outcome.exit_code
        if outcome.duration_ms is not None:
            self.duration_ms = outcome.duration_ms
        if outcome.logs_path is not None:
            self.logs_path = outcome.logs_path
        if outcome.process_group is not None:
            self.process_group = outcome.process_group

    def values(self) -> tuple[Any, ...]:
        step = self.step
        return (
            step.step_attempt_id,
            step.run_id,
            step.task_id,
            step.sequence,
            step.attempt,
            step.tool_id,
            step.created_at,
            step.execution_request_id,
            step.execution_request_json,
            self.state,
            self.reason,
            self.ended_at,
            self.exit_code,
            self.duration_ms,
            self.logs_path,
            self.process_group,
        )


def _fold_changes(
    created: Sequence[NewStep], changes: Sequence[StepChange]
) -> tuple[list[_NewRow], list[StepChange]]:
    """The rows of the ``created`` attempts with their changes applied, and the changes
    left for attempts created earlier."""
    new_rows = {step.step_attempt_id: _NewRow(step) for step in created}
    updates: list[StepChange] = []
    for change in changes:
        row = new_rows.get(change.step_attempt_id)
        if row is None:
            updates.append(change)
        else:
            row.apply(change)
    return list(new_rows.values()), updates


# An outcome column that is None keeps its value.
_STEP_UPDATE = (
    "UPDATE step_attempts SET state = ?, state_reason = ?,"
    " ended_at = CASE WHEN ? THEN ? ELSE ended_at END,"
    " exit_code = COALESCE(?, exit_code), duration_ms = COALESCE(?, duration_ms),"
    " logs_path = COALESCE(?, logs_path), process_group = COALESCE(?, process_group)"
    " WHERE step_attempt_id = ? AND run_id = ? AND state = ?"
)


def _step_row(change: StepChange) -> tuple[Any, ...]:
    outcome = change.outcome
    return (
        change.to,
        change.reason,
        change.to in TERMINAL_STEP_STATES,
        change.now,
        outcome.exit_code,
        outcome.duration_ms,
        outcome.logs_path,
        outcome.process_group,
        change.step_attempt_id,
        change.run_id,
        change.expected,
    )


def _step_event(change: StepChange) -> dict[str, Any]:
    """The payload of a step's event."""
    body: dict[str, Any] = {
        "task_id": change.task_id,
        "from": change.expected.value,
        "to": change.to.value,
    }
    if change.reason:
        body["reason"] = change.reason
    if change.outcome.exit_code is not None:
        body["exit_code"] = change.outcome.exit_code
    if change.payload:
        body.update(change.payload)
    return body


def _raise_first_mismatch(connection: sqlite3.Connection, changes: Sequence[StepChange]) -> None:
    """Replay ``changes`` one by one (inside the savepoint) to name the one that fails."""
    for change in changes:
        cursor = connection.execute(_STEP_UPDATE, _step_row(change))
        if cursor.rowcount != 1:
            actual, _ = _current_step(connection, change.run_id, change.step_attempt_id)
            connection.execute("ROLLBACK TO step_changes")
            raise IllegalTransitionError("step", change.step_attempt_id, actual, change.to)
    raise StoreError("step transitions failed to apply")  # pragma: no cover


def _run_transition(
    connection: sqlite3.Connection,
    *,
    run_id: str,
    to: RunState,
    reason: str | None,
    payload: Mapping[str, Any] | None,
    now: str,
) -> str:
    row = connection.execute("SELECT state FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise RunNotFoundError(f"no run {run_id}")
    current = RunState(row[0])
    if not is_legal(current, to):
        raise IllegalTransitionError("run", run_id, current, to)
    connection.execute(
        "UPDATE runs SET state = ?, state_reason = ?,"
        " started_at = CASE WHEN ? THEN COALESCE(started_at, ?) ELSE started_at END,"
        " ended_at = CASE WHEN ? THEN COALESCE(ended_at, ?) ELSE ended_at END"
        " WHERE run_id = ?",
        (to, reason, to is RunState.RUNNING, now, to in _ENDED_RUN_STATES, now, run_id),
    )
    kind = EventKind.RUN_STARTED if to is RunState.RUNNING else EventKind.RUN_STATE_CHANGED
    body: dict[str, Any] = {"from": current.value, "to": to.value}
    if reason:
        body["reason"] = reason
    if payload:
        body.update(payload)
    return append_event(connection, run_id, kind, body, ts=now)


def _current_step(
    connection: sqlite3.Connection, run_id: str, step_attempt_id: str
) -> tuple[StepState, str]:
    row = connection.execute(
        "SELECT state, task_id FROM step_attempts WHERE step_attempt_id = ? AND run_id = ?",
        (step_attempt_id, run_id),
    ).fetchone()
    if row is None:
        raise RunNotFoundError(f"no step attempt {step_attempt_id} in run {run_id}")
    return StepState(row[0]), str(row[1])
