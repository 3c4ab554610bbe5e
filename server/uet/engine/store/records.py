"""Rows of the run store: creating runs and their tasks, and reading them back as
run_record, step_attempt and run_event artifacts (plain dicts valid against the schemas)
and as per-task statuses (:func:`task_statuses`, what ``uet run`` and ``uet status`` print).

State changes are not written here, nor are step attempts created here: both go through
:func:`~uet.engine.store.transitions.apply_step_changes` (or
:func:`~uet.engine.store.transitions.transition`).
Optional fields that are unset are left out of the artifacts rather than written as null.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Mapping, Sequence
from typing import Any, NamedTuple

from uet.engine.errors import RunNotFoundError
from uet.engine.store.database import append_event, compact_json
from uet.engine.store.ids import utc_timestamp
from uet.engine.store.lifecycle import EventKind, RunState, TaskState

__all__ = [
    "NewRun",
    "TaskStatus",
    "find_run_id",
    "insert_run",
    "run_event_records",
    "run_record",
    "set_task_state",
    "step_attempt_record",
    "step_attempt_records",
    "task_statuses",
]


class NewRun(NamedTuple):
    """A run about to be created, with its tasks (id, name) in workstream order."""

    run_id: str
    project_id: str
    phase_id: str
    workstream_id: str | None
    workstream_path: str | None
    workspace: str
    plan: Mapping[str, Any]
    tasks: Sequence[tuple[str, str]]
    requested_by: str | None = None
    trigger_type: str = "manual"


class TaskStatus(NamedTuple):
    """One task of a run with its latest attempt."""

    task_id: str
    name: str
    state: str
    reason: str | None
    attempts: int
    tool_id: str | None
    duration_ms: float | None
    exit_code: int | None
    logs_path: str | None


def insert_run(connection: sqlite3.Connection, run: NewRun, now: str | None = None) -> None:
    """Create a ``pending`` run, its ``pending`` tasks and a run_created event."""
    now = now or utc_timestamp()
    connection.execute(
        "INSERT INTO runs (run_id, project_id, phase_id, workstream_id, workstream_path,"
        " workspace, state, created_at, trigger_type, requested_by, plan_json)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run.run_id,
            run.project_id,
            run.phase_id,
            run.workstream_id,
            run.workstream_path,
            run.workspace,
            RunState.PENDING,
            now,
            run.trigger_type,
            run.requested_by,
            "",  # the plan is in run_plans (migration 2)
        ),
    )
    connection.execute(
        "INSERT INTO run_plans (run_id, plan_json) VALUES (?, ?)",
        (run.run_id, compact_json(run.plan)),
    )
    run_id, pending = run.run_id, TaskState.PENDING.value
    connection.executemany(
        "INSERT INTO run_tasks (run_id, task_id, position, name, state) VALUES (?, ?, ?, ?, ?)",
        [
            (run_id, task_id, position, name, pending)
            for position, (task_id, name) in enumerate(run.tasks)
        ],
    )
    append_event(
        connection,
        run.run_id,
        EventKind.RUN_CREATED,
        {"workstream_id": run.workstream_id, "tasks": len(run.tasks)},
        ts=now,
    )


def set_task_state(
    connection: sqlite3.Connection,
    run_id: str,
    task_id: str,
    state: TaskState,
    reason: str,
    *,
    now: str | None = None,
    kind: EventKind = EventKind.TASK_SKIPPED,
) -> None:
    """Record the outcome of a task without a step transition (skipped, canceled before it
    started, refused by an open circuit), with an event of ``kind``."""
    connection.execute(
        "UPDATE run_tasks SET state = ?, state_reason = ? WHERE run_id = ? AND task_id = ?",
        (state, reason, run_id, task_id),
    )
    append_event(
        connection,
        run_id,
        kind,
        {"task_id": task_id, "state": state.value, "reason": reason},
        ts=now,
    )


def find_run_id(connection: sqlite3.Connection, text: str) -> str:
    """The run id ``text`` names: a full id, or a unique prefix (case-insensitive)."""
    wanted = text.strip().upper()
    if not wanted:
        raise RunNotFoundError("empty run id")
    rows = connection.execute(
        "SELECT run_id FROM runs WHERE run_id >= ? AND run_id < ? ORDER BY run_id LIMIT 2",
        (wanted, wanted + "\U0010ffff"),
    ).fetchall()
    if not rows:
        raise RunNotFoundError(f"no run {text!r}")
    if len(rows) > 1 and rows[0][0] != wanted:
        raise RunNotFoundError(f"run id prefix {text!r} is ambiguous")
    return str(rows[0][0])


def run_record(connection: sqlite3.Connection, run_id: str) -> dict[str, Any]:
    """The run_record artifact of ``run_id``."""
    row = connection.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise RunNotFoundError(f"no run {run_id}")
    counts = connection.execute(
        "SELECT COUNT(*), COALESCE(SUM(state = 'error'), 0) FROM step_attempts WHERE run_id = ?",
        (run_id,),
    ).fetchone()
    origin: dict[str, Any] = {"trigger_type": row["trigger_type"]}
    if row["requested_by"]:
        origin["requested_by"] = row["requested_by"]
    record: dict[str, Any] = {
        "run_id": row["run_id"],
        "project_id": row["project_id"],
        "phase_id": row["phase_id"],
        "workstream_id": row["workstream_id"],
        "execution_request_id": row["execution_request_id"],
        "created_at": row["created_at"],
        "started_at": row["started_at"],
        "ended_at": row["ended_at"],
        "state": row["state"],
        "state_reason": row["state_reason"],
        "origin": origin,
        "counters": {"step_attempts": int(counts[0]), "errors": int(counts[1])},
    }
    return _without_none(record)


def step_attempt_record(row: sqlite3.Row) -> dict[str, Any]:
    """The step_attempt artifact of one ``step_attempts`` row."""
    record: dict[str, Any] = {
        "step_attempt_id": row["step_attempt_id"],
        "run_id": row["run_id"],
        "task_id": row["task_id"],
        "sequence": row["sequence"],
        "attempt": row["attempt"],
        "tool_id": row["tool_id"],
        "tool_run_id": None if row["process_group"] is None else f"pgid:{row['process_group']}",
        "execution_request_id": row["execution_request_id"],
        "started_at": row["started_at"],
        "ended_at": row["ended_at"],
        "state": row["state"],
        "state_reason": row["state_reason"],
        "exit_code": row["exit_code"],
        "duration_ms": row["duration_ms"],
    }
    if row["logs_path"]:
        record["outputs"] = {"logs_path": row["logs_path"]}
    return _without_none(record)


def step_attempt_records(connection: sqlite3.Connection, run_id: str) -> list[dict[str, Any]]:
    """Every step_attempt artifact of ``run_id``, in sequence order."""
    rows = connection.execute(
        "SELECT * FROM step_attempts WHERE run_id = ? ORDER BY sequence", (run_id,)
    ).fetchall()
    return [step_attempt_record(row) for row in rows]


def run_event_records(
    connection: sqlite3.Connection, run_id: str, *, after: str | None = None
) -> list[dict[str, Any]]:
    """The run_event artifacts of ``run_id`` in order (only those after event ``after``)."""
    rows = connection.execute(
        "SELECT * FROM run_events WHERE run_id = ? AND event_id > ? ORDER BY event_id",
        (run_id, after or ""),
    ).fetchall()
    records: list[dict[str, Any]] = []
    for row in rows:
        record: dict[str, Any] = {
            "event_id": row["event_id"],
            "run_id": row["run_id"],
            "step_attempt_id": row["step_attempt_id"],
            "ts": row["ts"],
            "kind": row["kind"],
        }
        if row["payload_json"]:
            record["payload"] = json.loads(row["payload_json"])
        records.append(_without_none(record))
    return records


def task_statuses(
    connection: sqlite3.Connection, run_id: str, *, outcomes: Collection[str] | None = None
) -> list[TaskStatus]:
    """Every task of ``run_id`` in workstream order, with its latest attempt; only those
    whose recorded outcome (``run_tasks.state``) is in ``outcomes`` when given."""
    only = ""
    parameters: list[str] = [run_id]
    if outcomes is not None:
        only = f" AND t.state IN ({', '.join('?' * len(outcomes))})"
        parameters.extend(outcomes)
    rows = connection.execute(
        "SELECT t.task_id, t.name, t.state, t.state_reason, l.state AS last_state,"
        " (SELECT COUNT(*) FROM step_attempts a WHERE a.run_id = t.run_id"
        "   AND a.task_id = t.task_id) AS attempts,"
        " l.tool_id AS last_tool, l.duration_ms, l.exit_code, l.logs_path"
        " FROM run_tasks t LEFT JOIN step_attempts l ON l.step_attempt_id = ("
        "   SELECT step_attempt_id FROM step_attempts a WHERE a.run_id = t.run_id"
        "   AND a.task_id = t.task_id ORDER BY attempt DESC LIMIT 1)"
        f" WHERE t.run_id = ?{only} ORDER BY t.position",
        parameters,
    ).fetchall()
    return [
        TaskStatus(
            task_id=row["task_id"],
            name=row["name"],
            # A started task stays pending in run_tasks until its attempt ends.
            state="running" if row["last_state"] == "running" else row["state"],
            reason=row["state_reason"],
            attempts=int(row["attempts"]),
            tool_id=row["last_tool"],
            duration_ms=row["duration_ms"],
            exit_code=row["exit_code"],
            logs_path=row["logs_path"],
        )
        for row in rows
    ]


def _without_none(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if value is not None}
