"""Run store: pragmas, migrations, append-only events, exactly-once index, artifacts."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from engine_support import assert_valid, create_attempt

from uet.engine.errors import MigrationError, RunNotFoundError
from uet.engine.store.database import (
    WAL_CHECKPOINT_PAGES,
    connect,
    integrity_problems,
    schema_version,
    transaction,
)
from uet.engine.store.ids import is_ulid, new_ulid, timestamp_from_epoch
from uet.engine.store.lifecycle import RunState, StepOutcome, StepState, TaskState
from uet.engine.store.migrations import SCHEMA_VERSION
from uet.engine.store.records import (
    NewRun,
    find_run_id,
    insert_run,
    run_event_records,
    run_record,
    step_attempt_records,
)
from uet.engine.store.transitions import transition


def _new_run(run_id: str, tasks: tuple[str, ...] = ("a", "b")) -> NewRun:
    return NewRun(
        run_id=run_id,
        project_id="proj",
        phase_id="PH-1",
        workstream_id="ws-1",
        workstream_path="ws.json",
        workspace="/workspace",
        plan={"tasks": list(tasks)},
        tasks=[(task, f"Task {task}") for task in tasks],
        requested_by="tester",
    )


def test_connect_sets_pragmas_and_migrates(connection: sqlite3.Connection) -> None:
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert connection.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    assert connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == WAL_CHECKPOINT_PAGES
    assert schema_version(connection) == SCHEMA_VERSION
    tables = {
        row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    assert {"runs", "run_tasks", "step_attempts", "run_events", "circuit_breakers"} <= tables


def test_reopening_is_idempotent(db_path: Path) -> None:
    for _ in range(2):
        conn = connect(db_path)
        assert schema_version(conn) == SCHEMA_VERSION
        conn.close()


def test_newer_database_is_refused(db_path: Path) -> None:
    conn = connect(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(MigrationError, match="newer than this uet"):
        connect(db_path)


def test_concurrent_first_opens_migrate_once(db_path: Path) -> None:
    errors: list[BaseException] = []

    def open_and_close() -> None:
        try:
            connect(db_path).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_and_close) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    conn = connect(db_path)
    assert schema_version(conn) == SCHEMA_VERSION
    assert integrity_problems(conn) == []
    conn.close()


def test_events_are_append_only(connection: sqlite3.Connection) -> None:
    run_id = new_ulid()
    with transaction(connection):
        insert_run(connection, _new_run(run_id))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("UPDATE run_events SET kind = 'note'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("DELETE FROM run_events")


def test_a_task_cannot_be_completed_twice(connection: sqlite3.Connection) -> None:
    run_id = new_ulid()
    with transaction(connection):
        insert_run(connection, _new_run(run_id))
    attempt_ids = [new_ulid(), new_ulid()]
    for number, attempt_id in enumerate(attempt_ids, start=1):
        with transaction(connection):
            create_attempt(connection, attempt_id, run_id, "a", number, number)
            transition(connection, run_id=run_id, step_attempt_id=attempt_id, to=StepState.RUNNING)
    with transaction(connection):
        transition(
            connection, run_id=run_id, step_attempt_id=attempt_ids[0], to=StepState.COMPLETED
        )
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"), transaction(connection):
        transition(
            connection, run_id=run_id, step_attempt_id=attempt_ids[1], to=StepState.COMPLETED
        )
    states = [row[0] for row in connection.execute("SELECT state FROM step_attempts")]
    assert sorted(states) == ["completed", "running"]


def test_attempts_need_a_known_task(connection: sqlite3.Connection) -> None:
    run_id = new_ulid()
    with transaction(connection):
        insert_run(connection, _new_run(run_id))
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"), transaction(connection):
        create_attempt(connection, new_ulid(), run_id, "nope")


def test_find_run_id_by_prefix(connection: sqlite3.Connection) -> None:
    first, second = new_ulid(), new_ulid()
    with transaction(connection):
        insert_run(connection, _new_run(first))
        insert_run(connection, _new_run(second))
    assert find_run_id(connection, first) == first
    assert find_run_id(connection, second.lower()) == second
    common = next(i for i in range(26) if first[i] != second[i])
    assert find_run_id(connection, second[: common + 1]) == second
    with pytest.raises(RunNotFoundError, match="ambiguous"):
        find_run_id(connection, first[:common])
    with pytest.raises(RunNotFoundError):
        find_run_id(connection, "ZZZZ")


def test_rows_round_trip_to_valid_artifacts(connection: sqlite3.Connection) -> None:
    run_id = new_ulid()
    attempt_id = new_ulid()
    request = {
        "request_id": new_ulid(),
        "project_id": "proj",
        "phase_id": "PH-1",
        "task_kind": "lint",
        "classification": {},
        "resource_scope": {},
        "routing": {"strategy": "fixed"},
    }
    with transaction(connection):
        insert_run(connection, _new_run(run_id))
        transition(connection, run_id=run_id, to=RunState.RUNNING)
        create_attempt(
            connection, attempt_id, run_id, "a", tool_id="ruff", execution_request=request
        )
        transition(
            connection,
            run_id=run_id,
            step_attempt_id=attempt_id,
            to=StepState.RUNNING,
            outcome=StepOutcome(process_group=4242, task_state=TaskState.RUNNING),
        )
        transition(
            connection,
            run_id=run_id,
            step_attempt_id=attempt_id,
            to=StepState.ERROR,
            reason="exit code 3",
            outcome=StepOutcome(
                exit_code=3, duration_ms=12.5, logs_path="logs/x.log", task_state=TaskState.FAILED
            ),
        )
        transition(connection, run_id=run_id, to=RunState.FAILED, reason="task a failed")

    record = run_record(connection, run_id)
    assert record["state"] == "failed"
    assert record["counters"] == {"step_attempts": 1, "errors": 1}
    assert is_ulid(record["run_id"])
    assert_valid("run_record", record)

    (attempt,) = step_attempt_records(connection, run_id)
    assert attempt["exit_code"] == 3
    assert attempt["outputs"] == {"logs_path": "logs/x.log"}
    assert attempt["tool_run_id"] == "pgid:4242"
    assert_valid("step_attempt", attempt)

    events = run_event_records(connection, run_id)
    assert [event["kind"] for event in events] == [
        "run_created",
        "run_started",
        "step_state_changed",
        "step_state_changed",
        "run_state_changed",
    ]
    for event in events:
        assert_valid("run_event", event)
    stored = connection.execute("SELECT execution_request_json FROM step_attempts").fetchone()[0]
    assert_valid("execution_request", __import__("json").loads(stored))
    task = connection.execute("SELECT state, state_reason FROM run_tasks").fetchone()
    assert tuple(task) == ("failed", "exit code 3")


def test_ulids_are_time_ordered_and_unique() -> None:
    ids = [new_ulid() for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(is_ulid(value) for value in ids)
    assert not is_ulid("0123456789abcdefghjkmnpqrs")  # lower case is not canonical
    assert not is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAU")  # U is not Crockford base32


def test_ulids_read_back_with_the_reference_implementation() -> None:
    from ulid import ULID

    before = time.time()
    value = new_ulid()
    after = time.time()
    parsed = ULID.from_str(value)
    assert str(parsed) == value
    assert before - 0.001 <= parsed.timestamp <= after + 0.001
    assert new_ulid() > value


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    # Both draw their random parts from one pool filled before the fork: the child must
    # refill its own, or the two processes would make the same ids in the same millisecond.
    new_ulid()  # the pool is filled now
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(write_end, "".join(new_ulid() for _ in range(50)).encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as pipe:
        child = pipe.read().decode()
    child_randomness = {child[index + 10 : index + 26] for index in range(0, len(child), 26)}
    parent_randomness = {value[10:] for value in (new_ulid() for _ in range(50))}
    assert len(child_randomness) == 50
    assert not child_randomness & parent_randomness


def test_timestamps_are_rfc3339_utc_with_milliseconds() -> None:
    assert timestamp_from_epoch(0) == "1970-01-01T00:00:00.000Z"
    assert timestamp_from_epoch(1.2345) == "1970-01-01T00:00:01.234Z"
