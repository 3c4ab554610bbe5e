"""Retries (tenacity, fake sleep) and circuit breakers (persisted, fake clock)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from engine_support import check_run_artifacts, journal, task_states, write_workspace

from uet.engine.planning.router_config import BreakerPolicy, RetryPolicy
from uet.engine.running.resilience import (
    Breaker,
    BreakerBoard,
    CircuitState,
    admit,
    load_breakers,
    record_outcome,
    retry_controller,
    save_breaker,
)
from uet.engine.running.session import RunOptions
from uet.engine.running.start import RunResult, start_run
from uet.engine.store.database import transaction
from uet.engine.store.lifecycle import RunState

POLICY = BreakerPolicy(failure_threshold=3, recovery_timeout_seconds=60)


def test_breaker_opens_after_threshold_consecutive_failures() -> None:
    breaker = Breaker("app")
    for _ in range(2):
        breaker = record_outcome(breaker, POLICY, success=False, now=0)
        assert breaker.state is CircuitState.CLOSED
    breaker = record_outcome(Breaker("app", failure_count=1), POLICY, success=True, now=0)
    assert breaker.failure_count == 0  # a success resets the count
    for _ in range(3):
        breaker = record_outcome(breaker, POLICY, success=False, now=100)
    assert (breaker.state, breaker.opened_at) == (CircuitState.OPEN, 100)


def test_open_breaker_half_opens_for_one_trial() -> None:
    opened = Breaker("app", CircuitState.OPEN, 3, opened_at=100)
    assert admit(opened, POLICY, now=159.9) == (False, opened)
    allowed, trial = admit(opened, POLICY, now=160)
    assert allowed and trial.state is CircuitState.HALF_OPEN and trial.trial_in_flight
    assert admit(trial, POLICY, now=161)[0] is False  # one trial at a time
    assert record_outcome(trial, POLICY, success=True, now=162) == Breaker("app")
    reopened = record_outcome(trial, POLICY, success=False, now=162)
    assert (reopened.state, reopened.opened_at) == (CircuitState.OPEN, 162)


def test_board_reports_changes(tmp_path: Path) -> None:
    changes: list[tuple[Breaker, Breaker]] = []
    now = [0.0]
    board = BreakerBoard({}, {"app": POLICY}, lambda: now[0], lambda a, b: changes.append((a, b)))
    assert board.admit("app")
    assert changes == []  # closed stays closed: nothing to persist
    for _ in range(3):
        board.record("app", success=False)
    assert board.is_open("app")
    assert not board.admit("app")
    now[0] = 61
    assert not board.is_open("app")
    assert board.admit("app")
    assert board.get("app").state is CircuitState.HALF_OPEN
    board.release("app")  # canceled trial: another one may go
    assert board.admit("app")
    assert [new.state for _, new in changes][-1] is CircuitState.HALF_OPEN


def test_breaker_rows_round_trip(connection: sqlite3.Connection) -> None:
    breaker = Breaker("app", CircuitState.OPEN, 7, 123.5)
    with transaction(connection):
        save_breaker(connection, breaker, "2025-01-01T00:00:00.000Z")
        save_breaker(connection, Breaker("other"), "2025-01-01T00:00:00.000Z")
    assert load_breakers(connection) == {"app": breaker, "other": Breaker("other")}


@pytest.mark.parametrize("base", [1.0, 0.5])
def test_backoff_is_exponential_with_jitter_and_capped(base: float) -> None:
    import tenacity

    from uet.engine.adapters.base import AdapterResult, AttemptStatus
    from uet.engine.running.resilience import RetryableFailure

    sleeps: list[float] = []
    controller = retry_controller(
        6, RetryPolicy(base_delay_seconds=base, max_delay_seconds=5 * base), sleeps.append
    )
    failure = AdapterResult(AttemptStatus.FAILED, 75, 1.0, "exit code 75")
    calls = 0
    with pytest.raises(RetryableFailure):
        for attempt in controller:
            with attempt:
                calls += 1
                raise RetryableFailure(failure)
    assert calls == 6
    assert len(sleeps) == 5
    # The first retry waits base + jitter (not 2 x base): the original's off-by-one.
    for index, delay in enumerate(sleeps):
        low = min(base * 2**index, 5 * base)
        assert low <= delay <= min(low + base, 5 * base)
    assert sleeps[-1] == 5 * base
    assert isinstance(controller, tenacity.Retrying)


def _router(**app: object) -> dict[str, object]:
    flaky: dict[str, object] = {
        "kind": "tool",
        "command": ["unused"],
        "capabilities": {"task_kinds": ["flaky"]},
    }
    flaky.update(app)
    return {"version": "1.0.0", "apps": {"flaky-app": flaky}, "routing": {"rules": []}}


def _run(path: Path, **options: object) -> RunResult:
    result = start_run(path, options=RunOptions(**options)).wait(timeout=60)  # type: ignore[arg-type]
    assert result is not None
    return result


def _attempt_rows(db: Path, run_id: str) -> list[tuple[int, str, int | None]]:
    connection = sqlite3.connect(db)
    try:
        return [
            (row[0], row[1], row[2])
            for row in connection.execute(
                "SELECT attempt, state, exit_code FROM step_attempts WHERE run_id = ?"
                " ORDER BY sequence",
                (run_id,),
            )
        ]
    finally:
        connection.close()


def test_retryable_exit_codes_are_retried_each_attempt_its_own_row(tmp_path: Path) -> None:
    path = write_workspace(
        tmp_path,
        [{"task_id": "t", "kind": "flaky", "program": ["flaky", "2", "75"]}],
        router=_router(retry={"retryable_exit_codes": [75]}),
    )
    sleeps: list[float] = []
    result = _run(path, sleep=sleeps.append)
    assert result.state is RunState.SUCCEEDED
    db = tmp_path / ".uet" / "runs.db"
    assert _attempt_rows(db, result.run_id) == [
        (1, "error", 75),
        (2, "error", 75),
        (3, "completed", 0),
    ]
    assert len(sleeps) == 2
    assert 1.0 <= sleeps[0] < 2.0 and 2.0 <= sleeps[1] < 3.0
    check_run_artifacts(db, result.run_id)


def test_other_failures_are_not_retried(tmp_path: Path) -> None:
    path = write_workspace(
        tmp_path,
        [{"task_id": "t", "kind": "flaky", "program": ["flaky", "2", "3"]}],
        router=_router(retry={"retryable_exit_codes": [75], "max_attempts": 5}),
    )
    sleeps: list[float] = []
    result = _run(path, sleep=sleeps.append)
    assert result.state is RunState.FAILED
    assert _attempt_rows(tmp_path / ".uet" / "runs.db", result.run_id) == [(1, "error", 3)]
    assert sleeps == []


def test_max_attempts_bounds_retries(tmp_path: Path) -> None:
    path = write_workspace(
        tmp_path,
        [
            {
                "task_id": "t",
                "kind": "flaky",
                "program": ["flaky", "10", "75"],
                "execution": {"max_attempts": 2},
            }
        ],
        router=_router(retry={"retryable_exit_codes": [75]}),
    )
    sleeps: list[float] = []
    result = _run(path, sleep=sleeps.append)
    assert result.state is RunState.FAILED
    assert [row[0] for row in _attempt_rows(tmp_path / ".uet" / "runs.db", result.run_id)] == [1, 2]
    assert len(sleeps) == 1


def test_timeouts_are_retried(tmp_path: Path) -> None:
    path = write_workspace(
        tmp_path,
        [
            {
                "task_id": "t",
                "kind": "flaky",
                "program": ["sleep", "30"],
                "execution": {"max_attempts": 2, "timeout_seconds": 1},
            }
        ],
        router=_router(),
    )
    sleeps: list[float] = []
    result = _run(path, sleep=sleeps.append, kill_grace_seconds=0.2)
    assert result.state is RunState.FAILED
    states = task_states(tmp_path / ".uet" / "runs.db", result.run_id)
    assert states["t"] == ("failed", "timed out after 1 s")
    assert len(_attempt_rows(tmp_path / ".uet" / "runs.db", result.run_id)) == 2
    assert len(sleeps) == 1


def test_open_breaker_stops_retries(tmp_path: Path) -> None:
    path = write_workspace(
        tmp_path,
        [{"task_id": "t", "kind": "flaky", "program": ["flaky", "10", "75"]}],
        router=_router(
            retry={"retryable_exit_codes": [75], "max_attempts": 5},
            circuit_breaker={"failure_threshold": 2, "recovery_timeout_seconds": 3600},
        ),
    )
    sleeps: list[float] = []
    result = _run(path, sleep=sleeps.append)
    assert result.state is RunState.FAILED
    # Two failures open the circuit; the third attempt is never made.
    assert [row[0] for row in _attempt_rows(tmp_path / ".uet" / "runs.db", result.run_id)] == [1, 2]
    assert len(sleeps) == 1


def test_breaker_state_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / ".uet" / "runs.db"
    router = _router(circuit_breaker={"failure_threshold": 2, "recovery_timeout_seconds": 60})
    failing = [{"task_id": f"f{i}", "kind": "flaky", "program": ["fail"]} for i in range(2)]
    now = [1000.0]
    first = _run(
        write_workspace(tmp_path, failing, router=router, strategy="continue"), clock=lambda: now[0]
    )
    assert first.state is RunState.FAILED
    connection = sqlite3.connect(db)
    row = connection.execute(
        "SELECT state, failure_count, opened_at FROM circuit_breakers"
    ).fetchone()
    connection.close()
    assert row == ("open", 2, 1000.0)

    # A new run (a new engine) still sees the open circuit: the task is refused unrun.
    ok_task = [{"task_id": "ok", "kind": "flaky", "program": ["sleep", "0"]}]
    refused = _run(write_workspace(tmp_path, ok_task, router=router), clock=lambda: now[0] + 30)
    assert refused.state is RunState.FAILED
    assert (
        task_states(db, refused.run_id)["ok"][1]
        == "circuit open for app 'flaky-app'; not calling it"
    )
    assert not [entry for entry in journal(tmp_path) if entry[1] == "ok"]

    # After the recovery timeout one trial goes through; its success closes the circuit.
    healed = _run(write_workspace(tmp_path, ok_task, router=router), clock=lambda: now[0] + 61)
    assert healed.state is RunState.SUCCEEDED
    connection = sqlite3.connect(db)
    row = connection.execute("SELECT state, failure_count FROM circuit_breakers").fetchone()
    kinds = [
        r[0]
        for r in connection.execute(
            "SELECT payload_json FROM run_events WHERE kind = 'circuit_state_changed'"
            " ORDER BY event_id"
        )
    ]
    connection.close()
    assert row == ("closed", 0)
    assert [
        '"to":"open"' in kinds[0],
        '"to":"half_open"' in kinds[1],
        '"to":"closed"' in kinds[2],
    ] == [True] * 3
    check_run_artifacts(db, healed.run_id)
