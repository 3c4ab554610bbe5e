"""The state machine: every legal and every illegal run and step transition."""

from __future__ import annotations

import itertools
import sqlite3

import pytest
from engine_support import create_attempt

from uet.engine.errors import IllegalTransitionError, RunNotFoundError, StoreError
from uet.engine.store.database import transaction
from uet.engine.store.ids import new_ulid
from uet.engine.store.lifecycle import (
    RUN_TRANSITIONS,
    STEP_TRANSITIONS,
    TERMINAL_RUN_STATES,
    TERMINAL_STEP_STATES,
    RunState,
    StepState,
    is_legal,
)
from uet.engine.store.records import NewRun, insert_run
from uet.engine.store.transitions import transition

LEGAL_RUN = {
    (RunState.PENDING, RunState.RUNNING),
    (RunState.PENDING, RunState.CANCELED),
    (RunState.RUNNING, RunState.SUCCEEDED),
    (RunState.RUNNING, RunState.FAILED),
    (RunState.RUNNING, RunState.QUARANTINED),
    (RunState.RUNNING, RunState.CANCELED),
    (RunState.FAILED, RunState.QUARANTINED),
}
LEGAL_STEP = {
    (StepState.PENDING, StepState.RUNNING),
    (StepState.PENDING, StepState.CANCELED),
    (StepState.RUNNING, StepState.COMPLETED),
    (StepState.RUNNING, StepState.ERROR),
    (StepState.RUNNING, StepState.CANCELED),
}
# The shortest legal path from the initial state to each state.
RUN_PATHS = {
    RunState.PENDING: [],
    RunState.RUNNING: [RunState.RUNNING],
    RunState.SUCCEEDED: [RunState.RUNNING, RunState.SUCCEEDED],
    RunState.FAILED: [RunState.RUNNING, RunState.FAILED],
    RunState.CANCELED: [RunState.CANCELED],
    RunState.QUARANTINED: [RunState.RUNNING, RunState.QUARANTINED],
}
STEP_PATHS = {
    StepState.PENDING: [],
    StepState.RUNNING: [StepState.RUNNING],
    StepState.COMPLETED: [StepState.RUNNING, StepState.COMPLETED],
    StepState.ERROR: [StepState.RUNNING, StepState.ERROR],
    StepState.CANCELED: [StepState.CANCELED],
}


def test_tables_are_exactly_the_documented_ones() -> None:
    table_run = {(a, b) for a, targets in RUN_TRANSITIONS.items() for b in targets}
    table_step = {(a, b) for a, targets in STEP_TRANSITIONS.items() for b in targets}
    assert table_run == LEGAL_RUN
    assert table_step == LEGAL_STEP
    assert {RunState.SUCCEEDED, RunState.CANCELED, RunState.QUARANTINED} == TERMINAL_RUN_STATES
    assert {StepState.COMPLETED, StepState.ERROR, StepState.CANCELED} == TERMINAL_STEP_STATES
    assert not is_legal(RunState.PENDING, StepState.RUNNING)


def _run_in(connection: sqlite3.Connection, state: RunState) -> str:
    run_id = new_ulid()
    with transaction(connection):
        insert_run(
            connection,
            NewRun(run_id, "p", "ph", "ws", None, "/w", {}, [("t", "T")]),
        )
        for step in RUN_PATHS[state]:
            transition(connection, run_id=run_id, to=step)
    return run_id


def _events(connection: sqlite3.Connection, run_id: str) -> int:
    return int(
        connection.execute(
            "SELECT COUNT(*) FROM run_events WHERE run_id = ?", (run_id,)
        ).fetchone()[0]
    )


@pytest.mark.parametrize(("current", "target"), list(itertools.product(RunState, RunState)))
def test_run_transition(
    connection: sqlite3.Connection, current: RunState, target: RunState
) -> None:
    run_id = _run_in(connection, current)
    events_before = _events(connection, run_id)
    if (current, target) in LEGAL_RUN:
        with transaction(connection):
            transition(connection, run_id=run_id, to=target, reason="because")
        row = connection.execute(
            "SELECT state, state_reason, started_at, ended_at FROM runs WHERE run_id = ?",
            (run_id,),
        ).fetchone()
        assert row["state"] == target
        assert row["state_reason"] == "because"
        assert (row["started_at"] is not None) == (
            target is not RunState.CANCELED or current is RunState.RUNNING
        )
        assert (row["ended_at"] is not None) == (target is not RunState.RUNNING)
        assert _events(connection, run_id) == events_before + 1
        last = connection.execute(
            "SELECT kind, payload_json FROM run_events WHERE run_id = ? ORDER BY event_id DESC",
            (run_id,),
        ).fetchone()
        expected_kind = "run_started" if target is RunState.RUNNING else "run_state_changed"
        assert last["kind"] == expected_kind
        assert f'"to":"{target.value}"' in last["payload_json"]
    else:
        with pytest.raises(IllegalTransitionError) as info, transaction(connection):
            transition(connection, run_id=run_id, to=target)
        assert f"{current} -> {target}" in str(info.value)
        state = connection.execute("SELECT state FROM runs WHERE run_id = ?", (run_id,)).fetchone()[
            0
        ]
        assert state == current
        assert _events(connection, run_id) == events_before


@pytest.mark.parametrize(("current", "target"), list(itertools.product(StepState, StepState)))
def test_step_transition(
    connection: sqlite3.Connection, current: StepState, target: StepState
) -> None:
    run_id = _run_in(connection, RunState.RUNNING)
    attempt_id = new_ulid()
    with transaction(connection):
        create_attempt(connection, attempt_id, run_id, "t")
        for step in STEP_PATHS[current]:
            transition(connection, run_id=run_id, step_attempt_id=attempt_id, to=step)
    events_before = _events(connection, run_id)
    if (current, target) in LEGAL_STEP:
        with transaction(connection):
            transition(connection, run_id=run_id, step_attempt_id=attempt_id, to=target)
        row = connection.execute(
            "SELECT state, ended_at FROM step_attempts WHERE step_attempt_id = ?", (attempt_id,)
        ).fetchone()
        assert row["state"] == target
        assert (row["ended_at"] is not None) == (target in TERMINAL_STEP_STATES)
        assert _events(connection, run_id) == events_before + 1
    else:
        with pytest.raises(IllegalTransitionError), transaction(connection):
            transition(connection, run_id=run_id, step_attempt_id=attempt_id, to=target)
        state = connection.execute(
            "SELECT state FROM step_attempts WHERE step_attempt_id = ?", (attempt_id,)
        ).fetchone()[0]
        assert state == current
        assert _events(connection, run_id) == events_before


def test_transition_needs_a_transaction(connection: sqlite3.Connection) -> None:
    run_id = _run_in(connection, RunState.PENDING)
    with pytest.raises(StoreError, match="inside a transaction"):
        transition(connection, run_id=run_id, to=RunState.RUNNING)


def test_state_and_event_roll_back_together(connection: sqlite3.Connection) -> None:
    run_id = _run_in(connection, RunState.PENDING)
    events_before = _events(connection, run_id)
    with pytest.raises(RuntimeError), transaction(connection):
        transition(connection, run_id=run_id, to=RunState.RUNNING)
        raise RuntimeError("crash before commit")
    state = connection.execute("SELECT state FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    assert state[0] == "pending"
    assert _events(connection, run_id) == events_before


def test_unknown_run_and_wrong_state_type(connection: sqlite3.Connection) -> None:
    with pytest.raises(RunNotFoundError), transaction(connection):
        transition(connection, run_id=new_ulid(), to=RunState.RUNNING)
    run_id = _run_in(connection, RunState.RUNNING)
    with pytest.raises(TypeError), transaction(connection):
        transition(connection, run_id=run_id, to=StepState.RUNNING)
    with pytest.raises(RunNotFoundError), transaction(connection):
        transition(connection, run_id=run_id, step_attempt_id=new_ulid(), to=StepState.RUNNING)
