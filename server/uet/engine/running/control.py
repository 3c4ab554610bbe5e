"""Cancelling a run from any process (``uet cancel``, the editor).

A run with a live owner is asked through the database (``runs.cancel_requested``, which the
owner's writer thread watches) and waited for. An orphaned or never-started run is claimed
(:func:`~uet.engine.running.ownership.claim_run`) and canceled here: its leftover processes
are killed and its unfinished attempts closed (:mod:`uet.engine.running.orphans`).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from uet.engine.errors import RunControlError
from uet.engine.running.orphans import close_interrupted_attempts, kill_orphan_groups
from uet.engine.running.ownership import Owner, claim_run, owner_alive
from uet.engine.running.process_record import run_logs_dir
from uet.engine.store.database import connect, transaction
from uet.engine.store.lifecycle import TERMINAL_RUN_STATES, RunState, StepState, TaskState
from uet.engine.store.records import find_run_id
from uet.engine.store.transitions import transition

__all__ = ["cancel_run"]

_CANCEL_POLL_SECONDS = 0.05


def cancel_run(
    db_path: Path, run: str, reason: str = "canceled by user", *, wait_seconds: float = 30.0
) -> RunState:
    """Cancel run ``run`` (id or unique prefix) from any process; returns its state after.

    A live owner is asked through the database and waited for (up to ``wait_seconds``); an
    orphaned or never-started run is canceled here: its leftover processes are killed and
    its unfinished attempts closed.
    """
    connection = connect(db_path)
    try:
        run_id = find_run_id(connection, run)
        row = _run_row(connection, run_id)
        state = RunState(row["state"])
        if state in TERMINAL_RUN_STATES or state is RunState.FAILED:
            raise RunControlError(f"run {run_id} has already finished ({state})")
        with transaction(connection):
            connection.execute(
                "UPDATE runs SET cancel_requested = 1, cancel_reason = ? WHERE run_id = ?",
                (reason, run_id),
            )
        if owner_alive(row):
            return _wait_for_end(connection, run_id, wait_seconds)
        return _cancel_orphan(connection, db_path, run_id, row["owner_id"], reason)
    finally:
        connection.close()


def _cancel_orphan(
    connection: sqlite3.Connection, db_path: Path, run_id: str, owner_id: str | None, reason: str
) -> RunState:
    with transaction(connection):
        if not claim_run(connection, run_id, Owner.current(), owner_id):
            raise RunControlError(f"run {run_id} was claimed by another process meanwhile")
        kill_orphan_groups(connection, run_id, run_logs_dir(db_path, run_id))
        close_interrupted_attempts(
            connection,
            run_id,
            step_state=StepState.CANCELED,
            task_state=TaskState.CANCELED,
            reason=f"canceled: {reason}",
        )
        transition(connection, run_id=run_id, to=RunState.CANCELED, reason=reason)
    return RunState.CANCELED


def _wait_for_end(connection: sqlite3.Connection, run_id: str, wait_seconds: float) -> RunState:
    deadline = time.monotonic() + wait_seconds
    while True:
        state = RunState(_run_row(connection, run_id)["state"])
        if state in TERMINAL_RUN_STATES or state is RunState.FAILED:
            return state
        if time.monotonic() >= deadline:
            return state
        time.sleep(_CANCEL_POLL_SECONDS)


def _run_row(connection: sqlite3.Connection, run_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = connection.execute(
        "SELECT * FROM runs WHERE run_id = ?", (run_id,)
    ).fetchone()
    if row is None:
        raise RunControlError(f"run {run_id} disappeared")
    return row
