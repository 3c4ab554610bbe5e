"""Run and step states, the legal transitions between them, and the one function that
performs a transition.

Run states follow ``common.schema.json#/$defs/run_state``; step states are the step_attempt
schema's (``pending → running → completed | error | canceled``). The original UET code,
schema and SQL disagreed on step states; the schema's list is the one kept (see
``docs/compat.md``).

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
from enum import StrEnum
from json.encoder import encode_basestring_ascii as _json_string
from typing import Any

from uet.engine.errors import IllegalTransitionError, RunNotFoundError, StoreError
from uet.engine.ids import new_ulid, utc_timestamp
from uet.engine.store import append_event, compact_json, insert_rows

__all__ = [
    "RUN_TRANSITIONS",
    "STEP_TRANSITIONS",
    "TERMINAL_RUN_STATES",
    "TERMINAL_STEP_STATES",
    "EventKind",
    "RunState",
    "StepChange",
    "StepOutcome",
    "StepState",
    "TaskState",
    "apply_step_changes",
    "is_legal",
    "transition",
]


class RunState(StrEnum):
    """State of a run (``run_state``)."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    QUARANTINED = "quarantined"


class StepState(StrEnum):
    """State of one step attempt (``step_state``)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    ERROR = "error"
    CANCELED = "canceled"


class TaskState(StrEnum):
    """Outcome of one task of a run (``run_tasks.state``), derived from its attempts."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELED = "canceled"


class EventKind(StrEnum):
    """``run_event.kind``: the original's kinds plus the engine's additions."""

    RUN_CREATED = "run_created"
    RUN_STARTED = "run_started"
    RUN_STATE_CHANGED = "run_state_changed"
    TOOL_CALL_STARTED = "tool_call_started"
    TOOL_CALL_COMPLETED = "tool_call_completed"
    TOOL_CALL_ERROR = "tool_call_error"
    PATCH_CREATED = "patch_created"
    PATCH_VALIDATED = "patch_validated"
    PATCH_APPLY_STARTED = "patch_apply_started"
    PATCH_APPLY_SUCCEEDED = "patch_apply_succeeded"
    PATCH_APPLY_FAILED = "patch_apply_failed"
    PATCH_QUARANTINED = "patch_quarantined"
    ERROR_PIPELINE_TRIGGERED = "error_pipeline_triggered"
    PHASE_TRANSITION = "phase_transition"
    NOTE = "note"
    STEP_STATE_CHANGED = "step_state_changed"
    TASK_SKIPPED = "task_skipped"
    ATTEMPT_INTERRUPTED = "attempt_interrupted"
    RUN_RESUMED = "run_resumed"
    RETRY_SCHEDULED = "retry_scheduled"
    CIRCUIT_STATE_CHANGED = "circuit_state_changed"


RUN_TRANSITIONS: Mapping[RunState, frozenset[RunState]] = {
    RunState.PENDING: frozenset({RunState.RUNNING, RunState.CANCELED}),
    RunState.RUNNING: frozenset(
        {RunState.SUCCEEDED, RunState.FAILED, RunState.QUARANTINED, RunState.CANCELED}
    ),
    RunState.FAILED: frozenset({RunState.QUARANTINED}),
    RunState.SUCCEEDED: frozenset(),
    RunState.CANCELED: frozenset(),
    RunState.QUARANTINED: frozenset(),
}
STEP_TRANSITIONS: Mapping[StepState, frozenset[StepState]] = {
    StepState.PENDING: frozenset({StepState.RUNNING, StepState.CANCELED}),
    StepState.RUNNING: frozenset({StepState.COMPLETED, StepState.ERROR, StepState.CANCELED}),
    StepState.COMPLETED: frozenset(),
    StepState.ERROR: frozenset(),
    StepState.CANCELED: frozenset(),
}
TERMINAL_RUN_STATES = frozenset(state for state, nxt in RUN_TRANSITIONS.items() if not nxt)
TERMINAL_STEP_STATES = frozenset(state for state, nxt in STEP_TRANSITIONS.items() if not nxt)
# A run has ended (ended_at is set) in these states, even though failed may still move on.
_ENDED_RUN_STATES = TERMINAL_RUN_STATES | {RunState.FAILED}


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """Columns written together with a step transition (``None`` leaves a column alone)."""

    exit_code: int | None = None
    duration_ms: float | None = None
    logs_path: str | None = None
    process_group: int | None = None
    task_state: TaskState | None = None


def is_legal(current: RunState | StepState, target: RunState | StepState) -> bool:
    """Whether ``current → target`` is a legal transition (run or step)."""
    if isinstance(current, RunState) and isinstance(target, RunState):
        return target in RUN_TRANSITIONS[current]
    if isinstance(current, StepState) and isinstance(target, StepState):
        return target in STEP_TRANSITIONS[current]
    return False


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


@dataclass(frozen=True, slots=True)
class StepChange:
    """One step transition, ``expected → to``, of attempt ``step_attempt_id`` of a task."""

    run_id: str
    step_attempt_id: str
    task_id: str
    expected: StepState
    to: StepState
    now: str
    reason: str | None = None
    outcome: StepOutcome = StepOutcome()
    payload: Mapping[str, Any] | None = None


def apply_step_changes(connection: sqlite3.Connection, changes: Sequence[StepChange]) -> list[str]:
    """Apply step transitions in order (the batch form of :func:`transition`).

    Each change is checked against the transition table and applied only if the attempt is
    in its ``expected`` state; otherwise nothing of the batch is applied and
    :class:`IllegalTransitionError` names the first bad change. States, task outcomes and
    events are written with one statement per kind, and successive changes of one attempt
    (``pending → running → completed`` within one batch) with one row update: the row ends
    as applying them one by one would leave it, and every change still gets its event.
    Returns the event ids.
    """
    if not connection.in_transaction:
        raise StoreError("state transitions must run inside a transaction")
    for change in changes:
        if not is_legal(change.expected, change.to):
            raise IllegalTransitionError("step", change.step_attempt_id, change.expected, change.to)
    if not changes:
        return []
    connection.execute("SAVEPOINT step_changes")
    try:
        rows = _merged_step_rows(changes)
        cursor = connection.executemany(_STEP_UPDATE, rows)
        if cursor.rowcount != len(rows):
            connection.execute("ROLLBACK TO step_changes")
            _raise_first_mismatch(connection, changes)
        connection.executemany(
            "UPDATE run_tasks SET state = ?, state_reason = ? WHERE run_id = ? AND task_id = ?",
            [
                (change.outcome.task_state, change.reason, change.run_id, change.task_id)
                for change in changes
                if change.outcome.task_state is not None
            ],
        )
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
                    EventKind.STEP_STATE_CHANGED.value,
                    _step_event_json(change),
                )
                for event_id, change in zip(event_ids, changes, strict=True)
            ],
        )
    finally:
        connection.execute("RELEASE step_changes")
    return event_ids


_STEP_UPDATE = (
    "UPDATE step_attempts SET state = ?, state_reason = ?,"
    " ended_at = CASE WHEN ? THEN ? ELSE ended_at END,"
    " exit_code = COALESCE(?, exit_code), duration_ms = COALESCE(?, duration_ms),"
    " logs_path = COALESCE(?, logs_path), process_group = COALESCE(?, process_group)"
    " WHERE step_attempt_id = ? AND run_id = ? AND state = ?"
)


# Positions in a _STEP_UPDATE row.
_ROW_TO, _ROW_REASON, _ROW_ENDS, _ROW_NOW = 0, 1, 2, 3
_ROW_OUTCOME = slice(4, 8)


def _merged_step_rows(changes: Sequence[StepChange]) -> list[list[Any]]:
    """The _STEP_UPDATE rows of ``changes``: a change that continues the previous change of
    the same attempt (its ``expected`` is that one's ``to``) is folded into its row."""
    rows: list[list[Any]] = []
    open_rows: dict[str, list[Any]] = {}
    for change in changes:
        row = open_rows.get(change.step_attempt_id)
        if row is None or row[_ROW_TO] != change.expected:
            row = _step_row(change)
            rows.append(row)
            open_rows[change.step_attempt_id] = row
            continue
        later = _step_row(change)
        row[_ROW_TO] = later[_ROW_TO]
        row[_ROW_REASON] = later[_ROW_REASON]
        row[_ROW_ENDS] = later[_ROW_ENDS]
        row[_ROW_NOW] = later[_ROW_NOW]
        row[_ROW_OUTCOME] = [
            new if new is not None else old
            for old, new in zip(row[_ROW_OUTCOME], later[_ROW_OUTCOME], strict=True)
        ]
    return rows


def _step_row(change: StepChange) -> list[Any]:
    outcome = change.outcome
    return [
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
    ]


def _step_event_json(change: StepChange) -> str:
    """The payload of a step's event, as :func:`compact_json` would write
    ``{"task_id", "from", "to", "reason"?, "exit_code"?, **payload}``; written directly,
    since the engine writes two of these per task."""
    if change.payload:
        body: dict[str, Any] = {
            "task_id": change.task_id,
            "from": change.expected.value,
            "to": change.to.value,
        }
        if change.reason:
            body["reason"] = change.reason
        if change.outcome.exit_code is not None:
            body["exit_code"] = change.outcome.exit_code
        body.update(change.payload)
        return compact_json(body)
    text = (
        f'{{"task_id":{_json_string(change.task_id)},'
        f'"from":"{change.expected.value}","to":"{change.to.value}"'
    )
    if change.reason:
        text += f',"reason":{_json_string(change.reason)}'
    if change.outcome.exit_code is not None:
        text += f',"exit_code":{int(change.outcome.exit_code)}'
    return text + "}"


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
