"""How the engine writes attempts: batches that create attempts and apply their transitions,
and the task outcomes those decide."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from uet.engine.errors import IllegalTransitionError
from uet.engine.store.database import transaction
from uet.engine.store.ids import new_ulid, utc_timestamp
from uet.engine.store.lifecycle import (
    NewStep,
    RunState,
    StepChange,
    StepOutcome,
    StepState,
    TaskState,
)
from uet.engine.store.records import NewRun, insert_run
from uet.engine.store.transitions import apply_step_changes, transition

TASKS = [("a", "A"), ("b", "B"), ("c", "C")]
# Columns a step's transitions write (the rest is fixed when the attempt is created).
STEP_COLUMNS = (
    "state, state_reason, started_at, ended_at IS NOT NULL, exit_code, duration_ms,"
    " logs_path, process_group, execution_request_id, execution_request_json"
)


def _running_run(connection: sqlite3.Connection) -> str:
    run_id = new_ulid()
    with transaction(connection):
        insert_run(connection, NewRun(run_id, "p", "ph", "ws", None, "/w", {}, TASKS))
        transition(connection, run_id=run_id, to=RunState.RUNNING)
    return run_id


def _step(run_id: str, task_id: str, sequence: int, attempt: int = 1) -> NewStep:
    attempt_id = new_ulid()
    return NewStep(
        attempt_id, run_id, task_id, sequence, attempt, "tool", "2025-01-01T00:00:00.000Z",
        attempt_id, f'{{"request_id":"{attempt_id}"}}',
    )  # fmt: skip


def _change(
    step: NewStep,
    expected: StepState,
    to: StepState,
    reason: str | None = None,
    **outcome: Any,
) -> StepChange:
    return StepChange(
        run_id=step.run_id,
        step_attempt_id=step.step_attempt_id,
        task_id=step.task_id,
        expected=expected,
        to=to,
        now=utc_timestamp(),
        reason=reason,
        outcome=StepOutcome(**outcome),
    )


def _life(step: NewStep) -> list[StepChange]:
    """pending -> running -> completed, as the engine records a successful attempt."""
    return [
        _change(step, StepState.PENDING, StepState.RUNNING, process_group=4242),
        _change(
            step,
            StepState.RUNNING,
            StepState.COMPLETED,
            "exit code 0",
            exit_code=0,
            duration_ms=1.5,
            task_state=TaskState.SUCCEEDED,
        ),
    ]


def _row(connection: sqlite3.Connection, attempt_id: str) -> tuple[Any, ...]:
    return tuple(
        connection.execute(
            f"SELECT {STEP_COLUMNS} FROM step_attempts WHERE step_attempt_id = ?", (attempt_id,)
        ).fetchone()
    )


def _event_payloads(connection: sqlite3.Connection, attempt_id: str) -> list[str]:
    rows = connection.execute(
        "SELECT kind, payload_json FROM run_events WHERE step_attempt_id = ? ORDER BY event_id",
        (attempt_id,),
    ).fetchall()
    return [f"{kind} {payload}" for kind, payload in rows]


def _task_states(connection: sqlite3.Connection, run_id: str) -> dict[str, tuple[str, Any]]:
    rows = connection.execute(
        "SELECT task_id, state, state_reason FROM run_tasks WHERE run_id = ?", (run_id,)
    ).fetchall()
    return {task_id: (state, reason) for task_id, state, reason in rows}


def test_an_attempt_created_in_the_batch_ends_as_its_changes_one_by_one_leave_it(
    connection: sqlite3.Connection,
) -> None:
    run_id = _running_run(connection)
    batched, one_by_one = _step(run_id, "a", 1), _step(run_id, "b", 2)
    with transaction(connection):
        apply_step_changes(connection, _life(batched), created=[batched])
    with transaction(connection):
        apply_step_changes(connection, [], created=[one_by_one])  # created alone, pending
        for change in _life(one_by_one):
            apply_step_changes(connection, [change])
    expected = list(_row(connection, one_by_one.step_attempt_id))
    expected[-1] = f'{{"request_id":"{batched.step_attempt_id}"}}'
    expected[-2] = batched.step_attempt_id
    assert _row(connection, batched.step_attempt_id) == tuple(expected)
    assert _row(connection, batched.step_attempt_id)[:2] == ("completed", "exit code 0")
    # Every change keeps its own event; creating an attempt has none.
    assert _event_payloads(connection, batched.step_attempt_id) == [
        'step_state_changed {"task_id":"a","from":"pending","to":"running"}',
        'step_state_changed {"task_id":"a","from":"running","to":"completed",'
        '"reason":"exit code 0","exit_code":0}',
    ]
    assert len(_event_payloads(connection, one_by_one.step_attempt_id)) == 2
    assert _task_states(connection, run_id)["a"] == ("succeeded", "exit code 0")


def test_a_created_attempt_that_only_starts_stays_running(
    connection: sqlite3.Connection,
) -> None:
    run_id = _running_run(connection)
    step = _step(run_id, "a", 1)
    with transaction(connection):
        apply_step_changes(connection, _life(step)[:1], created=[step])
    assert _row(connection, step.step_attempt_id)[:4] == ("running", None, step.created_at, 0)
    # ... and a later batch finishes it with an update of the existing row.
    with transaction(connection):
        apply_step_changes(connection, _life(step)[1:])
    assert _row(connection, step.step_attempt_id)[:5] == (
        "completed", "exit code 0", step.created_at, 1, 0,
    )  # fmt: skip


def test_a_wrong_expected_state_of_a_created_attempt_writes_nothing(
    connection: sqlite3.Connection,
) -> None:
    run_id = _running_run(connection)
    good, bad = _step(run_id, "a", 1), _step(run_id, "b", 2)
    changes = [*_life(good), _life(bad)[1]]  # bad: running -> completed while pending
    with (
        pytest.raises(IllegalTransitionError, match="pending -> completed"),
        transaction(connection),
    ):
        apply_step_changes(connection, changes, created=[good, bad])
    assert connection.execute("SELECT COUNT(*) FROM step_attempts").fetchone()[0] == 0
    assert _task_states(connection, run_id)["a"] == ("pending", None)


def test_task_outcomes_follow_the_last_change_of_each_task(
    connection: sqlite3.Connection,
) -> None:
    run_id = _running_run(connection)
    first, retry = _step(run_id, "a", 1), _step(run_id, "a", 2, attempt=2)
    other, failing = _step(run_id, "b", 3), _step(run_id, "c", 4)
    changes = [
        _change(first, StepState.PENDING, StepState.RUNNING, process_group=1),
        _change(
            first, StepState.RUNNING, StepState.ERROR, "exit code 75",
            exit_code=75, task_state=TaskState.RUNNING,
        ),
        *_life(retry),
        *_life(other),
        _change(failing, StepState.PENDING, StepState.RUNNING, process_group=2),
        _change(
            failing, StepState.RUNNING, StepState.ERROR, "exit code 1",
            exit_code=1, task_state=TaskState.FAILED,
        ),
    ]  # fmt: skip
    with transaction(connection):
        event_ids = apply_step_changes(connection, changes, created=[first, retry, other, failing])
    assert len(event_ids) == len(changes) == len(set(event_ids))
    assert _task_states(connection, run_id) == {
        "a": ("succeeded", "exit code 0"),
        "b": ("succeeded", "exit code 0"),
        "c": ("failed", "exit code 1"),
    }
    assert _row(connection, first.step_attempt_id)[:2] == ("error", "exit code 75")
